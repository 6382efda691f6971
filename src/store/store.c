/*
 * store.c - the public storage wrappers: URL dispatch to a backend, the
 * transactions around multi-step operations, the audit records written
 * with each of them, user tokens, and the group committer. Everything
 * backend-specific is behind the ops table (store_int.h).
 */
#include "store/store.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "store/store_int.h"
#include "core/banned.h"

int sg_store_check_name(const char *what, const char *s, struct sg_error *err)
{
	if (!s || !s[0])
		return sg_error_set(err, SG_EINVALID, "%s is missing", what);
	size_t n = strlen(s);
	if (n > SG_MAX_ID_BYTES)
		return sg_error_set(err, SG_EINVALID, "%s is too long (%zu bytes, at most %u)",
				    what, n, (unsigned)SG_MAX_ID_BYTES);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sg_error_set(err, SG_EINVALID,
					    "%s contains a control character at byte %zu", what, i);
	return 0;
}

int sg_store_open(struct sg_store **out, const char *url, const char *writer,
		  struct sg_error *err)
{
	*out = NULL;
	const struct sg_store_ops *ops = NULL;
	const char *target = NULL;
	if (!writer)
		writer = "main";
	int rc = sg_store_check_name("writer name", writer, err);
	if (rc < 0)
		return rc;
	if (strlen(writer) >= sizeof(((struct sg_audit_record *)0)->chain) ||
	    !strcmp(writer, SG_AUDIT_ANCHOR_CHAIN))
		return sg_error_set(err, SG_EINVALID,
				    "writer name '%s' is reserved or too long", writer);
	if (!url || !url[0])
		return sg_error_set(err, SG_EINVALID, "no store given (sqlite:FILE)");
	if (!strncmp(url, "sqlite:", 7)) {
		ops = &sg_store_sqlite_ops;
		target = url + 7;
	} else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
		ops = &sg_store_postgres_ops;
		target = url; /* libpq reads the whole URL */
	} else {
		return sg_error_set(err, SG_EINVALID,
				    "store '%s': unknown scheme (expected sqlite:FILE "
				    "or postgres://...)", url);
	}
	if (!target[0])
		return sg_error_set(err, SG_EINVALID, "store '%s': no file name", url);
	if (ops->version != SG_STORE_OPS_VERSION)
		return sg_error_set(err, SG_EINTERNAL, "store backend '%s' has ops version "
				    "%u, expected %u", ops->name, ops->version,
				    SG_STORE_OPS_VERSION);
	struct sg_store *s = NULL;
	if ((rc = ops->open(&s, target, writer, err)) < 0)
		return rc;
	const char *trace = getenv("SOPGATE_STORE_TRACE");
	if (trace && trace[0])
		return sg_store_trace_wrap(out, s, trace, err);
	*out = s;
	return 0;
}

int sg_store_open_existing(struct sg_store **out, const char *url,
			   const char *writer, struct sg_error *err)
{
	*out = NULL;
	if (url && !strncmp(url, "sqlite:", 7) && url[7] && access(url + 7, F_OK) != 0)
		return sg_error_set(err, SG_ENOTFOUND, "database '%s' does not exist", url + 7);
	return sg_store_open(out, url, writer, err);
}

/* ---- connection pool ---------------------------------------------------- */

struct sg_store_pool {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	unsigned n, nfree;
	struct sg_store *all[SG_STORE_POOL_MAX];
	struct sg_store *free[SG_STORE_POOL_MAX];
};

int sg_store_pool_open(struct sg_store_pool **out, const char *url, const char *writer,
		       unsigned n, struct sg_error *err)
{
	*out = NULL;
	if (n < 1 || n > SG_STORE_POOL_MAX)
		return sg_error_set(err, SG_EINVALID, "store pool of %u connections: expected "
				    "1 to %d", n, SG_STORE_POOL_MAX);
	if (!writer)
		writer = "main";
	struct sg_store_pool *p = sg_calloc(1, sizeof(*p));
	if (!p)
		return sg_error_set(err, SG_ENOMEM, "store pool: out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (unsigned i = 0; i < n; i++) {
		char name[80];
		snprintf(name, sizeof(name), "%.60s-%u", writer, i + 1);
		int rc = sg_store_open_existing(&p->all[i], url, name, err);
		if (rc < 0) {
			sg_store_pool_close(p);
			return rc;
		}
		p->free[p->nfree++] = p->all[i];
		p->n++;
	}
	*out = p;
	return 0;
}

