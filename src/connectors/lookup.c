/*
 * lookup.c - SOP lookups over HTTP with libcurl: Salesforce SOQL through
 * GET /services/data/vXX.X/query?q=..., or a generic GET of a URL with the
 * key in it; the JSON answer is mapped to a flat record by field paths.
 * One request per lookup, a hard timeout, no retry (a failed lookup follows
 * the SOP step's on_error).
 */
#include "connectors/lookup.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/banned.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct resp {
	struct sg_buf body;
	int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	if (r->body.len + size * n > SG_MAX_LOOKUP_RESPONSE_BYTES) {
		r->too_big = 1;
		return 0;
	}
	sg_buf_add(&r->body, p, size * n);
	return r->body.oom ? 0 : size * n;
}

json_t *sg_lookup_json_path(json_t *root, const char *path)
{
	const char *p = path;
	json_t *cur = root;
	if (*p == '$')
		p++;
	if (*p == '.')
		p++;
	while (cur && *p) {
		if (*p == '[') {
			char *end;
			long i = strtol(p + 1, &end, 10);
			if (end == p + 1 || *end != ']' || i < 0 || !json_is_array(cur))
				return NULL;
			cur = json_array_get(cur, (size_t)i);
			p = end + 1;
		} else {
			size_t n = strcspn(p, ".[");
			if (!n || !json_is_object(cur))
				return NULL;
			char name[128];
			if (n >= sizeof(name))
				return NULL;
			memcpy(name, p, n);
			name[n] = 0;
			cur = json_object_get(cur, name);
			p += n;
		}
		if (*p == '.') {
			p++;
			if (!*p)
				return NULL;
		}
	}
	return cur;
}

int sg_lookup_soql_quote(char out[SG_LOOKUP_SOQL_MAX], const char *key, struct sg_error *err)
{
	size_t o = 0, n = strlen(key);
	if (n > 255)
		return sg_error_set(err, SG_EINVALID, "key over 255 bytes");
	out[o++] = '\'';
	for (const char *k = key; *k; k++) {
		if ((unsigned char)*k < 0x20 || *k == 0x7f)
			return sg_error_set(err, SG_EINVALID, "key holds a control character");
		if (*k == '\'' || *k == '\\')
			out[o++] = '\\';
		out[o++] = *k;
	}
	out[o++] = '\'';
	out[o] = 0;
	return 0;
}

/* tmpl with every "{key}" replaced by val. */
static void fill(struct sg_buf *b, const char *tmpl, const char *val)
{
	for (const char *p = tmpl; *p;) {
		const char *at = strstr(p, "{key}");
		if (!at) {
			sg_buf_adds(b, p);
			break;
		}
		sg_buf_add(b, p, (size_t)(at - p));
		sg_buf_adds(b, val);
		p = at + 5;
	}
}

/* The message of an error body: Salesforce's [{"message","errorCode"}],
 * or {"message"}/{"error"} of a generic service; else the first bytes. */
