/*
 * store.c - the public storage wrappers: URL dispatch to a backend, the
 * transactions around multi-step operations, the audit records written
 * with each of them, user tokens, and the group committer. Everything
 * backend-specific is behind the ops table (store_int.h).
 */
#include "store/store.h"

#include <jansson.h>
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
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "store/store_int.h"
#include "core/banned.h"

static int check_name(const char *what, const char *s, struct sg_error *err)
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
	int rc = check_name("writer name", writer, err);
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

/* With several writers (PostgreSQL), a transaction that lost a deadlock,
 * a serialization check or a unique-key race comes back as -SG_ECONFLICT
 * and is run again from the start, up to this many times. */
#define STORE_TX_TRIES 5

static int retryable(const struct sg_store *s, int rc)
{
	return rc == -SG_ECONFLICT && (s->ops->caps & SG_STORE_MULTI_WRITER);
}

/* Runs fn(s, arg) inside BEGIN ... COMMIT, rolling back on any failure. */
static int in_tx(struct sg_store *s, int (*fn)(struct sg_store *, void *, struct sg_error *),
		 void *arg, struct sg_error *err)
{
	int rc;
	for (int attempt = 1;; attempt++) {
		if ((rc = s->ops->begin(s, err)) < 0)
			return rc;
		if ((rc = fn(s, arg, err)) < 0 || (rc = s->ops->commit(s, err)) < 0)
			s->ops->rollback(s, NULL);
		if (rc == 0 || !retryable(s, rc) || attempt >= STORE_TX_TRIES)
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

static int set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static int append_audit(struct sg_store *s, const char *actor, const char *action,
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
	if ((rc = check_name("ticket_id", w->ticket_id, err)) < 0 ||
	    (rc = check_name("event_id", w->event_id, err)) < 0)
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
static int write_in_tx(struct sg_store *s, struct sg_ticket_write *w,
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
	return write_in_tx(s, arg, err);
}

int sg_store_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			  struct sg_error *err)
{
	int rc = in_tx(s, write_fn, w, err);
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
	int rc = check_name("ticket_id", ticket_id, err);
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
	if (!body || set_str(body, "decision_id", a->decision_id) ||
	    set_str(body, "role", a->role) || set_str(body, "note", a->note) ||
	    json_object_set_new(body, "step", json_integer(a->step)) ||
	    (a->onboarding_reason &&
	     (set_str(body, "onboarding", a->onboarding_reason) ||
	      json_object_set_new(body, "peer_review_required",
				  json_boolean(a->needs_peer)))) ||
	    (a->draft_text && (json_object_set_new(body, "draft_version",
						   json_integer(a->draft_version)) ||
			       set_str(body, "draft_diff", a->draft_diff)))) {
		json_decref(body);
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	}
	rc = append_audit(s, a->user, a->action, a->ticket_id, body, err);
	json_decref(body);
	return rc;
}

int sg_store_human_action(struct sg_store *s, struct sg_human_action *a,
			  struct sg_error *err)
{
	int rc;
	if ((rc = check_name("ticket_id", a->ticket_id, err)) < 0 ||
	    (rc = check_name("user", a->user, err)) < 0)
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
	return in_tx(s, human_fn, a, err);
}

/* ---- outbox ------------------------------------------------------------ */

int sg_store_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			  int64_t lease_ms, unsigned max,
			  struct sg_outbox_item **out, size_t *n,
			  struct sg_error *err)
{
	*out = NULL;
	*n = 0;
	int rc = check_name("lease owner", owner, err);
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
	if (*n && (rc = append_audit(s, actor, "outbox.retry", NULL, body, err)) < 0)
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
	if ((rc = append_audit(s, actor, "outbox.drop", d.ticket, d.body, err)) < 0)
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
	rc = append_audit(s, actor, action, ticket_id, body, err);
	json_decref(body);
	return rc;
}

/* ---- users ------------------------------------------------------------- */

int sg_store_role_valid(const char *role)
{
	static const char *const roles[] = {"agent", "lead", "specialist", "admin"};
	for (size_t i = 0; role && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(role, roles[i]))
			return 1;
	return 0;
}

/* The lookup key: the first 16 hex digits after the "sgt_" prefix. Only
 * the full token's hash proves possession; the key just finds the row. */
#define TOKEN_KEY_LEN 16

struct user_add {
	const char *actor, *name, *role, *prefix, *hash;
	unsigned flags;
};

static int user_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	struct user_add *u = arg;
	int rc = s->ops->user_insert(s, u->name, u->role, u->prefix, u->hash,
				     sg_now_ms(), err);
	if (rc < 0)
		return rc;
	if ((u->flags & SG_STORE_USER_ONBOARDING) &&
	    (rc = s->ops->onboarding_set(s, u->name, 1, err)) != 0)
		return rc < 0 ? rc : sg_error_set(err, SG_ESTORE, "user '%s' vanished", u->name);
	json_t *body = json_object();
	if (!body || set_str(body, "name", u->name) || set_str(body, "role", u->role) ||
	    ((u->flags & SG_STORE_USER_ONBOARDING) &&
	     json_object_set_new(body, "onboarding", json_true()))) {
		json_decref(body);
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	}
	rc = append_audit(s, u->actor, "user.add", NULL, body, err);
	json_decref(body);
	return rc;
}

