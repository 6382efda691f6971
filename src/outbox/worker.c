/*
 * worker.c - the outbox delivery loop: claim due actions with a lease,
 * route each to its connector, send them concurrently on one libcurl
 * multi handle, classify the responses and record the outcomes (sent,
 * retry later, dead) with their audit records in one transaction per
 * round. Runs on its own thread inside `sopgate serve`, or to completion
 * for `sopgate outbox deliver` and the tests.
 */
#include "outbox/outbox.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"
#include "outbox/outbox_int.h"
#include "server/metrics.h"
#include "store/store.h"
#include "core/banned.h"

enum fate { F_SENT, F_RETRY, F_DEAD, F_SKIP };

struct job {
	int used;
	struct sg_outbox_item item; /* owned strings */
	json_t *payload;
	const struct sg_connector *c;
	struct sg_conn_item ci;
	struct sg_xfer x;
	uint64_t t0_ns;
};

struct outcome {
	struct sg_outbox_item item; /* owned strings, moved from the job */
	const char *connector;
	enum fate fate;
	int64_t retry_at_ms;
	int max_attempts;
	long status;
	double seconds;
	char reason[256];
	char external_id[128];
};

struct sg_outbox {
	struct sg_store *store;
	const struct sg_connectors *cs;
	char owner[128];
	FILE *log;
	CURLM *multi;
	struct job *jobs;
	int njobs, inflight;
	struct outcome *out;
	size_t nout;
	int64_t lease_ms;
	struct sg_metric *m_deliveries, *m_pending, *m_sent, *m_dead, *m_duration;
	int64_t gauges_at_ms;
	pthread_t th;
	int running;
	atomic_int stop;
	struct sg_outbox_stats life;
};

