/*
 * lookup.c - SOP lookups through the connectors: finds the connector that
 * lists a record kind, builds it from its policy map (secrets from the
 * environment), lets its ops build the request and parse the answer, and
 * sends the request synchronously with libcurl under a hard timeout. Also
 * the helpers the lookup connectors share (status errors, JSON paths,
 * field mapping).
 */
#include "connectors/lookup.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/limits.h"
#include "policy/policy.h"
#include "core/banned.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- synchronous transport ------------------------------------------- */

struct xfer {
	struct sg_buf *body;
	char *retry_after; /* 64 bytes */
	int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	if (x->body->len + size * n > SG_MAX_LOOKUP_RESPONSE_BYTES) {
		x->too_big = 1;
		return 0;
	}
	sg_buf_add(x->body, p, size * n);
	return x->body->oom ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		size_t i = 12;
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t k = 0;
		while (i < len && p[i] != '\r' && p[i] != '\n' && k + 1 < 64)
			x->retry_after[k++] = p[i++];
		x->retry_after[k] = 0;
	}
	return len;
}

void sg_conn_exchange_release(struct sg_conn_exchange *x)
{
	sg_buf_release(&x->body);
	memset(x, 0, sizeof(*x));
}

int sg_conn_perform(struct sg_conn_exchange *ex, const struct sg_conn_request *req,
		    struct sg_error *err)
{
	struct sg_conn_response *resp = &ex->resp;
	struct sg_buf *body = &ex->body;
	char *msgbuf = ex->msg;
	struct xfer x = {body, ex->retry_after, 0};
	struct curl_slist *hdr = NULL;
	int rc = 0;
	memset(resp, 0, sizeof(*resp));
	msgbuf[0] = ex->retry_after[0] = 0;
	pthread_once(&curl_once, curl_init);
	CURL *c = curl_easy_init();
	if (!c)
		return sg_error_set(err, SG_ENOMEM, "unable to start an HTTP request");
	for (size_t i = 0; i < req->nheaders; i++) {
		struct curl_slist *h = curl_slist_append(hdr, req->headers[i]);
		if (!h) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		hdr = h;
	}
	/* no "Expect: 100-continue" round trip */
	struct curl_slist *h = curl_slist_append(hdr, "Expect:");
	if (!h) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	hdr = h;
	long t = req->timeout_ms > 0 ? (long)req->timeout_ms : SG_LOOKUP_TIMEOUT_MS;
	long ct = req->connect_timeout_ms > 0 && req->connect_timeout_ms < t
			  ? (long)req->connect_timeout_ms : t;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->username)
		curl_easy_setopt(c, CURLOPT_USERNAME, req->username);
	if (req->password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->password);
	if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	}
	if (req->method && strcmp(req->method, "GET") && strcmp(req->method, "POST"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	else if (req->method && !strcmp(req->method, "POST") && !req->body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	CURLcode cc = curl_easy_perform(c);
	resp->now_ms = sg_now_ms();
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		resp->timed_out = 1;
		snprintf(msgbuf, sizeof(ex->msg), "no answer within %ld ms", t);
	} else if (x.too_big) {
		resp->transport_error = 1;
		snprintf(msgbuf, sizeof(ex->msg), "response over %u bytes", SG_MAX_LOOKUP_RESPONSE_BYTES);
	} else if (cc != CURLE_OK) {
		resp->transport_error = 1;
		snprintf(msgbuf, sizeof(ex->msg), "%s", curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	}
	if (body->oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	resp->transport_msg = msgbuf[0] ? msgbuf : NULL;
	sg_buf_addc(body, 0); /* NUL-terminate without counting it */
	body->len--;
	resp->body = body->data;
	resp->body_len = body->len;
	resp->retry_after = ex->retry_after[0] ? ex->retry_after : NULL;
cleanup:
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	return rc;
}

/* ---- shared helpers ----------------------------------------------------- */

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
			char name[128];
			if (!n || n >= sizeof(name) || !json_is_object(cur))
				return NULL;
			memcpy(name, p, n);
			name[n] = 0;
			cur = json_object_get(cur, name);
			p += n;
		}
		if (*p == '.' && !*++p)
			return NULL;
	}
	return cur;
}