int sg_store_user_add(struct sg_store *s, const char *actor, const char *name,
		      const char *role, char token[SG_TOKEN_LEN], struct sg_error *err)
{
	return sg_store_user_add_opts(s, actor, name, role, 0, token, err);
}

int sg_store_user_add_opts(struct sg_store *s, const char *actor, const char *name,
			   const char *role, unsigned flags, char token[SG_TOKEN_LEN],
			   struct sg_error *err)
{
	token[0] = 0;
	int rc = check_name("user name", name, err);
	if (rc < 0)
		return rc;
	if (strlen(name) >= sizeof(((struct sg_store_user *)0)->name))
		return sg_error_set(err, SG_EINVALID, "user name is too long");
	for (const char *p = name; *p; p++)
		if (*p == ' ' || *p == '\t')
			return sg_error_set(err, SG_EINVALID,
					    "user name '%s' contains a space", name);
	if (!sg_store_role_valid(role))
		return sg_error_set(err, SG_EINVALID, "role '%s' is not one of agent, "
				    "lead, specialist, admin", role ? role : "");
	uint8_t raw[32];
	char hex[65], hash[SG_SHA256_HEX], key[TOKEN_KEY_LEN + 1];
	if (sg_random_bytes(raw, sizeof(raw)) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for a token");
	sg_hex(raw, sizeof(raw), hex);
	char tok[SG_TOKEN_LEN];
	snprintf(tok, sizeof(tok), "%s%s", SG_TOKEN_PREFIX, hex);
	snprintf(key, sizeof(key), "%.*s", TOKEN_KEY_LEN, hex);
	sg_sha256_hex(tok, strlen(tok), hash);
	struct user_add u = {actor ? actor : "sopgate", name, role, key, hash, flags};
	if ((rc = in_tx(s, user_fn, &u, err)) < 0)
		return rc;
	memcpy(token, tok, sizeof(tok));
	return 0;
}

int sg_store_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		       void *ctx, struct sg_error *err)
{
	return s->ops->user_list(s, fn, ctx, err);
}