static void error_text(char *out, size_t size, const struct sg_buf *body)
{
	json_t *j = json_loadb(body->data, body->len, 0, NULL);
	json_t *e = json_is_array(j) ? json_array_get(j, 0) : j;
	const char *code = json_string_value(json_object_get(e, "errorCode"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(e, "error"));
	if (code || msg)
		snprintf(out, size, "%s%s%s", code ? code : "", code && msg ? ": " : "",
			 msg ? msg : "");
	else
		snprintf(out, size, "%.*s", body->len > 120 ? 120 : (int)body->len,
			 body->len ? body->data : "(empty body)");
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	json_decref(j);
}

static int get(const char *what, const char *url, const char *token, double timeout_s,
	       json_t **out, struct sg_error *err)
{
	struct resp r = {SG_BUF_INIT, 0};
	struct curl_slist *hdr = NULL, *h2;
	struct sg_buf auth = SG_BUF_INIT;
	long status = 0, ms = (long)(timeout_s * 1000);
	int rc = 0;
	*out = NULL;

	pthread_once(&curl_once, curl_init);
	CURL *c = curl_easy_init();
	if (!c)
		return sg_error_set(err, SG_ENOMEM, "%s: unable to start an HTTP request", what);
	hdr = curl_slist_append(NULL, "Accept: application/json");
	if (hdr && token) {
		sg_buf_addf(&auth, "Authorization: Bearer %s", token);
		if (!auth.oom && (h2 = curl_slist_append(hdr, auth.data)))
			hdr = h2;
		else
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	if (!hdr)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
	if (rc < 0)
		goto cleanup;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms > 0 ? ms : 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cc = curl_easy_perform(c);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = sg_error_set(err, SG_ETIMEOUT, "%s: no answer within %ld ms", what, ms);
		goto cleanup;
	}
	if (r.too_big) {
		rc = sg_error_set(err, SG_EBACKEND, "%s: response over %u bytes", what,
				  SG_MAX_LOOKUP_RESPONSE_BYTES);
		goto cleanup;
	}
	if (cc != CURLE_OK) {
		rc = sg_error_set(err, SG_EBACKEND, "%s: %s", what, curl_easy_strerror(cc));
		goto cleanup;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		char msg[200];
		error_text(msg, sizeof(msg), &r.body);
		int code = status == 404 ? SG_ENOTFOUND : status == 401 ? SG_EUNAUTHORIZED :
			   status == 403 ? SG_EFORBIDDEN : status == 408 ? SG_ETIMEOUT :
			   status == 429 ? SG_ERATE : status >= 500 ? SG_EBACKEND : SG_EINVALID;
		rc = sg_error_set(err, code, "%s: HTTP %ld: %s", what, status, msg);
		goto cleanup;
	}
	json_error_t je;
	*out = json_loadb(r.body.data, r.body.len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		rc = sg_error_set(err, SG_EBACKEND, "%s: answer is not JSON (%s at byte %d)", what,
				  je.text, je.position);
	else if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = sg_error_set(err, SG_EBACKEND, "%s: answer is not a JSON object", what);
	}
cleanup:
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	sg_buf_release(&auth);
	sg_buf_release(&r.body);
	return rc;
}

/* The mapped record: fields in policy order, or a copy of rec. */
static int map_fields(json_t **out, json_t *rec, const struct sg_pnode *fields,
		      struct sg_error *err)
{
	json_t *o;
	if (!fields || fields->kind != SG_PN_MAP) {
		o = json_deep_copy(rec);
		if (o)
			json_object_del(o, "attributes");
	} else {
		o = json_object();
		for (size_t i = 0; o && i < fields->n; i++) {
			const char *path = fields->items[i]->text;
			json_t *v = path ? sg_lookup_json_path(rec, path) : NULL;
			if (v)
				json_object_set(o, fields->keys[i], v);
		}
	}
	*out = o;
	return o ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

static int token_of(const char **out, const char *what, const struct sg_pnode *conf,
		    struct sg_error *err)
{
	const char *env = sg_pnode_str(conf, "token_env", NULL);
	*out = NULL;
	if (!env)
		return 0;
	const char *v = getenv(env);
	if (!v || !*v)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "%s: environment variable %s (token_env) is not set", what, env);
	*out = v;
	return 0;
}

static int salesforce(json_t **out, const struct sg_pnode *conf, const char *key,
		      double timeout_s, struct sg_error *err)
{
	const char *base = sg_pnode_str(conf, "url", "");
	const char *ver = sg_pnode_str(conf, "api_version", SG_LOOKUP_SF_VERSION);
	const char *query = sg_pnode_str(conf, "query", "");
	const char *token;
	char lit[SG_LOOKUP_SOQL_MAX];
	struct sg_buf soql = SG_BUF_INIT, url = SG_BUF_INIT;
	json_t *ans = NULL;
	char *esc = NULL;
	int rc;

	*out = NULL;
	if ((rc = token_of(&token, "salesforce", conf, err)) < 0)
		return rc;
	if ((rc = sg_lookup_soql_quote(lit, key, err)) < 0)
		return rc;
	fill(&soql, query, lit);
	if (soql.oom || !(esc = curl_easy_escape(NULL, soql.data, (int)soql.len))) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	sg_buf_addf(&url, "%.*s/services/data/%s/query?q=%s", (int)bl, base, ver, esc);
	if (url.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = get("salesforce", url.data, token, timeout_s, &ans, err)) < 0)
		goto cleanup;
	json_t *records = json_object_get(ans, "records");
	if (!json_is_array(records)) {
		rc = sg_error_set(err, SG_EBACKEND, "salesforce: field 'records': expected an array");
		goto cleanup;
	}
	json_t *rec = json_array_get(records, 0);
	if (!rec) {
		rc = sg_error_set(err, SG_ENOTFOUND, "salesforce: no record matched");
		goto cleanup;
	}
	if (!json_is_object(rec)) {
		rc = sg_error_set(err, SG_EBACKEND, "salesforce: field 'records[0]': expected an object");
		goto cleanup;
	}
	rc = map_fields(out, rec, sg_pnode_get(conf, "fields"), err);
cleanup:
	json_decref(ans);
	curl_free(esc);
	sg_buf_release(&soql);
	sg_buf_release(&url);
	return rc;
}

static int http_get(json_t **out, const struct sg_pnode *conf, const char *key,
		    double timeout_s, struct sg_error *err)
{
	const char *tmpl = sg_pnode_str(conf, "url", "");
	const char *token;
	struct sg_buf url = SG_BUF_INIT;
	json_t *ans = NULL;
	char *esc = NULL;
	int rc;

	*out = NULL;
	if ((rc = token_of(&token, "http lookup", conf, err)) < 0)
		return rc;
	if (strlen(key) > 255)
		return sg_error_set(err, SG_EINVALID, "http lookup: key over 255 bytes");
	if (!(esc = curl_easy_escape(NULL, key, 0)))
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	fill(&url, tmpl, esc);
	if (url.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = get("http lookup", url.data, token, timeout_s, &ans, err)) < 0)
		goto cleanup;
	const char *root = sg_pnode_str(conf, "record", NULL);
	json_t *rec = root ? sg_lookup_json_path(ans, root) : ans;
	if (!json_is_object(rec)) {
		rc = sg_error_set(err, root && !rec ? SG_ENOTFOUND : SG_EBACKEND,
				  "http lookup: '%s' is %s", root ? root : "$",
				  rec ? "not an object" : "absent");
		goto cleanup;
	}
	rc = map_fields(out, rec, sg_pnode_get(conf, "fields"), err);
cleanup:
	json_decref(ans);
	curl_free(esc);
	sg_buf_release(&url);
	return rc;
}

int sg_lookup_http(json_t **out, const struct sg_pnode *conf, const char *key,
		   struct sg_error *err)
{
	const char *kind = sg_pnode_str(conf, "kind", "");
	double timeout_s = sg_pnode_num(conf, "timeout", SG_LOOKUP_TIMEOUT_S);
	*out = NULL;
	if (!strcmp(kind, "salesforce"))
		return salesforce(out, conf, key, timeout_s, err);
	if (!strcmp(kind, "http"))
		return http_get(out, conf, key, timeout_s, err);
	return sg_error_set(err, SG_EINVALID, "unknown lookup kind '%s'", kind);
}