int64_t sg_outbox_backoff_ms(int attempts, int64_t base_ms, int64_t max_ms)
{
	int64_t d = base_ms > 0 ? base_ms : 1000;
	for (int i = 1; i < attempts && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	uint32_t r = 0;
	sg_random_bytes(&r, sizeof(r));
	/* "equal jitter": half fixed, half random, so workers that failed
	 * together do not come back together */
	return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
}

static void logf_(struct sg_outbox *ob, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct sg_outbox *ob, const char *fmt, ...)
{
	if (!ob->log)
		return;
	char ts[25];
	sg_time_iso(sg_now_ms(), ts);
	va_list ap;
	va_start(ap, fmt);
	fprintf(ob->log, "%s sopgate outbox: ", ts);
	vfprintf(ob->log, fmt, ap);
	fputc('\n', ob->log);
	va_end(ap);
	fflush(ob->log);
}

static int register_metrics(struct sg_outbox *ob, struct sg_metrics *reg, struct sg_error *err)
{
	static const char *const dl[] = {"connector", "outcome", NULL};
	static const char *const cl[] = {"connector", NULL};
	static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
	int rc;
	if ((rc = sg_metrics_counter(&ob->m_deliveries, reg, "sopgate_outbox_deliveries_total",
				     "Outbox delivery attempts by connector and outcome (sent, "
				     "retry, dead, skipped).", dl, err)) < 0 ||
	    (rc = sg_metrics_gauge(&ob->m_pending, reg, "sopgate_outbox_pending",
				   "Outbox actions waiting for delivery.", NULL, err)) < 0 ||
	    (rc = sg_metrics_gauge(&ob->m_sent, reg, "sopgate_outbox_sent",
				   "Outbox actions delivered.", NULL, err)) < 0 ||
	    (rc = sg_metrics_gauge(&ob->m_dead, reg, "sopgate_outbox_dead",
				   "Outbox actions in the dead letters (need an operator: "
				   "sopgate outbox list --state dead).", NULL, err)) < 0 ||
	    (rc = sg_metrics_histogram(&ob->m_duration, reg,
				       "sopgate_outbox_delivery_duration_seconds",
				       "Time from sending an outbox action to its response.", cl,
				       bounds, sizeof(bounds) / sizeof(bounds[0]), err)) < 0)
		return rc;
	return 0;
}

static void update_gauges(struct sg_outbox *ob, int force)
{
	int64_t now = sg_now_ms();
	if (!ob->m_pending || (!force && now - ob->gauges_at_ms < 2000))
		return;
	ob->gauges_at_ms = now;
	struct sg_error err = SG_ERROR_INIT;
	long n;
	if (sg_store_outbox_count(ob->store, "pending", &n, &err) == 0)
		sg_metric_set(ob->m_pending, NULL, (double)n);
	if (sg_store_outbox_count(ob->store, "sent", &n, &err) == 0)
		sg_metric_set(ob->m_sent, NULL, (double)n);
	if (sg_store_outbox_count(ob->store, "dead", &n, &err) == 0)
		sg_metric_set(ob->m_dead, NULL, (double)n);
}

int sg_outbox_new(struct sg_outbox **out, const char *store_url,
		  const struct sg_connectors *cs, const struct sg_outbox_options *o,
		  struct sg_error *err)
{
	int rc;
	char writer[160];
	*out = NULL;
	struct sg_outbox *ob = sg_calloc(1, sizeof(*ob));
	if (!ob)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	ob->cs = cs;
	ob->log = o ? o->log : NULL;
	snprintf(ob->owner, sizeof(ob->owner), "%s", o && o->owner ? o->owner : "outbox");
	snprintf(writer, sizeof(writer), "outbox-%s", ob->owner);
	ob->njobs = cs->concurrency;
	/* a lease shorter than a request could hand an action still in flight
	 * to another worker: keep it above every connector's timeout (a
	 * transfer never outlives it), with room to record the outcome */
	ob->lease_ms = cs->lease_ms;
	for (size_t i = 0; i < cs->n; i++)
		if (ob->lease_ms < cs->v[i].cfg.timeout_ms + 5000)
			ob->lease_ms = cs->v[i].cfg.timeout_ms + 5000;
	if (!(ob->jobs = sg_calloc((size_t)ob->njobs, sizeof(*ob->jobs))) ||
	    !(ob->out = sg_calloc((size_t)ob->njobs, sizeof(*ob->out)))) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* once per process, before any thread uses libcurl (reference counted) */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(ob->multi = curl_multi_init())) {
		rc = sg_error_set(err, SG_ENOMEM, "libcurl: cannot make a multi handle");
		goto cleanup;
	}
	curl_multi_setopt(ob->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)ob->njobs);
	if ((rc = sg_store_open(&ob->store, store_url, writer, err)) < 0)
		goto cleanup;
	if (o && o->metrics && (rc = register_metrics(ob, o->metrics, err)) < 0)
		goto cleanup;
	update_gauges(ob, 1);
	*out = ob;
	return 0;
cleanup:
	sg_outbox_free(ob);
	return rc;
}

static void item_release(struct sg_outbox_item *it)
{
	sg_free(it->ticket_id);
	sg_free(it->kind);
	sg_free(it->target);
	sg_free(it->payload);
	sg_free(it->idem_key);
	memset(it, 0, sizeof(*it));
}

static void job_release(struct sg_outbox *ob, struct job *j)
{
	if (j->x.h) {
		curl_multi_remove_handle(ob->multi, j->x.h);
		ob->inflight--;
	}
	sg_xfer_release(&j->x);
	json_decref(j->payload);
	item_release(&j->item);
	memset(j, 0, sizeof(*j));
}

void sg_outbox_free(struct sg_outbox *ob)
{
	if (!ob)
		return;
	sg_outbox_stop(ob, 0);
	for (int i = 0; ob->jobs && i < ob->njobs; i++)
		if (ob->jobs[i].used)
			job_release(ob, &ob->jobs[i]);
	for (size_t i = 0; i < ob->nout; i++)
		item_release(&ob->out[i].item);
	if (ob->multi)
		curl_multi_cleanup(ob->multi);
	sg_store_close(ob->store);
	sg_free(ob->jobs);
	sg_free(ob->out);
	sg_free(ob);
}

/* Moves a job's item into the outcome list and frees the job. */
static struct outcome *settle(struct sg_outbox *ob, struct job *j, enum fate f,
			      const char *reason)
{
	struct outcome *o = &ob->out[ob->nout++];
	memset(o, 0, sizeof(*o));
	o->item = j->item;
	memset(&j->item, 0, sizeof(j->item));
	o->connector = j->c ? j->c->cfg.name : "none";
	o->fate = f;
	o->max_attempts = j->c && j->c->cfg.max_attempts > 0 ? j->c->cfg.max_attempts
							    : ob->cs->max_attempts;
	snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
	job_release(ob, j);
	return o;
}