struct sg_store *sg_store_pool_get(struct sg_store_pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0)
		pthread_cond_wait(&p->freed, &p->mu);
	struct sg_store *s = p->free[--p->nfree];
	pthread_mutex_unlock(&p->mu);
	return s;
}

void sg_store_pool_put(struct sg_store_pool *p, struct sg_store *s)
{
	pthread_mutex_lock(&p->mu);
	p->free[p->nfree++] = s;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

void sg_store_pool_close(struct sg_store_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++)
		sg_store_close(p->all[i]);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->mu);
	sg_free(p);
}

void sg_store_close(struct sg_store *s)
{
	if (s)
		s->ops->close(s);
}

const char *sg_store_backend(const struct sg_store *s)
{
	return s->ops->name;
}

int sg_store_schema_version(struct sg_store *s, int *out, struct sg_error *err)
{
	return s->ops->schema_version(s, out, err);
}

int sg_store_begin(struct sg_store *s, struct sg_error *err) { return s->ops->begin(s, err); }
int sg_store_commit(struct sg_store *s, struct sg_error *err) { return s->ops->commit(s, err); }
int sg_store_rollback(struct sg_store *s, struct sg_error *err) { return s->ops->rollback(s, err); }

int sg_store_retryable(const struct sg_store *s, int rc)
{
	return rc == -SG_ECONFLICT && (s->ops->caps & SG_STORE_MULTI_WRITER);
}

/* Runs fn(s, arg) inside BEGIN ... COMMIT, rolling back on any failure. */
int sg_store_in_tx(struct sg_store *s, int (*fn)(struct sg_store *, void *, struct sg_error *),
		    void *arg, struct sg_error *err)
{
	int rc;
	for (int attempt = 1;; attempt++) {
		if ((rc = s->ops->begin(s, err)) < 0)
			return rc;
		if ((rc = fn(s, arg, err)) < 0 || (rc = s->ops->commit(s, err)) < 0)
			s->ops->rollback(s, NULL);
		if (rc == 0 || !sg_store_retryable(s, rc) || attempt >= SG_STORE_TX_TRIES)
			return rc;
		sg_error_clear(err);
		usleep(1000u * (unsigned)attempt);
	}
}

/* ---- JSON helpers ------------------------------------------------------ */

static int dump_cb(const char *buf, size_t size, void *data)
{
	sg_buf_add(data, buf, size);
	return ((struct sg_buf *)data)->oom ? -1 : 0;
}

/* Appends v as compact sorted-key JSON. */
static int dump(struct sg_buf *b, const json_t *v, struct sg_error *err)
{
	if (json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_SORT_KEYS |
			       JSON_ENCODE_ANY) < 0 || b->oom)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	return 0;
}

int sg_store_json_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, v ? json_string(v) : json_null());
}

int sg_store_append_audit(struct sg_store *s, const char *actor, const char *action,
			  const char *ticket_id, json_t *body, struct sg_error *err)
{
	struct sg_buf b = SG_BUF_INIT;
	int rc = dump(&b, body, err);
	if (rc < 0)
		goto cleanup;
	struct sg_audit_record r = {0};
	snprintf(r.actor, sizeof(r.actor), "%s", actor ? actor : "");
	snprintf(r.action, sizeof(r.action), "%s", action);
	snprintf(r.ticket_id, sizeof(r.ticket_id), "%s", ticket_id ? ticket_id : "");
	r.body = b.data;
	rc = s->ops->audit_append(s, &r, err);
cleanup:
	sg_buf_release(&b);
	return rc;
}

/* ---- ticket events ----------------------------------------------------- */

static int check_write(const struct sg_ticket_write *w, struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("ticket_id", w->ticket_id, err)) < 0 ||
	    (rc = sg_store_check_name("event_id", w->event_id, err)) < 0)
		return rc;
	const char *need[][2] = {{"event_json", w->event_json},
				 {"decision_json", w->decision_json},
				 {"gate", w->gate}, {"risk_tier", w->risk_tier},
				 {"intent", w->intent}, {"queue", w->queue},
				 {"policy_version", w->policy_version}};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i][1])
			return sg_error_set(err, SG_EINVALID, "ticket '%s': %s is missing",
					    w->ticket_id, need[i][0]);
	return 0;
}