int sg_lookup_soql_quote(char out[SG_LOOKUP_SOQL_MAX], const char *key, struct sg_error *err)
{
	size_t o = 0;
	if (strlen(key) > 255)
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

void sg_lookup_fill(struct sg_buf *b, const char *tmpl, const char *val)
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

const struct sg_pnode *sg_lookup_conf(const struct sg_connector *c, const char *record_kind)
{
	return sg_pnode_get(sg_pnode_get(c->cfg.node, "lookups"), record_kind);
}

/* The message of an error body: Salesforce's [{"message","errorCode"}],
 * or {"message"}/{"error"} of another service; else its first bytes. */
static void error_text(char *out, size_t size, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	json_t *e = json_is_array(j) ? json_array_get(j, 0) : j;
	const char *code = json_string_value(json_object_get(e, "errorCode"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(e, "error"));
	if (code || msg)
		snprintf(out, size, "%s%s%s", code ? code : "", code && msg ? ": " : "",
			 msg ? msg : "");
	else
		snprintf(out, size, "%.*s", len > 120 ? 120 : (int)len, len ? body : "(empty body)");
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	json_decref(j);
}

int sg_lookup_check(const struct sg_conn_response *resp, const char *what, struct sg_error *err)
{
	if (resp->timed_out)
		return sg_error_set(err, SG_ETIMEOUT, "%s: %s", what,
				    resp->transport_msg ? resp->transport_msg : "timed out");
	if (resp->transport_error || !resp->status)
		return sg_error_set(err, SG_EBACKEND, "%s: %s", what,
				    resp->transport_msg ? resp->transport_msg : "no answer");
	long s = resp->status;
	if (s >= 200 && s <= 299)
		return 0;
	char msg[200];
	error_text(msg, sizeof(msg), resp->body, resp->body_len);
	int code = s == 404 ? SG_ENOTFOUND : s == 401 ? SG_EUNAUTHORIZED : s == 403 ? SG_EFORBIDDEN :
		   s == 408 ? SG_ETIMEOUT : s == 429 ? SG_ERATE : s >= 500 ? SG_EBACKEND : SG_EINVALID;
	return sg_error_set(err, code, "%s: HTTP %ld: %s", what, s, msg);
}

int sg_lookup_parse_object(json_t **out, const struct sg_conn_response *resp, const char *what,
			   struct sg_error *err)
{
	json_error_t je;
	*out = json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return sg_error_set(err, SG_EBACKEND, "%s: answer is not JSON (%s at byte %d)", what,
				    je.text, je.position);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return sg_error_set(err, SG_EBACKEND, "%s: answer is not a JSON object", what);
	}
	return 0;
}

int sg_lookup_map(json_t **out, json_t *rec, const struct sg_pnode *fields, struct sg_error *err)
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

/* ---- the lookup ------------------------------------------------------- */

const struct sg_pnode *sg_lookup_connector(const struct sg_policy *p, const char *record_kind,
					   const char **name)
{
	const struct sg_pnode *sec = sg_policy_section(p, "connectors");
	for (size_t i = 0; sec && sec->kind == SG_PN_MAP && i < sec->n; i++)
		if (sg_pnode_get(sg_pnode_get(sec->items[i], "lookups"), record_kind)) {
			if (name)
				*name = sec->keys[i];
			return sec->items[i];
		}
	return NULL;
}

int sg_lookup_run(json_t **out, const struct sg_policy *p, const char *record_kind,
		  const char *key, struct sg_error *err)
{
	struct sg_connector c;
	struct sg_conn_request req;
	struct sg_conn_exchange x;
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	memset(&x, 0, sizeof(x));
	sg_buf_init(&x.body);
	sg_conn_request_init(&req);
	const struct sg_pnode *node = sg_lookup_connector(p, record_kind, &c.cfg.name);
	if (!node)
		return sg_error_set(err, SG_ENOTFOUND, "no connector lists lookups of '%s'",
				    record_kind);
	c.cfg.type = sg_pnode_str(node, "type", "");
	c.cfg.base_url = sg_pnode_str(node, "base_url", NULL);
	c.cfg.token_env = sg_pnode_str(node, "token_env", NULL);
	double t = sg_pnode_num(node, "timeout", -1), ct = sg_pnode_num(node, "connect_timeout", -1);
	c.cfg.timeout_ms = t < 0 ? SG_LOOKUP_TIMEOUT_MS : (int64_t)(t * 1000);
	c.cfg.connect_timeout_ms = ct < 0 ? c.cfg.timeout_ms : (int64_t)(ct * 1000);
	c.cfg.node = node;
	c.ops = sg_connector_ops_find(c.cfg.type);
	if (!c.ops || !c.ops->lookup_build || !c.ops->lookup_parse)
		return sg_error_set(err, SG_EINVALID, "connector '%s' (%s) has no lookups",
				    c.cfg.name, c.cfg.type);
	if (c.cfg.token_env) {
		const char *v = getenv(c.cfg.token_env);
		if (!v || !*v)
			return sg_error_set(err, SG_EUNAUTHORIZED,
					    "%s: environment variable %s (token_env) is not set",
					    c.cfg.type, c.cfg.token_env);
		c.token = (char *)v; /* borrowed: never freed here */
	} else if (c.ops->flags & SG_CONN_F_NEEDS_TOKEN) {
		return sg_error_set(err, SG_EUNAUTHORIZED, "connector '%s' (%s): `token_env` is required",
				    c.cfg.name, c.cfg.type);
	}
	if (!c.cfg.base_url)
		return sg_error_set(err, SG_EINVALID, "connector '%s' (%s): `base_url` is required",
				    c.cfg.name, c.cfg.type);
	if ((rc = c.ops->lookup_build(&req, &c, record_kind, key, err)) < 0)
		goto cleanup;
	req.timeout_ms = c.cfg.timeout_ms;
	req.connect_timeout_ms = c.cfg.connect_timeout_ms;
	if ((rc = sg_conn_perform(&x, &req, err)) < 0)
		goto cleanup;
	rc = c.ops->lookup_parse(out, &c, record_kind, &x.resp, err);
cleanup:
	sg_conn_request_release(&req);
	sg_conn_exchange_release(&x);
	return rc;
}
