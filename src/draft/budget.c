/*
 * budget.c - model budgets: tokens per session and sessions per UTC day,
 * counted from the backends' usage figures. Over budget is -SG_ELIMIT
 * with the reason; the caller turns it into summarize-only.
 */
#include "draft/draft.h"

#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/banned.h"

struct slot {
	char *session; /* NULL: free */
	uint64_t tokens;
};

struct sg_budget {
	pthread_mutex_t mu;
	uint64_t tokens_per_session;
	unsigned sessions_per_day;
	int64_t day;        /* UTC day number of the counts */
	unsigned sessions;  /* sessions started that day */
	struct slot *slots; /* open addressing, SG_MAX_BUDGET_SESSIONS */
};

int sg_budget_new(struct sg_budget **out, uint64_t tokens_per_session,
		  unsigned sessions_per_day, struct sg_error *err)
{
	*out = NULL;
	struct sg_budget *b = sg_calloc(1, sizeof(*b));
	if (!b || !(b->slots = sg_calloc(SG_MAX_BUDGET_SESSIONS, sizeof(*b->slots)))) {
		sg_free(b);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&b->mu, NULL);
	b->tokens_per_session = tokens_per_session;
	b->sessions_per_day = sessions_per_day;
	b->day = -1;
	*out = b;
	return 0;
}

static void reset(struct sg_budget *b)
{
	for (size_t i = 0; i < SG_MAX_BUDGET_SESSIONS; i++) {
		sg_free(b->slots[i].session);
		b->slots[i].session = NULL;
		b->slots[i].tokens = 0;
	}
	b->sessions = 0;
}

void sg_budget_free(struct sg_budget *b)
{
	if (!b)
		return;
	reset(b);
	sg_free(b->slots);
	pthread_mutex_destroy(&b->mu);
	sg_free(b);
}

/* The session's slot, or the free slot where it would go; NULL when full. */
static struct slot *find(struct sg_budget *b, const char *session)
{
	size_t h = sg_fnv1a64(session, strlen(session), 0) % SG_MAX_BUDGET_SESSIONS;
	for (size_t i = 0; i < SG_MAX_BUDGET_SESSIONS; i++) {
		struct slot *s = &b->slots[(h + i) % SG_MAX_BUDGET_SESSIONS];
		if (!s->session || !strcmp(s->session, session))
			return s;
	}
	return NULL;
}

static void roll_day(struct sg_budget *b, int64_t now_ms)
{
	int64_t day = now_ms / 86400000;
	if (day != b->day) {
		reset(b);
		b->day = day;
	}
}

int sg_budget_check(struct sg_budget *b, const char *session, int64_t now_ms,
		    struct sg_error *err)
{
	int rc = 0;
	pthread_mutex_lock(&b->mu);
	roll_day(b, now_ms);
	struct slot *s = find(b, session);
	if (!s) {
		rc = sg_error_set(err, SG_ELIMIT, "budget: more than %u sessions tracked today",
				  SG_MAX_BUDGET_SESSIONS);
		goto out;
	}
	if (!s->session) {
		if (b->sessions_per_day && b->sessions >= b->sessions_per_day) {
			rc = sg_error_set(err, SG_ELIMIT,
					  "budget: daily session budget exhausted (%u of %u sessions used today)",
					  b->sessions, b->sessions_per_day);
			goto out;
		}
		if (!(s->session = sg_strdup(session))) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto out;
		}
		b->sessions++;
	}
	if (b->tokens_per_session && s->tokens >= b->tokens_per_session)
		rc = sg_error_set(err, SG_ELIMIT,
				  "budget: token budget exhausted (%llu of %llu tokens used in session '%.64s')",
				  (unsigned long long)s->tokens,
				  (unsigned long long)b->tokens_per_session, session);
out:
	pthread_mutex_unlock(&b->mu);
	return rc;
}

void sg_budget_charge(struct sg_budget *b, const char *session, int64_t now_ms,
		      uint64_t tokens)
{
	pthread_mutex_lock(&b->mu);
	roll_day(b, now_ms);
	struct slot *s = find(b, session);
	if (s && s->session)
		s->tokens += tokens;
	else if (s && (s->session = sg_strdup(session))) {
		b->sessions++;
		s->tokens = tokens;
	}
	pthread_mutex_unlock(&b->mu);
}

uint64_t sg_budget_used(struct sg_budget *b, const char *session)
{
	pthread_mutex_lock(&b->mu);
	struct slot *s = find(b, session);
	uint64_t t = s && s->session ? s->tokens : 0;
	pthread_mutex_unlock(&b->mu);
	return t;
}