/* The event, decision, ticket, outbox and audit record, in the caller's
 * transaction. */
int sg_store_write_in_tx(struct sg_store *s, struct sg_ticket_write *w,
			 struct sg_error *err)
{
	struct sg_buf body = SG_BUF_INIT;
	w->existed = 0;
	w->stored_decision = NULL;
	w->decision_id[0] = 0;
	int rc = check_write(w, err);
	if (rc < 0)
		return rc;
	/* The decision comes from sopgate's own encoder, so it is not parsed
	 * again here (that would double the cost of a write); a cheap check
	 * catches a caller passing something else. */
	const char *d = w->decision_json;
	size_t n = strlen(d);
	while (n && (d[n - 1] == ' ' || d[n - 1] == '\n'))
		n--;
	if (n < 2 || d[0] != '{' || d[n - 1] != '}')
		return sg_error_set(err, SG_EJSON, "ticket '%s': the decision is not a "
				    "JSON object", w->ticket_id);
	if ((rc = s->ops->ticket_write(s, w, err)) < 0 || w->existed)
		goto cleanup;
	/* keys in sorted order, like every other audit body */
	sg_buf_adds(&body, "{\"decision\":");
	sg_buf_add(&body, d, n);
	sg_buf_adds(&body, ",\"decision_id\":");
	sg_buf_add_json_str(&body, w->decision_id, strlen(w->decision_id));
	sg_buf_adds(&body, ",\"event_id\":");
	sg_buf_add_json_str(&body, w->event_id, strlen(w->event_id));
	sg_buf_addc(&body, '}');
	if (body.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "audit: out of memory");
		goto cleanup;
	}
	struct sg_audit_record r = {0};
	snprintf(r.actor, sizeof(r.actor), "sopgate");
	snprintf(r.action, sizeof(r.action), "decision");
	snprintf(r.ticket_id, sizeof(r.ticket_id), "%s", w->ticket_id);
	r.body = body.data;
	rc = s->ops->audit_append(s, &r, err);
cleanup:
	sg_buf_release(&body);
	if (rc < 0) {
		sg_free(w->stored_decision);
		w->stored_decision = NULL;
		w->existed = 0;
	}
	return rc;
}

static int write_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	return sg_store_write_in_tx(s, arg, err);
}

int sg_store_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			  struct sg_error *err)
{
	int rc = sg_store_in_tx(s, write_fn, w, err);
	if (rc < 0 && w->stored_decision) {
		sg_free(w->stored_decision);
		w->stored_decision = NULL;
		w->existed = 0;
	}
	return rc;
}

int sg_store_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
			     struct sg_error *err)
{
	*out = NULL;
	int rc = sg_store_check_name("ticket_id", ticket_id, err);
	return rc < 0 ? rc : s->ops->ticket_decision(s, ticket_id, out, err);
}

/* ---- read views --------------------------------------------------------- */

int sg_store_view(struct sg_store *s, enum sg_store_view v, const char *key,
		  sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	if ((int)v < 0 || v >= SG_STORE_VIEW__COUNT)
		return sg_error_set(err, SG_EINVALID, "unknown store view %d", (int)v);
	if (!key)
		return sg_error_set(err, SG_EINVALID, "store view %d: no key", (int)v);
	return s->ops->view(s, v, key, fn, ctx, err);
}

int sg_store_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
			sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	static const struct sg_store_queue_filter any = {NULL, NULL, NULL};
	return s->ops->queue_scan(s, f ? f : &any, fn, ctx, err);
}

/* ---- human actions ----------------------------------------------------- */

static int human_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	struct sg_human_action *a = arg;
	int rc = s->ops->human_action(s, a, err);
	if (rc < 0)
		return rc;
	int send = strcmp(a->action, "reject") && a->step == 1;
	if (a->onboarding && send && (rc = s->ops->onboarding_bump(s, a->user, err)) < 0)
		return rc;
	if (a->needs_peer &&
	    (rc = s->ops->peer_review_add(s, a->decision_id, a->ticket_id, a->user,
					  a->onboarding_reason ? a->onboarding_reason
							       : "peer review",
					  a->now_ms ? a->now_ms : sg_now_ms(), err)) < 0)
		return rc;
	json_t *body = json_object();
	if (!body || sg_store_json_str(body, "decision_id", a->decision_id) ||
	    sg_store_json_str(body, "role", a->role) || sg_store_json_str(body, "note", a->note) ||
	    json_object_set_new(body, "step", json_integer(a->step)) ||
	    (a->onboarding_reason &&
	     (sg_store_json_str(body, "onboarding", a->onboarding_reason) ||
	      json_object_set_new(body, "peer_review_required",
				  json_boolean(a->needs_peer)))) ||
	    (a->draft_text && (json_object_set_new(body, "draft_version",
						   json_integer(a->draft_version)) ||
			       sg_store_json_str(body, "draft_diff", a->draft_diff)))) {
		json_decref(body);
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	}
	rc = sg_store_append_audit(s, a->user, a->action, a->ticket_id, body, err);
	json_decref(body);
	return rc;
}

