/*
 * api_shadow.c - the shadow policy: each ticket decided again under it, the
 * differing decisions batched and written, and GET/POST/DELETE /v1/shadow
 * to read its diffs, set it (under the live policy's folder) or clear it.
 */
#include "server/api_int.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "decide/engine.h"
#include "decide/engine_int.h"
#include "server/metrics.h"
#include "core/banned.h"

/* Shadow diffs evaluated but not yet written, all of one shadow version. */
struct shadow_row {
	struct sg_store_shadow_diff d;
	char buf[];
};
struct shadow_batch {
	char version[65];
	long evaluated, differing, dropped;
	size_t n;
	struct shadow_row *rows[SG_SHADOW_MAX_PENDING];
};
/* ---- shadow policy ----------------------------------------------------------- */

static struct shadow_row *shadow_row_new(const char *ticket, const char *event,
					 const char *live_v, const char *shadow_v,
					 const char *field, const char *lval, const char *sval,
					 int64_t now)
{
	const char *src[] = {ticket, event, live_v, shadow_v, field, lval, sval};
	size_t len[7], total = 0;
	for (int i = 0; i < 7; i++)
		total += (len[i] = strlen(src[i])) + 1;
	struct shadow_row *r = sg_malloc(sizeof(*r) + total);
	if (!r)
		return NULL;
	const char *dst[7];
	char *p = r->buf;
	for (int i = 0; i < 7; i++) {
		memcpy(p, src[i], len[i] + 1);
		dst[i] = p;
		p += len[i] + 1;
	}
	struct sg_store_shadow_diff d = {dst[0], dst[1], dst[2], dst[3], dst[4], dst[5],
					 dst[6], now};
	r->d = d;
	return r;
}

void api_shadow_batch_free(struct shadow_batch *b)
{
	for (size_t i = 0; b && i < b->n; i++)
		sg_free(b->rows[i]);
	sg_free(b);
}

/* Decides the ticket again under the shadow policy and queues what
 * differs; the live decision, its write and the outbox are done already
 * and never see this. */
void api_shadow_eval(struct sg_api *api, const struct sg_ticket *t,
		     const struct sg_shadow_view *live, const char *live_version)
{
	struct sg_decision sd;
	struct sg_shadow_view sv;
	struct sg_shadow_field f[SG_SHADOW_NFIELDS];
	struct sg_error e = SG_ERROR_INIT;
	size_t n = 0;
	long dropped = 0;
	pthread_mutex_lock(&api->mu_shadow);
	struct shadow_batch *b = api->spend;
	if (!api->shadow.policy || !b) {
		pthread_mutex_unlock(&api->mu_shadow);
		return;
	}
	if (sg_decide(&sd, api->shadow.run, t, NULL, &e) < 0) {
		/* the shadow cannot decide this ticket: recorded as a difference */
		n = 1;
		f[0].field = "error";
		snprintf(f[0].live, sizeof(f[0].live), "%s", "");
		snprintf(f[0].shadow, sizeof(f[0].shadow), "%.200s", e.msg);
	} else {
		sg_shadow_view_of(&sv, &sd);
		n = sg_shadow_compare(f, live, &sv);
	}
	b->evaluated++;
	if (n)
		b->differing++;
	int64_t now = sg_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct shadow_row *r = b->n < SG_SHADOW_MAX_PENDING
			? shadow_row_new(t->id, t->event_id, live_version, b->version,
					 f[i].field, f[i].live, f[i].shadow, now)
			: NULL;
		if (r)
			b->rows[b->n++] = r;
		else
			dropped++;
	}
	b->dropped += dropped;
	pthread_mutex_unlock(&api->mu_shadow);
	if (api->m_shadow_eval) {
		sg_metric_inc(api->m_shadow_eval, NULL);
		if (n)
			sg_metric_inc(api->m_shadow_diff, NULL);
		for (size_t i = 0; i < n; i++) {
			const char *v[] = {f[i].field};
			sg_metric_inc(api->m_shadow_fields, v);
		}
		for (long i = 0; i < dropped; i++)
			sg_metric_inc(api->m_shadow_drop, NULL);
	}
}

/* Puts an empty batch for `version` (none when NULL) in place of the
 * pending one, which *old receives (may be NULL); mu_shadow held. -1 when
 * out of memory, nothing changed. */
