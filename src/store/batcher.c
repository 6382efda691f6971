/*
 * batcher.c - group commit: a committer thread owns one store connection
 * and writes the queued ticket events of many callers in one transaction
 * (a savepoint each), then wakes each caller with its own result.
 */
#include "store/store.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/limits.h"
#include "store/store_int.h"
#include "core/banned.h"

/* ---- group commit ------------------------------------------------------ */

/* A queued write, on its caller's stack. The committer posts `done` once
 * the write's result is known; each caller sleeps on its own semaphore,
 * so finishing a batch wakes exactly its callers, and they do not fight
 * over the queue's lock to learn they were done. The wake-ups form a
 * binary tree: the committer posts the first caller only, and each woken
 * caller posts two more, so the committer goes on to the next batch at
 * once instead of paying one futex wake (and often a preemption by the
 * woken thread) per write, and a batch of n is woken in log2(n) steps. */
struct request {
	struct sg_ticket_write *w;
	struct sg_error err;
	int rc;
	sem_t done;
	struct request *next;
	struct request *again; /* the list write_batch_once walks */
	struct request *wake[2]; /* posted by this caller once it is woken */
};

struct sg_store_batcher {
	struct sg_store *s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;
	struct request *head, *tail;
	int stopping;
	unsigned max;
	/* written by the committer, read by anyone (statistics) */
	_Atomic unsigned long commits, writes, max_seen;
	unsigned long anchor_every, since_anchor;
};

static void fail_request(struct request *r, const struct sg_error *e, int rc)
{
	if (r->w->stored_decision) {
		sg_free(r->w->stored_decision);
		r->w->stored_decision = NULL;
	}
	r->w->existed = 0;
	r->rc = rc;
	if (!r->err.code)
		r->err = *e;
}

static void write_batch_once(struct sg_store_batcher *b, struct request *batch);

/* Writes one batch in one transaction; each request gets its own result.
 * On a multi-writer store, the writes that lost a race with another
 * process (a deadlock, say; rolled back to their savepoint) are written
 * again in a new transaction, the others having committed. */
static void write_batch(struct sg_store_batcher *b, struct request *batch)
{
	for (struct request *r = batch; r; r = r->next)
		r->again = r->next;
	write_batch_once(b, batch);
	if (!(b->s->ops->caps & SG_STORE_MULTI_WRITER))
		return;
	for (int attempt = 2; attempt <= SG_STORE_TX_TRIES; attempt++) {
		/* the losers, relinked through `again` */
		struct request *head = NULL, **tail = &head;
		for (struct request *r = batch; r; r = r->next)
			if (sg_store_retryable(b->s, r->rc)) {
				sg_free(r->w->stored_decision);
				r->w->stored_decision = NULL;
				r->w->existed = 0;
				r->rc = 0;
				sg_error_clear(&r->err);
				*tail = r;
				tail = &r->again;
			}
		*tail = NULL;
		if (!head)
			return;
		usleep(1000u * (unsigned)attempt);
		write_batch_once(b, head);
	}
}

static void write_batch_once(struct sg_store_batcher *b, struct request *batch)
{
	struct sg_store *s = b->s;
	struct sg_error err = SG_ERROR_INIT;
	int rc = s->ops->begin(s, &err);
	if (rc < 0) {
		for (struct request *r = batch; r; r = r->again)
			fail_request(r, &err, rc);
		return;
	}
	for (struct request *r = batch; r; r = r->again) {
		if ((rc = s->ops->savepoint(s, 0, &r->err)) < 0) {
			r->rc = rc;
			continue;
		}
		r->rc = sg_store_write_in_tx(s, r->w, &r->err);
		if (r->rc < 0) {
			struct sg_error sperr = SG_ERROR_INIT;
			if (s->ops->savepoint(s, 2, &sperr) < 0) {
				/* The transaction is unusable: give up on all. */
				s->ops->rollback(s, NULL);
				for (struct request *x = batch; x; x = x->again)
					fail_request(x, &sperr, -sperr.code);
				return;
			}
		} else if ((rc = s->ops->savepoint(s, 1, &r->err)) < 0) {
			r->rc = rc;
		} else if (!r->w->existed) {
			b->since_anchor++;
		}
	}
	/* The anchor rides in the batch's transaction; if it fails, the
	 * writes still commit and the next batch tries again. */
	int anchored = 0;
	if (b->anchor_every && b->since_anchor >= b->anchor_every &&
	    s->ops->savepoint(s, 0, NULL) == 0) {
		if (s->ops->audit_anchor(s, NULL) == 0)
			anchored = s->ops->savepoint(s, 1, NULL) == 0;
		else
			s->ops->savepoint(s, 2, NULL);
	}
	if ((rc = s->ops->commit(s, &err)) < 0) {
		s->ops->rollback(s, NULL);
		for (struct request *r = batch; r; r = r->again)
			if (r->rc == 0)
				fail_request(r, &err, rc);
		return;
	}
	b->commits++;
	if (anchored)
		b->since_anchor = 0;
}