int sg_store_human_action(struct sg_store *s, struct sg_human_action *a,
			  struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("ticket_id", a->ticket_id, err)) < 0 ||
	    (rc = sg_store_check_name("user", a->user, err)) < 0)
		return rc;
	if (!sg_store_role_valid(a->role))
		return sg_error_set(err, SG_EINVALID, "role '%s' is not one of agent, "
				    "lead, specialist, admin", a->role ? a->role : "");
	if (!a->action || (strcmp(a->action, "approve") && strcmp(a->action, "edit") &&
			   strcmp(a->action, "reject")))
		return sg_error_set(err, SG_EINVALID, "action '%s' is not one of approve, "
				    "edit, reject", a->action ? a->action : "");
	if (a->step != 1 && a->step != 2)
		return sg_error_set(err, SG_EINVALID, "step %d: expected 1 or 2", a->step);
	if (!strcmp(a->action, "edit") && !a->draft_text)
		return sg_error_set(err, SG_EINVALID, "an edit needs the new draft text");
	if (a->needs_peer && (!a->decision_id || !strcmp(a->action, "reject") || a->step != 1))
		return sg_error_set(err, SG_EINVALID, "a peer review follows a first approval "
				    "of a decision");
	return sg_store_in_tx(s, human_fn, a, err);
}

/* ---- outbox ------------------------------------------------------------ */

int sg_store_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			  int64_t lease_ms, unsigned max,
			  struct sg_outbox_item **out, size_t *n,
			  struct sg_error *err)
{
	*out = NULL;
	*n = 0;
	int rc = sg_store_check_name("lease owner", owner, err);
	if (rc < 0)
		return rc;
	if (max == 0 || max > SG_STORE_MAX_BATCH || lease_ms <= 0)
		return sg_error_set(err, SG_EINVALID, "outbox claim: max must be 1..%u "
				    "and the lease positive", (unsigned)SG_STORE_MAX_BATCH);
	return s->ops->outbox_claim(s, owner, now_ms, lease_ms, max, out, n, err);
}

void sg_store_outbox_items_free(struct sg_outbox_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		sg_free(items[i].ticket_id);
		sg_free(items[i].kind);
		sg_free(items[i].target);
		sg_free(items[i].payload);
		sg_free(items[i].idem_key);
	}
	sg_free(items);
}

int sg_store_outbox_done(struct sg_store *s, const char *id, const char *owner,
			 struct sg_error *err)
{
	return s->ops->outbox_finish(s, id, owner, "sent", 0, 0, NULL, err);
}

int sg_store_outbox_fail(struct sg_store *s, const char *id, const char *owner,
			 int64_t retry_at_ms, int max_attempts, const char *why,
			 struct sg_error *err)
{
	if (max_attempts < 1)
		return sg_error_set(err, SG_EINVALID, "max_attempts must be at least 1");
	return s->ops->outbox_finish(s, id, owner, "pending", retry_at_ms, max_attempts,
				     why, err);
}

int sg_store_outbox_count(struct sg_store *s, const char *state, long *out,
			  struct sg_error *err)
{
	return s->ops->outbox_count(s, state, out, err);
}

int sg_store_outbox_list(struct sg_store *s, const char *state, const char *id,
			 unsigned long limit,
			 int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
			 struct sg_error *err)
{
	if (state && strcmp(state, "pending") && strcmp(state, "sent") && strcmp(state, "dead"))
		return sg_error_set(err, SG_EINVALID, "outbox state '%s': expected pending, "
				    "sent or dead", state);
	return s->ops->outbox_list(s, state, id, limit, fn, ctx, err);
}