int sg_store_token_verify(struct sg_store *s, const char *token, struct sg_store_user *out,
			  struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t plen = strlen(SG_TOKEN_PREFIX);
	if (!token || strlen(token) != SG_TOKEN_LEN - 1 ||
	    strncmp(token, SG_TOKEN_PREFIX, plen))
		return sg_error_set(err, SG_EUNAUTHORIZED, "malformed token");
	for (const char *p = token + plen; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return sg_error_set(err, SG_EUNAUTHORIZED, "malformed token");
	char key[TOKEN_KEY_LEN + 1], want[SG_SHA256_HEX], stored[SG_SHA256_HEX] = "";
	snprintf(key, sizeof(key), "%.*s", TOKEN_KEY_LEN, token + plen);
	sg_sha256_hex(token, strlen(token), want);
	struct sg_store_user u;
	int rc = s->ops->user_by_prefix(s, key, &u, stored, err);
	if (rc < 0)
		return rc;
	if (rc == 1 || strlen(stored) != SG_SHA256_HEX - 1 ||
	    !sg_ct_equal(want, stored, SG_SHA256_HEX - 1))
		return sg_error_set(err, SG_EUNAUTHORIZED, "unknown or revoked token");
	*out = u;
	return 0;
}

/* ---- sessions ---------------------------------------------------------- */

static int check_hash(const char *what, const char *h, struct sg_error *err)
{
	if (!h || strlen(h) != SG_SHA256_HEX - 1)
		return sg_error_set(err, SG_EINVALID, "%s must be 64 hex digits", what);
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return sg_error_set(err, SG_EINVALID, "%s must be 64 hex digits", what);
	return 0;
}

int sg_store_session_put(struct sg_store *s, const char *sid_hash, const char *user,
			 const char *csrf, int64_t expires_ms, struct sg_error *err)
{
	int rc;
	if ((rc = check_hash("session id hash", sid_hash, err)) < 0 ||
	    (rc = check_name("user", user, err)) < 0)
		return rc;
	if (!csrf || strlen(csrf) >= SG_STORE_CSRF_LEN)
		return sg_error_set(err, SG_EINVALID, "CSRF token missing or too long");
	return s->ops->session_put(s, sid_hash, user, csrf, sg_now_ms(), expires_ms, err);
}

int sg_store_session_get(struct sg_store *s, const char *sid_hash, int64_t now_ms,
			 struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			 int64_t *expires_ms, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	csrf[0] = 0;
	*expires_ms = 0;
	if (check_hash("session id hash", sid_hash, NULL) < 0)
		return sg_error_set(err, SG_EUNAUTHORIZED, "malformed session");
	int rc = s->ops->session_get(s, sid_hash, out, csrf, expires_ms, err);
	if (rc < 0)
		return rc;
	if (rc == 1 || *expires_ms <= now_ms) {
		memset(out, 0, sizeof(*out));
		csrf[0] = 0;
		return sg_error_set(err, SG_EUNAUTHORIZED, rc == 1 ? "unknown session"
				    : "session expired");
	}
	return 0;
}

int sg_store_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	int rc = check_hash("session id hash", sid_hash, err);
	return rc < 0 ? rc : s->ops->session_del(s, sid_hash, err);
}

/* ---- onboarding reviewers --------------------------------------------- */

int sg_store_user_onboarding(struct sg_store *s, const char *name,
			     struct sg_store_onboarding *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = check_name("user", name, err);
	if (rc < 0)
		return rc;
	if ((rc = s->ops->onboarding_get(s, name, out, err)) == 1)
		return sg_error_set(err, SG_ENOTFOUND, "user '%s' not found", name);
	return rc;
}

struct onboarding_set {
	const char *actor, *name;
	int on;
};

static int onboarding_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	struct onboarding_set *o = arg;
	int rc = s->ops->onboarding_set(s, o->name, o->on, err);
	if (rc == 1)
		return sg_error_set(err, SG_ENOTFOUND, "user '%s' not found", o->name);
	if (rc < 0)
		return rc;
	json_t *body = json_object();
	if (!body || set_str(body, "name", o->name) ||
	    json_object_set_new(body, "onboarding", json_boolean(o->on))) {
		json_decref(body);
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	}
	rc = append_audit(s, o->actor, "user.onboarding", NULL, body, err);
	json_decref(body);
	return rc;
}

int sg_store_user_onboarding_set(struct sg_store *s, const char *actor,
				 const char *name, int on, struct sg_error *err)
{
	int rc = check_name("user", name, err);
	if (rc < 0)
		return rc;
	struct onboarding_set o = {actor ? actor : "sopgate", name, on ? 1 : 0};
	return in_tx(s, onboarding_fn, &o, err);
}

int sg_store_peer_review(struct sg_store *s, const char *decision_id,
			 struct sg_store_peer_review *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = check_name("decision_id", decision_id, err);
	return rc < 0 ? rc : s->ops->peer_review_get(s, decision_id, out, err);
}

/* ---- shadow policy ------------------------------------------------------- */