static void *committer(void *arg)
{
	struct sg_store_batcher *b = arg;
	prctl(PR_SET_NAME, "sg-commit"); /* for top -H, perf, gdb */
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->head && !b->stopping)
			pthread_cond_wait(&b->work, &b->mu);
		if (!b->head)
			break;
		/* Take up to max requests; later arrivals wait for the next
		 * batch, which forms while this one is being fsynced. */
		struct request *batch = b->head, *last = batch;
		for (unsigned n = 1; n < b->max && last->next; n++)
			last = last->next;
		b->head = last->next;
		if (!b->head)
			b->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&b->mu);
		write_batch(b, batch);
		/* request i wakes 2i+1 and 2i+2: walk the list with a second
		 * cursor two steps per request */
		unsigned long n = 0;
		struct request *kid = batch->next;
		for (struct request *r = batch; r; r = r->next, n++) {
			r->wake[0] = kid;
			kid = kid ? kid->next : NULL;
			r->wake[1] = kid;
			kid = kid ? kid->next : NULL;
		}
		/* counted before any caller wakes, so a caller that has its
		 * answer also sees it in the statistics */
		atomic_fetch_add(&b->writes, n);
		if (n > atomic_load(&b->max_seen))
			atomic_store(&b->max_seen, n);
		sem_post(&batch->done); /* batch may be gone after this */
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

int sg_store_batcher_start(struct sg_store_batcher **out, struct sg_store *s,
			   unsigned max_batch, struct sg_error *err)
{
	*out = NULL;
	if (!(s->ops->caps & SG_STORE_SAVEPOINT))
		return sg_error_set(err, SG_EINVALID, "store '%s' has no savepoints for "
				    "group commit", s->ops->name);
	struct sg_store_batcher *b = sg_calloc(1, sizeof(*b));
	if (!b)
		return sg_error_set(err, SG_ENOMEM, "group commit: out of memory");
	b->s = s;
	b->anchor_every = SG_AUDIT_ANCHOR_EVERY;
	b->max = max_batch == 0 ? 1 : max_batch > SG_STORE_MAX_BATCH ? SG_STORE_MAX_BATCH : max_batch;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->work, NULL);
	if (pthread_create(&b->thread, NULL, committer, b)) {
		pthread_cond_destroy(&b->work);
		pthread_mutex_destroy(&b->mu);
		sg_free(b);
		return sg_error_set(err, SG_EINTERNAL, "group commit: cannot start a thread");
	}
	*out = b;
	return 0;
}

int sg_store_batcher_write(struct sg_store_batcher *b, struct sg_ticket_write *w,
			   struct sg_error *err)
{
	struct request r = {.w = w, .err = SG_ERROR_INIT};
	w->stored_decision = NULL;
	w->existed = 0;
	if (sem_init(&r.done, 0, 0))
		return sg_error_set(err, SG_EINTERNAL, "group commit: no semaphore");
	pthread_mutex_lock(&b->mu);
	if (b->stopping) {
		pthread_mutex_unlock(&b->mu);
		sem_destroy(&r.done);
		return sg_error_set(err, SG_EINVALID, "group commit is stopping");
	}
	/* The committer only sleeps when the queue is empty, so only the
	 * write that makes it non-empty needs to wake it. */
	int wake = !b->head;
	if (b->tail)
		b->tail->next = &r;
	else
		b->head = &r;
	b->tail = &r;
	if (wake)
		pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->mu);
	while (sem_wait(&r.done) != 0)
		; /* EINTR */
	/* the requests below this one in the wake tree are still waiting,
	 * so they are alive until posted */
	for (int i = 0; i < 2; i++)
		if (r.wake[i])
			sem_post(&r.wake[i]->done);
	sem_destroy(&r.done);
	if (r.rc < 0) {
		if (err && !err->code)
			*err = r.err;
		return r.rc;
	}
	return 0;
}

void sg_store_batcher_anchor_every(struct sg_store_batcher *b, unsigned long n)
{
	pthread_mutex_lock(&b->mu);
	b->anchor_every = n;
	pthread_mutex_unlock(&b->mu);
}

unsigned long sg_store_batcher_commits(const struct sg_store_batcher *b)
{
	return atomic_load(&b->commits);
}

void sg_store_batcher_stats(const struct sg_store_batcher *b, struct sg_store_batch_stats *out)
{
	out->commits = atomic_load(&b->commits);
	out->writes = atomic_load(&b->writes);
	out->max_batch = atomic_load(&b->max_seen);
}

void sg_store_batcher_stop(struct sg_store_batcher *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = 1;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->work);
	pthread_mutex_destroy(&b->mu);
	sg_free(b);
}
