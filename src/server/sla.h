/*
 * sla.h - the in-process SLA scheduler: one due time per escalation id, kept
 * in a min-heap with an id index, so the earliest breach is O(1) to read and
 * set/cancel/pop are O(log n). The store persists the timers and reloads
 * them at start; this only orders them. Not thread-safe: one owner (or the
 * caller's lock).
 */
#ifndef SG_SERVER_SLA_H
#define SG_SERVER_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SG_SLA_ID_MAX 64 /* escalation id, NUL included */

struct sg_sla_timer {
	int64_t due_ms;
	char id[SG_SLA_ID_MAX];
};

struct sg_sla {
	struct sg_sla_timer *heap; /* heap[0] is the earliest */
	size_t n, cap;
	size_t *slot;    /* open-addressing index: id -> heap position + 1 */
	size_t nslot;    /* power of two, 0 before the first set */
	size_t ndeleted; /* tombstones in slot[] */
};

void sg_sla_init(struct sg_sla *s);
void sg_sla_release(struct sg_sla *s);

/* Adds the timer or moves an existing one to a new due time. 0,
 * -SG_EINVALID (empty or too long id), -SG_ELIMIT (SG_MAX_SLA_TIMERS) or
 * -SG_ENOMEM. */
int sg_sla_set(struct sg_sla *s, const char *id, int64_t due_ms,
	       struct sg_error *err);
/* 1 when the timer existed and was removed, 0 when there was none. */
int sg_sla_cancel(struct sg_sla *s, const char *id);
/* 1 and *out = the earliest due time, or 0 when empty. */
int sg_sla_next_due(const struct sg_sla *s, int64_t *out);
/* Removes the earliest timer with due_ms <= now_ms into *out: 1, or 0 when
 * nothing is due. Call in a loop to drain every breach. */
int sg_sla_pop_due(struct sg_sla *s, int64_t now_ms, struct sg_sla_timer *out);
size_t sg_sla_count(const struct sg_sla *s);

#endif