int sg_store_outbox_retry(struct sg_store *s, const char *id, const char *actor,
			  long *n, struct sg_error *err)
{
	*n = 0;
	int rc;
	json_t *body = NULL;
	if ((rc = s->ops->begin(s, err)) < 0)
		return rc;
	if ((rc = s->ops->outbox_retry(s, id, sg_now_ms(), n, err)) < 0)
		goto cleanup;
	if (id && *n == 0) {
		rc = sg_error_set(err, SG_ENOTFOUND, "outbox action '%s' is not a dead letter", id);
		goto cleanup;
	}
	body = json_pack("{s:s?, s:I}", "id", id, "count", (json_int_t)*n);
	if (!body) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (*n && (rc = sg_store_append_audit(s, actor, "outbox.retry", NULL, body, err)) < 0)
		goto cleanup;
	rc = s->ops->commit(s, err);
cleanup:
	json_decref(body);
	if (rc < 0) {
		struct sg_error ignored = SG_ERROR_INIT;
		s->ops->rollback(s, &ignored);
		*n = 0;
	}
	return rc;
}

struct drop_ctx {
	json_t *body;
	char ticket[128];
};

static int drop_row(const struct sg_outbox_row *r, void *ctx)
{
	struct drop_ctx *d = ctx;
	d->body = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:i}", "id", r->id, "kind", r->kind,
			    "target", r->target, "idem_key", r->idem_key, "state", r->state,
			    "attempts", r->attempts);
	snprintf(d->ticket, sizeof(d->ticket), "%s", r->ticket_id ? r->ticket_id : "");
	return 1;
}

int sg_store_outbox_drop(struct sg_store *s, const char *id, const char *actor,
			 struct sg_error *err)
{
	struct drop_ctx d = {NULL, ""};
	int rc;
	if (!id || !*id)
		return sg_error_set(err, SG_EINVALID, "outbox drop: an action id is required");
	if ((rc = s->ops->begin(s, err)) < 0)
		return rc;
	if ((rc = s->ops->outbox_list(s, NULL, id, 1, drop_row, &d, err)) < 0)
		goto cleanup;
	if ((rc = s->ops->outbox_drop(s, id, err)) < 0)
		goto cleanup;
	if (rc == 1 || !d.body) {
		rc = sg_error_set(err, SG_ENOTFOUND, "outbox action '%s' not found or already "
				  "sent", id);
		goto cleanup;
	}
	if ((rc = sg_store_append_audit(s, actor, "outbox.drop", d.ticket, d.body, err)) < 0)
		goto cleanup;
	rc = s->ops->commit(s, err);
cleanup:
	json_decref(d.body);
	if (rc < 0) {
		struct sg_error ignored = SG_ERROR_INIT;
		s->ops->rollback(s, &ignored);
	}
	return rc;
}

int sg_store_outbox_audit(struct sg_store *s, const char *actor, const char *action,
			  const char *ticket_id, const char *body_json, struct sg_error *err)
{
	json_t *body = NULL;
	int rc = sg_json_parse(&body, body_json, strlen(body_json), err);
	if (rc < 0)
		return rc;
	rc = sg_store_append_audit(s, actor, action, ticket_id, body, err);
	json_decref(body);
	return rc;
}

/* ---- shadow policy ------------------------------------------------------- */

/* Counter names: "shadow.evaluated:<version>", "shadow.differing:<version>". */
static int shadow_counter(char *out, size_t n, const char *what, const char *version,
			  struct sg_error *err)
{
	int rc = sg_store_check_name("shadow policy version", version, err);
	if (rc < 0)
		return rc;
	if (snprintf(out, n, "shadow.%s:%s", what, version) >= (int)n)
		return sg_error_set(err, SG_EINVALID, "shadow policy version is too long");
	return 0;
}

struct shadow_rec {
	const char *version;
	long evaluated, differing;
	const struct sg_store_shadow_diff *d;
	size_t n;
};

static int shadow_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	struct shadow_rec *r = arg;
	char ce[SG_MAX_ID_BYTES + 32], cd[SG_MAX_ID_BYTES + 32];
	int rc;
	if ((rc = shadow_counter(ce, sizeof(ce), "evaluated", r->version, err)) < 0 ||
	    (rc = shadow_counter(cd, sizeof(cd), "differing", r->version, err)) < 0)
		return rc;
	if ((r->evaluated && (rc = s->ops->counter_add(s, ce, r->evaluated, err)) < 0) ||
	    (r->differing && (rc = s->ops->counter_add(s, cd, r->differing, err)) < 0))
		return rc;
	int64_t now = sg_now_ms();
	for (size_t i = 0; i < r->n; i++) {
		char id[SG_ID_LEN];
		if (sg_id_new(id) < 0)
			return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
		const struct sg_store_shadow_diff *d = &r->d[i];
		if ((rc = s->ops->shadow_insert(s, id, d, d->created_ms ? d->created_ms : now,
						err)) < 0)
			return rc;
	}
	return 0;
}