/* Parses, routes and builds one claimed action; starts its transfer or
 * settles it at once (nothing to deliver, or undeliverable). */
static void start(struct sg_outbox *ob, struct job *j)
{
	struct sg_error err = SG_ERROR_INIT;
	const char *why = NULL;
	json_error_t je;
	j->payload = json_loads(j->item.payload, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j->payload)) {
		char msg[256];
		snprintf(msg, sizeof(msg), "payload is not a JSON object (%s)", je.text);
		settle(ob, j, F_DEAD, msg);
		return;
	}
	j->ci.id = j->item.id;
	j->ci.ticket_id = j->item.ticket_id;
	j->ci.kind = j->item.kind;
	j->ci.payload = j->payload;
	j->ci.idem_key = j->item.idem_key;
	j->ci.attempts = j->item.attempts;
	j->c = sg_connectors_route(ob->cs, &j->ci, &why);
	if (!j->c) {
		settle(ob, j, why ? F_DEAD : F_SKIP, why ? why : "nothing to deliver");
		return;
	}
	if (sg_conn_build(&j->x.req, j->c, &j->ci, &err) < 0 || sg_xfer_setup(&j->x, &err) < 0) {
		settle(ob, j, err.code == SG_EINVALID ? F_DEAD : F_RETRY, err.msg);
		return;
	}
	if (curl_multi_add_handle(ob->multi, j->x.h) != CURLM_OK) {
		sg_xfer_release(&j->x);
		settle(ob, j, F_RETRY, "libcurl: cannot start the transfer");
		return;
	}
	ob->inflight++;
	j->t0_ns = sg_mono_ns();
}

/* Claims up to the free slots; returns how many were claimed. */
static size_t claim(struct sg_outbox *ob, struct sg_error *err)
{
	unsigned free_slots = (unsigned)(ob->njobs - ob->inflight) - (unsigned)ob->nout;
	if ((int)free_slots <= 0 || ob->nout + free_slots > (size_t)ob->njobs)
		return 0;
	struct sg_outbox_item *items = NULL;
	size_t n = 0;
	if (sg_store_outbox_claim(ob->store, ob->owner, sg_now_ms(), ob->lease_ms, free_slots,
				  &items, &n, err) < 0)
		return 0;
	size_t k = 0;
	for (int i = 0; i < ob->njobs && k < n; i++) {
		struct job *j = &ob->jobs[i];
		if (j->used)
			continue;
		memset(j, 0, sizeof(*j));
		j->used = 1;
		j->item = items[k];
		memset(&items[k], 0, sizeof(items[k]));
		k++;
		start(ob, j);
	}
	/* (k == n always: free_slots bounded the claim) */
	sg_store_outbox_items_free(items, n);
	return n;
}

/* Collects finished transfers into outcomes. */
static void reap(struct sg_outbox *ob)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(ob->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct sg_xfer *x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		struct job *j = NULL;
		for (int i = 0; i < ob->njobs; i++)
			if (ob->jobs[i].used && &ob->jobs[i].x == x)
				j = &ob->jobs[i];
		if (!j)
			continue;
		struct sg_conn_response resp;
		struct sg_conn_result res;
		sg_xfer_response(&j->x, m->data.result, &resp);
		sg_conn_classify(&res, j->c, &j->ci, &resp);
		double secs = (double)(sg_mono_ns() - j->t0_ns) / 1e9;
		int64_t max_backoff = ob->cs->max_backoff_ms;
		enum fate f = res.outcome == SG_CONN_DONE ? F_SENT
			      : res.outcome == SG_CONN_FAIL ? F_DEAD : F_RETRY;
		long status = resp.status;
		const char *cname = j->c->cfg.name;
		struct outcome *o = settle(ob, j, f, res.reason);
		o->status = status;
		o->seconds = secs;
		snprintf(o->external_id, sizeof(o->external_id), "%s", res.external_id);
		if (f == F_RETRY) {
			int64_t d = res.retry_after_ms >= 0
				    ? res.retry_after_ms
				    : sg_outbox_backoff_ms(o->item.attempts, ob->cs->backoff_ms,
							   max_backoff);
			if (d > max_backoff)
				d = max_backoff;
			o->retry_at_ms = sg_now_ms() + d;
		}
		if (ob->m_duration) {
			const char *v[] = {cname};
			sg_metric_observe(ob->m_duration, v, secs);
		}
	}
}