static int shadow_take(struct sg_api *api, const char *version, struct shadow_batch **old)
{
	struct shadow_batch *nb = NULL;
	if (version) {
		nb = sg_calloc(1, sizeof(*nb));
		if (!nb)
			return -1;
		snprintf(nb->version, sizeof(nb->version), "%s", version);
	}
	*old = api->spend;
	api->spend = nb;
	return 0;
}

/* Writes a taken batch (and frees it). */
static int shadow_write(struct sg_api *api, struct shadow_batch *b, struct sg_error *err)
{
	int rc = 0;
	if (!b)
		return 0;
	if (b->version[0] && (b->evaluated || b->n)) {
		struct sg_store_shadow_diff *d = b->n ? sg_calloc(b->n, sizeof(*d)) : NULL;
		if (b->n && !d) {
			rc = sg_error_set(err, SG_ENOMEM, "shadow diffs: out of memory");
		} else {
			for (size_t i = 0; i < b->n; i++)
				d[i] = b->rows[i]->d;
			pthread_mutex_lock(&api->mu_h);
			rc = sg_store_shadow_record(api->hstore, b->version, b->evaluated,
						    b->differing, d, b->n, err);
			pthread_mutex_unlock(&api->mu_h);
			sg_free(d);
		}
	}
	api_shadow_batch_free(b);
	return rc;
}

/* Writes the diffs evaluated so far (once a second, and before a read). */
int api_shadow_flush(struct sg_api *api, struct sg_error *err)
{
	pthread_mutex_lock(&api->mu_shadow);
	struct shadow_batch *b = NULL;
	int oom = api->spend && (api->spend->evaluated || api->spend->n) &&
		  shadow_take(api, api->spend->version, &b) < 0;
	pthread_mutex_unlock(&api->mu_shadow);
	if (oom)
		return sg_error_set(err, SG_ENOMEM, "shadow diffs: out of memory");
	return shadow_write(api, b, err);
}

static int audit_plain(struct sg_api *api, const char *actor, const char *action,
		       json_t *body, struct sg_error *err)
{
	struct sg_audit_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.actor, sizeof(r.actor), "%s", actor);
	snprintf(r.action, sizeof(r.action), "%s", action);
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!text)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	r.body = text;
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_begin(api->hstore, err);
	if (rc == 0) {
		if ((rc = sg_store_audit_append(api->hstore, &r, err)) == 0)
			rc = sg_store_commit(api->hstore, err);
		if (rc < 0) {
			struct sg_error e2 = SG_ERROR_INIT;
			sg_store_rollback(api->hstore, &e2);
		}
	}
	pthread_mutex_unlock(&api->mu_h);
	sg_free(text);
	return rc;
}

/* Sets (path) or clears (NULL) the shadow policy, audited as actor. A
 * policy with errors is refused and the previous shadow stays. */