int sg_store_shadow_record(struct sg_store *s, const char *shadow_version,
			   long evaluated, long differing,
			   const struct sg_store_shadow_diff *d, size_t n,
			   struct sg_error *err)
{
	int rc;
	if (evaluated < 0 || differing < 0)
		return sg_error_set(err, SG_EINVALID, "shadow counts must not be negative");
	for (size_t i = 0; i < n; i++) {
		if ((rc = sg_store_check_name("ticket_id", d[i].ticket_id, err)) < 0 ||
		    (rc = sg_store_check_name("event_id", d[i].event_id, err)) < 0 ||
		    (rc = sg_store_check_name("shadow diff field", d[i].field, err)) < 0)
			return rc;
		if (!d[i].live_version || !d[i].shadow_version ||
		    strcmp(d[i].shadow_version, shadow_version))
			return sg_error_set(err, SG_EINVALID, "shadow diff %zu: versions missing "
					    "or not %s", i, shadow_version);
	}
	struct shadow_rec r = {shadow_version, evaluated, differing, d, n};
	return sg_store_in_tx(s, shadow_fn, &r, err);
}

int sg_store_shadow_summary(struct sg_store *s, const char *shadow_version,
			    struct sg_store_shadow_counts *out,
			    int (*fn)(const char *field, long n, void *ctx), void *ctx,
			    struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	char ce[SG_MAX_ID_BYTES + 32], cd[SG_MAX_ID_BYTES + 32];
	int rc;
	if ((rc = shadow_counter(ce, sizeof(ce), "evaluated", shadow_version, err)) < 0 ||
	    (rc = shadow_counter(cd, sizeof(cd), "differing", shadow_version, err)) < 0 ||
	    (rc = s->ops->counter_get(s, ce, &out->evaluated, err)) < 0 ||
	    (rc = s->ops->counter_get(s, cd, &out->differing, err)) < 0)
		return rc;
	return fn ? s->ops->shadow_fields(s, shadow_version, fn, ctx, err) : 0;
}

int sg_store_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
			 int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
			 void *ctx, struct sg_error *err)
{
	int rc = sg_store_check_name("shadow policy version", shadow_version, err);
	if (rc < 0)
		return rc;
	if (limit == 0 || limit > SG_STORE_MAX_SHADOW_ROWS)
		return sg_error_set(err, SG_EINVALID, "shadow scan: limit must be 1..%u",
				    (unsigned)SG_STORE_MAX_SHADOW_ROWS);
	return s->ops->shadow_scan(s, shadow_version, limit, fn, ctx, err);
}

/* ---- escalations ------------------------------------------------------- */

