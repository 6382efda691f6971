/*
 * connector.c - what every connector shares: building requests (headers,
 * JSON bodies, URLs), the generic HTTP classification (done / retry /
 * fail) and the Retry-After parser (delta seconds or an HTTP-date).
 */
#include "connectors/connector.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/connectors_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "policy/policy.h"
#include "core/banned.h"

void sg_conn_request_init(struct sg_conn_request *r)
{
	memset(r, 0, sizeof(*r));
}

void sg_conn_request_release(struct sg_conn_request *r)
{
	if (!r)
		return;
	sg_free(r->url);
	for (size_t i = 0; i < r->nheaders; i++)
		sg_free(r->headers[i]);
	sg_free(r->body);
	sg_free(r->mail_from);
	for (size_t i = 0; i < r->nrcpt; i++)
		sg_free(r->rcpt[i]);
	sg_conn_request_init(r);
}

int sg_conn_request_header(struct sg_conn_request *r, const char *fmt, ...)
{
	if (r->nheaders >= SG_CONN_MAX_HEADERS)
		return -SG_ELIMIT;
	struct sg_buf b = SG_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (b.oom) {
		sg_buf_release(&b);
		return -SG_ENOMEM;
	}
	/* a header value must not smuggle a second header in */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\r' || b.data[i] == '\n')
			b.data[i] = ' ';
	r->headers[r->nheaders++] = sg_buf_detach(&b, NULL);
	return 0;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	struct sg_buf *b = data;
	sg_buf_add(b, buffer, size);
	return b->oom ? -1 : 0;
}

int sg_conn_request_json(struct sg_conn_request *r, json_t *body, struct sg_error *err)
{
	if (!body)
		return sg_error_set(err, SG_ENOMEM, "out of memory building a request body");
	/* through a buffer, so the body is ours whatever jansson's allocator */
	struct sg_buf b = SG_BUF_INIT;
	int rc = json_dump_callback(body, dump_cb, &b, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (rc < 0 || b.oom) {
		sg_buf_release(&b);
		return sg_error_set(err, SG_ENOMEM, "out of memory building a request body");
	}
	sg_free(r->body);
	r->body = sg_buf_detach(&b, &r->body_len);
	if (sg_conn_request_header(r, "Content-Type: application/json") < 0)
		return sg_error_set(err, SG_ELIMIT, "too many request headers");
	return 0;
}

char *sg_conn_url(const struct sg_connector *c, const char *def_base, const char *path_fmt, ...)
{
	const char *base = c->cfg.base_url ? c->cfg.base_url : def_base;
	if (!base)
		return NULL;
	struct sg_buf b = SG_BUF_INIT;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	sg_buf_add(&b, base, n);
	va_list ap;
	va_start(ap, path_fmt);
	sg_buf_vaddf(&b, path_fmt, ap);
	va_end(ap);
	if (b.oom) {
		sg_buf_release(&b);
		return NULL;
	}
	return sg_buf_detach(&b, NULL);
}

/* ---- Retry-After ------------------------------------------------------ */

static int month_of(const char *m)
{
	static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	for (int i = 0; i < 12; i++)
		if (!strncmp(m, names[i], 3))
			return i;
	return -1;
}

int64_t sg_conn_retry_after_ms(const char *value, int64_t now_ms)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		unsigned long long s = strtoull(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end)
			return -1;
		if (s > 365ull * 86400)
			s = 365ull * 86400;
		return (int64_t)s * 1000;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	char wday[4], mon[4], zone[4];
	int day, year, hh, mm, ss;
	if (sscanf(value, "%3[A-Za-z], %d %3[A-Za-z] %d %d:%d:%d %3s", wday, &day, mon, &year,
		   &hh, &mm, &ss, zone) != 8 || strcmp(zone, "GMT"))
		return -1;
	int m = month_of(mon);
	if (m < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh > 23 || mm > 59 ||
	    ss > 60 || hh < 0 || mm < 0 || ss < 0)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = m;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	int64_t at = (int64_t)timegm(&tm) * 1000;
	return at > now_ms ? at - now_ms : 0;
}

/* ---- classification --------------------------------------------------- */

/* A short, printable excerpt of a response body for the operator. */
static void excerpt(char *out, size_t size, const char *body, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; body && i < len && o + 1 < size && i < 160; i++) {
		unsigned char ch = (unsigned char)body[i];
		out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	out[o] = 0;
}

void sg_conn_classify_http(struct sg_conn_result *out, const struct sg_conn_response *resp)
{
	char ex[180];
	memset(out, 0, sizeof(*out));
	out->retry_after_ms = -1;
	if (resp->timed_out) {
		out->outcome = SG_CONN_RETRY;
		snprintf(out->reason, sizeof(out->reason), "timed out%s%s",
			 resp->transport_msg ? ": " : "", resp->transport_msg ? resp->transport_msg : "");
		return;
	}
	if (resp->transport_error || resp->status == 0) {
		out->outcome = SG_CONN_RETRY;
		snprintf(out->reason, sizeof(out->reason), "no response: %s",
			 resp->transport_msg ? resp->transport_msg : "connection failed");
		return;
	}
	long st = resp->status;
	excerpt(ex, sizeof(ex), resp->body, resp->body_len);
	if (st >= 200 && st < 300) {
		out->outcome = SG_CONN_DONE;
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld", st);
		return;
	}
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s", st, ex[0] ? ": " : "", ex);
	if (st == 408 || st == 409 || st == 425 || st == 429 || st >= 500) {
		out->outcome = SG_CONN_RETRY;
		out->retry_after_ms = sg_conn_retry_after_ms(resp->retry_after, resp->now_ms);
		return;
	}
	out->outcome = SG_CONN_FAIL;
}