int api_shadow_set(struct sg_api *api, const char *path, const char *actor,
		   struct sg_error *err)
{
	struct sg_cli_engine ce, old;
	memset(&ce, 0, sizeof(ce));
	int rc;
	if (path) {
		if ((rc = sg_cli_engine_open(&ce, path, api->no_classifier,
					     api->kb_db[0] ? api->kb_db : NULL, err)) < 0) {
			char msg[600];
			if (!err->code)
				sg_error_set(err, SG_EPOLICY, "'%s' has errors; see 'sopgate check "
					     "%s'", path, path);
			sg_error_format(err, msg, sizeof(msg));
			sg_error_clear(err);
			return sg_error_set(err, SG_EPOLICY, "shadow policy refused, the "
					    "previous one stays: %s", msg);
		}
	}
	pthread_mutex_lock(&api->mu_shadow);
	if (!path && !api->shadow.policy) {
		pthread_mutex_unlock(&api->mu_shadow);
		return sg_error_set(err, SG_ECONFLICT, "no shadow policy is set");
	}
	struct shadow_batch *b = NULL;
	if (shadow_take(api, path ? ce.policy->version : NULL, &b) < 0) {
		pthread_mutex_unlock(&api->mu_shadow);
		sg_cli_engine_close(&ce);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	old = api->shadow;
	api->shadow = ce;
	char prev[65];
	snprintf(prev, sizeof(prev), "%s", api->shadow_version);
	if (prev[0])
		snprintf(api->shadow_last, sizeof(api->shadow_last), "%s", prev);
	snprintf(api->shadow_version, sizeof(api->shadow_version), "%s",
		 path ? ce.policy->version : "");
	char newv[65];
	snprintf(newv, sizeof(newv), "%s", api->shadow_version);
	snprintf(api->shadow_path, sizeof(api->shadow_path), "%s", path ? path : "");
	snprintf(api->shadow_by, sizeof(api->shadow_by), "%s", actor);
	api->shadow_since = sg_now_ms();
	__atomic_store_n(&api->shadow_on, path ? 1 : 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&api->mu_shadow);
	sg_cli_engine_close(&old);
	struct sg_error werr = SG_ERROR_INIT;
	shadow_write(api, b, &werr); /* the previous shadow's last diffs */
	pthread_mutex_lock(&api->mu_decide);
	json_t *body = json_pack("{s:s?, s:s?, s:s?, s:s}", "path", path,
				 "shadow_version", path ? newv : NULL,
				 "previous_version", prev[0] ? prev : NULL,
				 "live_version", api->ce.policy ? api->ce.policy->version : "");
	pthread_mutex_unlock(&api->mu_decide);
	rc = audit_plain(api, actor, path ? "shadow.set" : "shadow.clear", body, err);
	json_decref(body);
	return rc;
}

/* The shadow's state as JSON (null when none); mu_shadow held. */
static json_t *shadow_state(struct sg_api *api)
{
	if (!api->shadow.policy)
		return json_null();
	return json_pack("{s:s, s:s, s:o, s:s}", "path", api->shadow_path, "version",
			 api->shadow_version, "since", api_iso_json(api->shadow_since), "set_by",
			 api->shadow_by);
}

struct shadow_list {
	json_t *diffs, *cur;
	char key[2 * SG_MAX_ID_BYTES + 4];
};

static int shadow_list_row(const struct sg_store_shadow_diff *d, void *ctx)
{
	struct shadow_list *l = ctx;
	char key[sizeof(l->key)];
	snprintf(key, sizeof(key), "%s\n%s", d->ticket_id, d->event_id);
	if (!l->cur || strcmp(key, l->key)) {
		l->cur = json_pack("{s:s, s:s, s:o, s:s, s:{}}", "ticket_id", d->ticket_id,
				   "event_id", d->event_id, "created_at", api_iso_json(d->created_ms),
				   "live_version", d->live_version, "fields");
		if (!l->cur || json_array_append_new(l->diffs, l->cur))
			return -SG_ENOMEM;
		snprintf(l->key, sizeof(l->key), "%s", key);
	}
	json_t *f = !strcmp(d->field, "rules")
		? json_pack("{s:s, s:s}", "live_only", d->live_value, "shadow_only", d->shadow_value)
		: json_pack("{s:s, s:s}", "live", d->live_value, "shadow", d->shadow_value);
	if (!f || json_object_set_new(json_object_get(l->cur, "fields"), d->field, f))
		return -SG_ENOMEM;
	return 0;
}

static int shadow_field_count(const char *field, long n, void *ctx)
{
	return json_object_set_new(ctx, field, json_integer(n)) ? -SG_ENOMEM : 0;
}

int api_h_shadow_get(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *version = NULL, *lim = NULL;
	unsigned limit = 500;
	int rc;
	if ((rc = sg_http_query(&version, req, "version", err)) < 0 ||
	    (rc = sg_http_query(&lim, req, "limit", err)) < 0)
		return rc;
	if (lim && *lim) {
		char *end;
		unsigned long l = strtoul(lim, &end, 10);
		if (*end || l < 1 || l > SG_STORE_MAX_SHADOW_ROWS)
			return sg_error_set(err, SG_EINVALID, "query 'limit': expected 1..%d, got "
					    "'%.20s'", SG_STORE_MAX_SHADOW_ROWS, lim);
		limit = (unsigned)l;
	}
	if ((rc = api_shadow_flush(api, err)) < 0)
		return rc;
	char ver[65] = "", last[65];
	pthread_mutex_lock(&api->mu_shadow);
	json_t *state = shadow_state(api);
	snprintf(ver, sizeof(ver), "%s", api->shadow_version);
	snprintf(last, sizeof(last), "%s", api->shadow_last);
	pthread_mutex_unlock(&api->mu_shadow);
	if (version && *version)
		snprintf(ver, sizeof(ver), "%.64s", version);
	else if (!ver[0])
		snprintf(ver, sizeof(ver), "%s", last);
	pthread_mutex_lock(&api->mu_decide);
	json_t *o = json_pack("{s:o, s:s, s:s?}", "shadow", state, "live_version",
			      api->ce.policy->version, "last_version", last[0] ? last : NULL);
	pthread_mutex_unlock(&api->mu_decide);
	if (!o)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	json_t *summary = json_null(), *diffs = json_array();
	if (ver[0]) {
		struct sg_store_shadow_counts c;
		json_t *by = json_object();
		struct shadow_list l = {diffs, NULL, ""};
		pthread_mutex_lock(&api->mu_h);
		rc = sg_store_shadow_summary(api->hstore, ver, &c, shadow_field_count, by, err);
		if (rc == 0)
			rc = sg_store_shadow_scan(api->hstore, ver, limit, shadow_list_row, &l, err);
		pthread_mutex_unlock(&api->mu_h);
		if (rc == -SG_ENOMEM && !err->code)
			sg_error_set(err, SG_ENOMEM, "out of memory");
		summary = json_pack("{s:s, s:I, s:I, s:f, s:o}", "version", ver, "evaluated",
				    (json_int_t)c.evaluated, "differing", (json_int_t)c.differing,
				    "differing_share", c.evaluated ? (double)c.differing / (double)c.evaluated : 0.0,
				    "by_field", by);
	}
	json_object_set_new(o, "summary", summary ? summary : json_null());
	json_object_set_new(o, "diffs", diffs);
	if (rc == 0)
		rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

/* A shadow policy set over HTTP must lie under the live policy's folder
 * (relative paths are taken from there), so the API cannot be used to
 * read other files. out gets the real path. */
static int shadow_path_check(struct sg_api *api, const char *given, char out[PATH_MAX],
			     struct sg_error *err)
{
	char dir[PATH_MAX], joined[PATH_MAX * 2], root[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", api->policy_path);
	const char *d = dirname(dir);
	if (!realpath(d, root))
		return sg_error_set(err, SG_EINTERNAL, "cannot resolve the policy folder");
	if (given[0] == '/')
		snprintf(joined, sizeof(joined), "%s", given);
	else
		snprintf(joined, sizeof(joined), "%s/%s", root, given);
	if (!realpath(joined, out))
		return sg_error_set(err, SG_ENOTFOUND, "field 'policy': '%.200s' not found", given);
	size_t n = strlen(root);
	if (strncmp(out, root, n) || out[n] != '/')
		return sg_error_set(err, SG_EFORBIDDEN, "field 'policy': a shadow policy must lie "
				    "in the live policy's folder (%.200s)", root);
	return 0;
}

int api_h_shadow_set(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err)
{
	struct sg_api *api = ctx;
	json_t *body = NULL;
	const char *given = NULL;
	char real[PATH_MAX];
	int rc = sg_http_json_body(&body, req, err);
	if (rc < 0)
		return rc;
	if ((rc = sg_json_str(body, "policy", "policy", 1, &given, err)) == 0 &&
	    (rc = shadow_path_check(api, given, real, err)) == 0 &&
	    (rc = api_shadow_set(api, real, req->user->name, err)) == 0) {
		pthread_mutex_lock(&api->mu_shadow);
		json_t *o = json_pack("{s:s, s:o}", "status", "shadowing", "shadow",
				      shadow_state(api));
		pthread_mutex_unlock(&api->mu_shadow);
		rc = o ? sg_http_resp_json(resp, 200, o)
		       : sg_error_set(err, SG_ENOMEM, "out of memory");
		json_decref(o);
	}
	json_decref(body);
	return rc;
}

int api_h_shadow_clear(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		       struct sg_error *err)
{
	struct sg_api *api = ctx;
	int rc = api_shadow_set(api, NULL, req->user->name, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&api->mu_shadow);
	json_t *o = json_pack("{s:s, s:s}", "status", "cleared", "last_version", api->shadow_last);
	pthread_mutex_unlock(&api->mu_shadow);
	rc = o ? sg_http_resp_json(resp, 200, o) : sg_error_set(err, SG_ENOMEM, "out of memory");
	json_decref(o);
	return rc;
}