static const char *fate_name(enum fate f)
{
	static const char *const n[] = {"sent", "retry", "dead", "skipped"};
	return n[f];
}

static void audit_body(struct sg_buf *b, const struct outcome *o, enum fate f)
{
	json_t *j = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:i, s:s, s:s}", "outbox_id", o->item.id,
			      "kind", o->item.kind, "target", o->item.target, "connector",
			      o->connector, "idem_key", o->item.idem_key, "attempts",
			      o->item.attempts, "outcome", fate_name(f), "detail", o->reason);
	if (j && o->status)
		json_object_set_new(j, "status", json_integer(o->status));
	if (j && o->external_id[0])
		json_object_set_new(j, "external_id", json_string(o->external_id));
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	sg_buf_reset(b);
	sg_buf_adds(b, s ? s : "{}");
	sg_free(s);
	json_decref(j);
}

/* Records every outcome in one transaction (with the audit records of
 * deliveries and dead letters), then counts and logs them. */
static int record(struct sg_outbox *ob, struct sg_outbox_stats *st, struct sg_error *err)
{
	if (!ob->nout)
		return 0;
	int rc;
	struct sg_buf body = SG_BUF_INIT;
	enum fate final[256];
	if ((rc = sg_store_begin(ob->store, err)) < 0)
		return rc;
	for (size_t i = 0; i < ob->nout; i++) {
		struct outcome *o = &ob->out[i];
		struct sg_error e = SG_ERROR_INIT;
		enum fate f = o->fate;
		if (f == F_RETRY && o->item.attempts >= o->max_attempts)
			f = F_DEAD;
		final[i] = f;
		if (f == F_SENT || f == F_SKIP)
			rc = sg_store_outbox_done(ob->store, o->item.id, ob->owner, &e);
		else
			rc = sg_store_outbox_fail(ob->store, o->item.id, ob->owner,
						  f == F_DEAD ? sg_now_ms() : o->retry_at_ms,
						  f == F_DEAD ? 1 : o->max_attempts, o->reason, &e);
		if (rc == -SG_ECONFLICT) {
			/* the lease expired and another worker took it: its outcome wins */
			final[i] = (enum fate)-1;
			continue;
		}
		if (rc < 0) {
			sg_error_set(err, e.code, "%s", e.msg);
			goto fail;
		}
		if (f == F_SENT || f == F_DEAD) {
			audit_body(&body, o, f);
			if (body.oom) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto fail;
			}
			if ((rc = sg_store_outbox_audit(ob->store, "outbox",
							      f == F_SENT ? "outbox.sent" : "outbox.dead",
							      o->item.ticket_id, body.data, err)) < 0)
				goto fail;
		}
	}
	if ((rc = sg_store_commit(ob->store, err)) < 0)
		goto fail;
	for (size_t i = 0; i < ob->nout; i++) {
		struct outcome *o = &ob->out[i];
		if ((int)final[i] < 0)
			continue;
		const char *v[] = {o->connector, fate_name(final[i])};
		if (ob->m_deliveries)
			sg_metric_inc(ob->m_deliveries, v);
		switch (final[i]) {
		case F_SENT: st->sent++; break;
		case F_SKIP: st->skipped++; break;
		case F_RETRY:
			st->retried++;
			logf_(ob, "action %s (%s, ticket %s) via %s failed, attempt %d of %d, "
			      "retrying: %s", o->item.id, o->item.kind, o->item.ticket_id,
			      o->connector, o->item.attempts, o->max_attempts, o->reason);
			break;
		case F_DEAD:
			st->dead++;
			logf_(ob, "ALERT: action %s (%s, ticket %s) via %s is a dead letter after "
			      "%d attempt(s): %s; see `sopgate outbox list --state dead`",
			      o->item.id, o->item.kind, o->item.ticket_id, o->connector,
			      o->item.attempts, o->reason);
			break;
		}
		item_release(&o->item);
	}
	ob->nout = 0;
	sg_buf_release(&body);
	update_gauges(ob, 0);
	return 0;