/* ---- payload helpers (connectors_int.h) ------------------------------- */

const char *sg_conn_str(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : def;
}

const char *sg_conn_cfg_str(const struct sg_connector *c, const char *key, const char *def)
{
	return sg_pnode_str(c->cfg.node, key, def);
}

const json_t *sg_conn_decision(const struct sg_conn_item *it)
{
	const json_t *d = json_object_get(it->payload, "decision");
	return json_is_object(d) ? d : it->payload;
}

/* ---- what the worker calls ------------------------------------------- */

int sg_conn_build(struct sg_conn_request *out, const struct sg_connector *c,
		  const struct sg_conn_item *it, struct sg_error *err)
{
	int rc;
	sg_conn_request_init(out);
	if (!c->ops->build)
		return sg_error_set(err, SG_EINVALID, "connector '%s' (%s) does not deliver actions",
				    c->cfg.name, c->cfg.type);
	out->timeout_ms = c->cfg.timeout_ms;
	out->connect_timeout_ms = c->cfg.connect_timeout_ms;
	if ((rc = c->ops->build(out, c, it, err)) < 0)
		goto cleanup;
	if (!out->url || !out->method) {
		rc = sg_error_set(err, SG_EINTERNAL, "connector '%s' built no request", c->cfg.name);
		goto cleanup;
	}
	if (!(c->ops->flags & (SG_CONN_F_SMTP | SG_CONN_F_VENDOR_DEDUP)) &&
	    sg_conn_request_header(out, "Idempotency-Key: %s", it->idem_key) < 0) {
		rc = sg_error_set(err, SG_ELIMIT, "too many request headers");
		goto cleanup;
	}
	if (!(c->ops->flags & SG_CONN_F_SMTP) &&
	    sg_conn_request_header(out, "User-Agent: sopgate") < 0) {
		rc = sg_error_set(err, SG_ELIMIT, "too many request headers");
		goto cleanup;
	}
	return 0;
cleanup:
	sg_conn_request_release(out);
	return rc;
}

void sg_conn_classify(struct sg_conn_result *out, const struct sg_connector *c,
		      const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	if (c->ops->classify)
		c->ops->classify(out, c, it, resp);
	else
		sg_conn_classify_http(out, resp);
}

void sg_conn_path_escape(struct sg_buf *b, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++)
		if (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			sg_buf_addc(b, *p);
		else
			sg_buf_addf(b, "%%%02X", (unsigned char)*p);
}

void sg_conn_base64(struct sg_buf *b, const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		sg_buf_addc(b, tab[(v >> 18) & 63]);
		sg_buf_addc(b, tab[(v >> 12) & 63]);
		sg_buf_addc(b, i + 1 < len ? tab[(v >> 6) & 63] : '=');
		sg_buf_addc(b, i + 2 < len ? tab[v & 63] : '=');
	}
}

void sg_conn_html_escape(struct sg_buf *b, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '&')
			sg_buf_adds(b, "&amp;");
		else if (*p == '<')
			sg_buf_adds(b, "&lt;");
		else if (*p == '>')
			sg_buf_adds(b, "&gt;");
		else if (*p == '\n')
			sg_buf_adds(b, "<br>");
		else
			sg_buf_addc(b, *p);
	}
}

const char *sg_conn_public_reply(const json_t *d)
{
	const char *gate = json_string_value(json_object_get(d, "gate"));
	const char *text = json_string_value(json_object_get(json_object_get(d, "draft"), "text"));
	return gate && !strcmp(gate, "auto_send") && text && *text ? text : NULL;
}

void sg_conn_note_text(struct sg_buf *b, const json_t *d)
{
	const char *gate = sg_conn_str(d, "gate", "?");
	sg_buf_addf(b, "sopgate: gate %s, risk %s, intent %s (%.2f)", gate,
		    sg_conn_str(d, "risk_tier", "?"), sg_conn_str(d, "intent", "?"),
		    json_number_value(json_object_get(d, "intent_confidence")));
	const char *q = sg_conn_str(d, "routed_queue", NULL);
	if (q)
		sg_buf_addf(b, ", queue %s", q);
	sg_buf_adds(b, "\n");
	const char *sum = sg_conn_str(d, "summary", NULL);
	if (sum)
		sg_buf_addf(b, "\n%s", sum);
	const json_t *rs = json_object_get(d, "reasons");
	size_t i;
	const json_t *r;
	if (json_array_size(rs))
		sg_buf_adds(b, "\nReasons:\n");
	json_array_foreach(rs, i, r)
		sg_buf_addf(b, "- %s: %s\n", sg_conn_str(r, "rule", "?"), sg_conn_str(r, "detail", ""));
	const char *draft = json_string_value(json_object_get(json_object_get(d, "draft"), "text"));
	if (draft && *draft)
		sg_buf_addf(b, "\nDraft (not sent):\n%s\n", draft);
}
