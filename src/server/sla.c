/*
 * sla.c - SLA timers: a binary min-heap on due time plus an open-addressing
 * index from escalation id to heap position, kept in step on every swap.
 * Ties on due time are broken by id so the order is deterministic.
 */
#include "server/sla.h"

#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/banned.h"

#define TOMB ((size_t)-1)

void sg_sla_init(struct sg_sla *s)
{
	memset(s, 0, sizeof(*s));
}

void sg_sla_release(struct sg_sla *s)
{
	sg_free(s->heap);
	sg_free(s->slot);
	sg_sla_init(s);
}

size_t sg_sla_count(const struct sg_sla *s)
{
	return s->n;
}

static int before(const struct sg_sla_timer *a, const struct sg_sla_timer *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return strcmp(a->id, b->id) < 0;
}

static size_t hash_id(const char *id)
{
	return (size_t)sg_fnv1a64(id, strlen(id), 0);
}

/* Slot holding id, or the first free slot on its probe path (for insert)
 * when absent; *found says which. */
static size_t find_slot(const struct sg_sla *s, const char *id, int *found)
{
	size_t mask = s->nslot - 1, i = hash_id(id) & mask, free_at = TOMB;
	for (;;) {
		size_t v = s->slot[i];
		if (v == 0) {
			*found = 0;
			return free_at != TOMB ? free_at : i;
		}
		if (v == TOMB) {
			if (free_at == TOMB)
				free_at = i;
		} else if (strcmp(s->heap[v - 1].id, id) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
}

/* Rebuilds the index at `nslot` slots from the heap. */
static int reindex(struct sg_sla *s, size_t nslot)
{
	size_t *slot = sg_calloc(nslot, sizeof(*slot));
	if (!slot)
		return -SG_ENOMEM;
	sg_free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
	s->ndeleted = 0;
	for (size_t k = 0; k < s->n; k++) {
		int found;
		size_t i = find_slot(s, s->heap[k].id, &found);
		s->slot[i] = k + 1;
	}
	return 0;
}

/* Index slot of the timer at heap position k; the index must be consistent
 * with the heap when called. */
static size_t slot_of(const struct sg_sla *s, size_t k)
{
	int found;
	return find_slot(s, s->heap[k].id, &found);
}

static void swap(struct sg_sla *s, size_t a, size_t b)
{
	size_t ia = slot_of(s, a), ib = slot_of(s, b);
	struct sg_sla_timer t = s->heap[a];
	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->slot[ia] = b + 1;
	s->slot[ib] = a + 1;
}

static void sift_up(struct sg_sla *s, size_t k)
{
	while (k > 0) {
		size_t p = (k - 1) / 2;
		if (!before(&s->heap[k], &s->heap[p]))
			break;
		swap(s, k, p);
		k = p;
	}
}

static void sift_down(struct sg_sla *s, size_t k)
{
	for (;;) {
		size_t l = 2 * k + 1, r = l + 1, m = k;
		if (l < s->n && before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n && before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == k)
			break;
		swap(s, k, m);
		k = m;
	}
}

/* Removes heap position k, whose index slot the caller already cleared. */
static void remove_at(struct sg_sla *s, size_t k)
{
	size_t last = s->n - 1;
	if (k != last) {
		size_t il = slot_of(s, last);
		s->heap[k] = s->heap[last];
		s->slot[il] = k + 1;
	}
	s->n--;
	if (k < s->n) {
		sift_down(s, k);
		sift_up(s, k);
	}
}

int sg_sla_set(struct sg_sla *s, const char *id, int64_t due_ms,
	       struct sg_error *err)
{
	size_t idlen = strlen(id);
	if (idlen == 0 || idlen >= SG_SLA_ID_MAX)
		return sg_error_set(err, SG_EINVALID,
				    "sla timer id: expected 1 to %d bytes, got %zu",
				    SG_SLA_ID_MAX - 1, idlen);
	if (s->nslot) {
		int found;
		size_t i = find_slot(s, id, &found);
		if (found) {
			size_t k = s->slot[i] - 1;
			s->heap[k].due_ms = due_ms;
			sift_down(s, k);
			sift_up(s, k);
			return 0;
		}
	}
	if (s->n >= SG_MAX_SLA_TIMERS)
		return sg_error_set(err, SG_ELIMIT,
				    "sla timers: more than %u pending",
				    (unsigned)SG_MAX_SLA_TIMERS);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct sg_sla_timer *h = sg_realloc(s->heap, cap * sizeof(*h));
		if (!h)
			return sg_error_set(err, SG_ENOMEM, "sla timers: out of memory");
		s->heap = h;
		s->cap = cap;
	}
	/* Keep the index at most half full, tombstones included; a rebuild
	 * leaves it at most a quarter full and drops the tombstones. */
	if ((s->n + 1 + s->ndeleted) * 2 > s->nslot) {
		size_t nslot = s->nslot ? s->nslot : 128;
		while ((s->n + 1) * 4 > nslot)
			nslot *= 2;
		if (reindex(s, nslot))
			return sg_error_set(err, SG_ENOMEM, "sla timers: out of memory");
	}
	size_t k = s->n++;
	s->heap[k].due_ms = due_ms;
	memcpy(s->heap[k].id, id, idlen + 1);
	s->slot[slot_of(s, k)] = k + 1;
	sift_up(s, k);
	return 0;
}

int sg_sla_cancel(struct sg_sla *s, const char *id)
{
	if (!s->nslot || strlen(id) >= SG_SLA_ID_MAX)
		return 0;
	int found;
	size_t i = find_slot(s, id, &found);
	if (!found)
		return 0;
	size_t k = s->slot[i] - 1;
	s->slot[i] = TOMB;
	s->ndeleted++;
	remove_at(s, k);
	return 1;
}

int sg_sla_next_due(const struct sg_sla *s, int64_t *out)
{
	if (!s->n)
		return 0;
	*out = s->heap[0].due_ms;
	return 1;
}

int sg_sla_pop_due(struct sg_sla *s, int64_t now_ms, struct sg_sla_timer *out)
{
	if (!s->n || s->heap[0].due_ms > now_ms)
		return 0;
	*out = s->heap[0];
	sg_sla_cancel(s, out->id);
	return 1;
}