/* Counter names: "shadow.evaluated:<version>", "shadow.differing:<version>". */
static int shadow_counter(char *out, size_t n, const char *what, const char *version,
			  struct sg_error *err)
{
	int rc = check_name("shadow policy version", version, err);
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
		if ((rc = check_name("ticket_id", d[i].ticket_id, err)) < 0 ||
		    (rc = check_name("event_id", d[i].event_id, err)) < 0 ||
		    (rc = check_name("shadow diff field", d[i].field, err)) < 0)
			return rc;
		if (!d[i].live_version || !d[i].shadow_version ||
		    strcmp(d[i].shadow_version, shadow_version))
			return sg_error_set(err, SG_EINVALID, "shadow diff %zu: versions missing "
					    "or not %s", i, shadow_version);
	}
	struct shadow_rec r = {shadow_version, evaluated, differing, d, n};
	return in_tx(s, shadow_fn, &r, err);
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
	int rc = check_name("shadow policy version", shadow_version, err);
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
	if ((rc = check_name("ticket_id", ticket_id, err)) < 0 ||
	    (rc = check_name("escalation owner", owner, err)) < 0)
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
	int rc = check_name("worker", worker, err);
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
	return in_tx(s, anchor_fn, NULL, err);
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
	for (int attempt = 2; attempt <= STORE_TX_TRIES; attempt++) {
		/* the losers, relinked through `again` */
		struct request *head = NULL, **tail = &head;
		for (struct request *r = batch; r; r = r->next)
			if (retryable(b->s, r->rc)) {
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
		r->rc = write_in_tx(s, r->w, &r->err);
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

/* ---- QA loop ------------------------------------------------------------ */

static int check_period(const char *period, struct sg_error *err)
{
	if (!period || !period[0] || strlen(period) >= SG_QA_PERIOD_LEN)
		return sg_error_set(err, SG_EINVALID, "period '%s': expected a week like 2026-W49",
				    period ? period : "");
	return 0;
}

int sg_store_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
			int (*fn)(const struct sg_store_qa_pending *p, void *ctx),
			void *ctx, struct sg_error *err)
{
	if (max == 0)
		return sg_error_set(err, SG_EINVALID, "qa pending: max must be positive");
	return s->ops->qa_pending(s, since_ms, max, fn, ctx, err);
}

int sg_store_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
			 struct sg_error *err)
{
	int rc;
	if ((rc = check_name("decision id", f->decision_id, err)) < 0 ||
	    (rc = check_name("ticket_id", f->ticket_id, err)) < 0)
		return rc;
	return s->ops->qa_fact_put(s, f, err);
}

int sg_store_qa_csat_put(struct sg_store *s, const char *ticket_id, int score,
			 int64_t now_ms, struct sg_error *err)
{
	int rc = check_name("ticket_id", ticket_id, err);
	if (rc < 0)
		return rc;
	if (score < 1 || score > 5)
		return sg_error_set(err, SG_EINVALID, "field 'score': %d is not 1..5", score);
	return s->ops->qa_csat_put(s, ticket_id, score, now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			   void *ctx, struct sg_error *err)
{
	return s->ops->qa_candidates(s, from_ms, to_ms, fn, ctx, err);
}

int sg_store_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			   struct sg_error *err)
{
	int rc;
	if ((rc = check_period(x->period, err)) < 0 ||
	    (rc = check_name("ticket_id", x->ticket_id, err)) < 0 ||
	    (rc = check_name("category", x->category, err)) < 0)
		return rc;
	if (strcmp(x->kind, "ai") && strcmp(x->kind, "human"))
		return sg_error_set(err, SG_EINVALID, "sample kind '%s': expected ai or human",
				    x->kind);
	return s->ops->qa_sample_put(s, x, err);
}

int sg_store_qa_sample_list(struct sg_store *s, const char *period,
			    int (*fn)(const struct sg_store_qa_sample *x, void *ctx),
			    void *ctx, struct sg_error *err)
{
	return s->ops->qa_sample_list(s, period, NULL, fn, ctx, err);
}

static int sample_copy(const struct sg_store_qa_sample *x, void *ctx)
{
	*(struct sg_store_qa_sample *)ctx = *x;
	return 1;
}