fail: {
	struct sg_error ignored = SG_ERROR_INIT;
	sg_store_rollback(ob->store, &ignored);
	/* the outcomes stay queued and are recorded on the next round; if
	 * the process dies first, the leases expire and the actions are
	 * sent again (at least once) */
	sg_buf_release(&body);
	return rc;
}
}

/* One turn: claim (when asked and there is room), drive transfers for up
 * to wait_ms, reap, record. Returns the number claimed, or an error. */
static int turn(struct sg_outbox *ob, int do_claim, int wait_ms, struct sg_outbox_stats *st,
		struct sg_error *err)
{
	size_t claimed = 0;
	int running = 0, rc;
	if (do_claim) {
		claimed = claim(ob, err);
		if (err->code)
			return -err->code;
		st->claimed += claimed;
	}
	curl_multi_perform(ob->multi, &running);
	/* wait only while every transfer is still running: one that already
	 * finished is reaped now, not after the poll times out */
	if (ob->inflight > 0 && !ob->nout && running == ob->inflight)
		curl_multi_poll(ob->multi, NULL, 0, wait_ms, NULL);
	curl_multi_perform(ob->multi, &running);
	reap(ob);
	if ((rc = record(ob, st, err)) < 0)
		return rc;
	return (int)claimed;
}

int sg_outbox_run(struct sg_outbox *ob, unsigned max_rounds, struct sg_outbox_stats *stats,
		  struct sg_error *err)
{
	unsigned rounds = 0;
	int more = 1;
	for (;;) {
		int can = more && (!max_rounds || rounds < max_rounds);
		/* a claim that finds nothing while nothing is in flight means
		 * nothing is due (an outcome recorded in the same turn may be
		 * due at once: claim again) */
		int idle = ob->inflight == 0 && ob->nout == 0;
		int n = turn(ob, can, 100, stats, err);
		if (n < 0)
			return n;
		if (can) {
			rounds++;
			if (n == 0 && idle)
				more = 0;
		} else {
			more = 0;
		}
		if (!more && ob->inflight == 0 && ob->nout == 0)
			break;
	}
	update_gauges(ob, 1);
	return 0;
}

static void *thread_main(void *arg)
{
	struct sg_outbox *ob = arg;
	int64_t next_claim = 0;
	while (!atomic_load(&ob->stop)) {
		struct sg_error err = SG_ERROR_INIT;
		int64_t now = sg_now_ms();
		int do_claim = now >= next_claim && ob->inflight < ob->njobs;
		int n = turn(ob, do_claim, (int)(ob->cs->poll_ms < 200 ? ob->cs->poll_ms : 200),
			     &ob->life, &err);
		if (n < 0) {
			logf_(ob, "%s", err.msg);
			next_claim = now + ob->cs->poll_ms;
		} else if (do_claim) {
			/* a full claim means more may be due: look again at once */
			next_claim = n > 0 ? now : now + ob->cs->poll_ms;
		}
		update_gauges(ob, 0); /* at most every 2 s */
		if (ob->inflight == 0 && !do_claim) {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int sg_outbox_start(struct sg_outbox *ob, struct sg_error *err)
{
	if (ob->running)
		return 0;
	atomic_store(&ob->stop, 0);
	if (pthread_create(&ob->th, NULL, thread_main, ob) != 0)
		return sg_error_set(err, SG_EINTERNAL, "cannot start the outbox thread");
	ob->running = 1;
	return 0;
}

void sg_outbox_stop(struct sg_outbox *ob, int64_t wait_ms)
{
	if (!ob || !ob->running)
		return;
	atomic_store(&ob->stop, 1);
	pthread_join(ob->th, NULL);
	ob->running = 0;
	/* finish what is in flight, within wait_ms */
	int64_t until = sg_now_ms() + wait_ms;
	while ((ob->inflight > 0 || ob->nout > 0) && sg_now_ms() < until) {
		struct sg_error err = SG_ERROR_INIT;
		if (turn(ob, 0, 100, &ob->life, &err) < 0)
			break;
	}
}