int sg_store_escalation_open(struct sg_store *s, const char *ticket_id, int level,
			     const char *owner, const char *channel,
			     const char *reason, int64_t due_ms,
			     char id_out[SG_ID_LEN], struct sg_error *err)
{
	id_out[0] = 0;
	int rc;
	if ((rc = sg_store_check_name("ticket_id", ticket_id, err)) < 0 ||
	    (rc = sg_store_check_name("escalation owner", owner, err)) < 0)
		return rc;
	if (level < 1)
		return sg_error_set(err, SG_EINVALID, "escalation level %d: expected 1 or more",
				    level);
	char id[SG_ID_LEN];
	if (sg_id_new(id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	if ((rc = s->ops->escalation_open(s, id, ticket_id, level, owner, channel, reason,
					  sg_now_ms(), due_ms, err)) < 0)
		return rc;
	memcpy(id_out, id, SG_ID_LEN);
	return 0;
}

int sg_store_escalation_claim_due(struct sg_store *s, const char *worker,
				  int64_t now_ms, int64_t lease_ms, unsigned max,
				  struct sg_store_escalation **out, size_t *n,
				  struct sg_error *err)
{
	*out = NULL;
	*n = 0;
	int rc = sg_store_check_name("worker", worker, err);
	if (rc < 0)
		return rc;
	if (max == 0 || max > SG_STORE_MAX_BATCH || lease_ms <= 0)
		return sg_error_set(err, SG_EINVALID, "escalation claim: max must be 1..%u "
				    "and the lease positive", (unsigned)SG_STORE_MAX_BATCH);
	struct sg_store_escalation *e = sg_calloc(max, sizeof(*e));
	if (!e)
		return sg_error_set(err, SG_ENOMEM, "escalation claim: out of memory");
	if ((rc = s->ops->escalation_claim(s, worker, now_ms, lease_ms, max, e, n, err)) < 0) {
		sg_free(e);
		*n = 0;
		return rc;
	}
	*out = e;
	return 0;
}

int sg_store_escalation_close(struct sg_store *s, const char *id, const char *worker,
			      const char *state, struct sg_error *err)
{
	if (!state || (strcmp(state, "breached") && strcmp(state, "resolved")))
		return sg_error_set(err, SG_EINVALID, "escalation state '%s': expected "
				    "breached or resolved", state ? state : "");
	int rc = s->ops->escalation_close(s, id, worker, state, sg_now_ms(), err);
	if (rc == 1)
		return sg_error_set(err, SG_ECONFLICT, "escalation '%s' is not open%s", id,
				    worker ? " or is leased to another worker" : "");
	return rc;
}

/* ---- audit ------------------------------------------------------------- */

int sg_store_audit_append(struct sg_store *s, struct sg_audit_record *r,
			  struct sg_error *err)
{
	return s->ops->audit_append(s, r, err);
}

static int anchor_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	(void)arg;
	return s->ops->audit_anchor(s, err);
}

int sg_store_audit_anchor(struct sg_store *s, struct sg_error *err)
{
	return sg_store_in_tx(s, anchor_fn, NULL, err);
}

int sg_store_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
			int (*fn)(const struct sg_audit_record *r, void *ctx),
			void *ctx, struct sg_error *err)
{
	return s->ops->audit_scan(s, chain, since_ms, fn, ctx, err);
}

int sg_store_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		       struct sg_audit_record *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	return s->ops->audit_get(s, chain, seq, out, err);
}

struct verify_feed {
	struct sg_audit_verifier *v;
	struct sg_error *err;
};

static int verify_feed(const struct sg_audit_record *r, void *ctx)
{
	struct verify_feed *f = ctx;
	return sg_audit_verify_feed(f->v, r, f->err);
}

static int verify_lookup(const char *chain, int64_t seq, char hash[SG_SHA256_HEX],
			 void *ctx, struct sg_error *err)
{
	struct sg_audit_record r;
	int rc = sg_store_audit_get(ctx, chain, seq, &r, err);
	if (rc == 0) {
		snprintf(hash, SG_SHA256_HEX, "%s", r.hash);
		sg_audit_record_release(&r);
	}
	return rc;
}

int sg_store_audit_verify(struct sg_store *s, struct sg_audit_verifier *v,
			  struct sg_error *err)
{
	struct verify_feed f = {v, err};
	int rc = sg_store_audit_scan(s, NULL, 0, verify_feed, &f, err);
	if (rc < 0)
		return rc;
	return sg_audit_verify_finish(v, verify_lookup, s, err);
}

/* ---- shared counters ------------------------------------------------ */

int sg_store_counter_take(struct sg_store *s, const char *name, long limit,
			  struct sg_error *err)
{
	int rc = sg_store_check_name("counter name", name, err);
	if (rc < 0)
		return rc;
	return limit < 1 ? 1 : s->ops->counter_take(s, name, limit, err);
}

int sg_store_counter_get(struct sg_store *s, const char *name, long *out,
			 struct sg_error *err)
{
	*out = 0;
	int rc = sg_store_check_name("counter name", name, err);
	return rc < 0 ? rc : s->ops->counter_get(s, name, out, err);
}

int sg_store_budget_session_take(struct sg_store *s, const char *day, long limit,
				 struct sg_error *err)
{
	char name[64];
	if (!day || strlen(day) != 10)
		return sg_error_set(err, SG_EINVALID, "budget day '%.32s' is not YYYY-MM-DD",
				    day ? day : "");
	snprintf(name, sizeof(name), "%s%s", SG_STORE_BUDGET_SESSIONS, day);
	return sg_store_counter_take(s, name, limit, err);
}