int sg_store_qa_sample_get(struct sg_store *s, const char *id,
			   struct sg_store_qa_sample *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = check_name("sample id", id, err);
	if (rc < 0)
		return rc;
	if ((rc = s->ops->qa_sample_list(s, NULL, id, sample_copy, out, err)) < 0)
		return rc;
	return out->id[0] ? 0 : 1;
}

int sg_store_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			  struct sg_error *err)
{
	int rc;
	if ((rc = check_name("sample id", x->sample_id, err)) < 0 ||
	    (rc = check_name("reviewer", x->reviewer, err)) < 0 ||
	    (rc = check_period(x->period, err)) < 0)
		return rc;
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		if (x->dims[i] < 1 || x->dims[i] > 5)
			return sg_error_set(err, SG_EINVALID, "score dimension %d: %d is not 1..5",
					    i + 1, x->dims[i]);
	return s->ops->qa_score_put(s, x, err);
}

int sg_store_qa_accuracy(struct sg_store *s, const char *period,
			 int (*fn)(const char *category, long scored, long accurate,
				   void *ctx),
			 void *ctx, struct sg_error *err)
{
	int rc = check_period(period, err);
	return rc < 0 ? rc : s->ops->qa_accuracy(s, period, fn, ctx, err);
}

int sg_store_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *p,
			   struct sg_error *err)
{
	int rc;
	if ((rc = check_name("category", p->category, err)) < 0 ||
	    (rc = check_period(p->period, err)) < 0)
		return rc;
	return s->ops->qa_pause_open(s, p, err);
}

int sg_store_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			   int64_t now_ms, struct sg_error *err)
{
	int rc;
	if ((rc = check_name("category", category, err)) < 0 ||
	    (rc = check_name("user", user, err)) < 0)
		return rc;
	return s->ops->qa_pause_lift(s, category, user, now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_pause_list(struct sg_store *s, int active_only,
			   int (*fn)(const struct sg_store_qa_pause *p, void *ctx),
			   void *ctx, struct sg_error *err)
{
	return s->ops->qa_pause_list(s, active_only, fn, ctx, err);
}

int sg_store_qa_suggest(struct sg_store *s, const char *category, const char *period,
			int accuracy_bp, int previous_bp, int64_t now_ms,
			struct sg_error *err)
{
	int rc;
	if ((rc = check_name("category", category, err)) < 0 ||
	    (rc = check_period(period, err)) < 0)
		return rc;
	return s->ops->qa_suggest(s, category, period, accuracy_bp, previous_bp,
				  now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			      struct sg_error *err)
{
	int rc;
	if ((rc = check_name("ticket_id", x->ticket_id, err)) < 0 ||
	    (rc = check_name("sample id", x->sample_id, err)) < 0)
		return rc;
	return s->ops->qa_incident_open(s, x, err);
}

int sg_store_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			       int64_t now_ms, struct sg_error *err)
{
	int rc;
	if ((rc = check_name("incident id", id, err)) < 0 ||
	    (rc = check_name("user", user, err)) < 0)
		return rc;
	return s->ops->qa_incident_close(s, id, user, now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_incident_list(struct sg_store *s, int open_only,
			      int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			      void *ctx, struct sg_error *err)
{
	return s->ops->qa_incident_list(s, open_only, fn, ctx, err);
}

int sg_store_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
		     int64_t to_ms, const char *period,
		     int (*fn)(const char *k1, const char *k2, long n, void *ctx),
		     void *ctx, struct sg_error *err)
{
	if ((unsigned)which >= SG_QA_STAT__COUNT)
		return sg_error_set(err, SG_EINVALID, "unknown scorecard count %d", (int)which);
	return s->ops->qa_stat(s, which, from_ms, to_ms, period ? period : "", fn, ctx, err);
}

int sg_store_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			int (*fn)(const struct sg_store_qa_ticket *t, void *ctx),
			void *ctx, struct sg_error *err)
{
	return s->ops->qa_tickets(s, from_ms, to_ms, fn, ctx, err);
}

int sg_store_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const char *diff, void *ctx), void *ctx,
			   struct sg_error *err)
{
	return s->ops->qa_edit_diffs(s, from_ms, to_ms, fn, ctx, err);
}
