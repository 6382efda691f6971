/*
 * transport.c - one connector request as a libcurl easy handle: HTTP(S)
 * with method, headers and body, or SMTP with sender, recipients and the
 * message; timeouts from the connector; the response body (capped) and
 * the Retry-After / X-RateLimit-Reset headers captured for classify.
 */
#include "outbox/outbox_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/banned.h"

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct sg_xfer *x = ud;
	size_t len = size * n;
	if (x->in.len < SG_OUTBOX_MAX_RESPONSE) {
		size_t keep = SG_OUTBOX_MAX_RESPONSE - x->in.len;
		sg_buf_add(&x->in, data, len < keep ? len : keep);
	}
	return len;
}

/* "Name: value\r\n" -> value into out when the name matches. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return;
	const char *v = line + nl + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	snprintf(out, size, "%.*s", (int)(end - v), v);
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct sg_xfer *x = ud;
	size_t len = size * n;
	/* a new response (after a 100 Continue or redirect) starts clean */
	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		x->retry_after[0] = 0;
		x->rl_reset[0] = 0;
	}
	header_value(data, len, "Retry-After", x->retry_after, sizeof(x->retry_after));
	header_value(data, len, "X-RateLimit-Reset", x->rl_reset, sizeof(x->rl_reset));
	return len;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *ud)
{
	struct sg_xfer *x = ud;
	size_t room = size * n, left = x->req.body_len - x->up_off;
	size_t k = left < room ? left : room;
	memcpy(buf, x->req.body + x->up_off, k);
	x->up_off += k;
	return k;
}

#define SET(opt, val)                                                              \
	do {                                                                       \
		if (curl_easy_setopt(x->h, opt, val) != CURLE_OK) {                 \
			rc = sg_error_set(err, SG_EINTERNAL, "libcurl: cannot set " #opt); \
			goto cleanup;                                              \
		}                                                                  \
	} while (0)

int sg_xfer_setup(struct sg_xfer *x, struct sg_error *err)
{
	int rc = 0;
	struct sg_conn_request *r = &x->req;
	int smtp = !strcmp(r->method, "SMTP");
	x->in = (struct sg_buf)SG_BUF_INIT;
	x->errbuf[0] = 0;
	if (!(x->h = curl_easy_init()))
		return sg_error_set(err, SG_ENOMEM, "libcurl: out of memory");
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_PRIVATE, (void *)x);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, (void *)x);
	SET(CURLOPT_TIMEOUT_MS, (long)(r->timeout_ms > 0 ? r->timeout_ms : 10000));
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(r->connect_timeout_ms > 0 ? r->connect_timeout_ms : 5000));
	/* a connector speaks one protocol; never follow a redirect elsewhere */
	SET(CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	if (r->username)
		SET(CURLOPT_USERNAME, r->username);
	if (r->password)
		SET(CURLOPT_PASSWORD, r->password);
	for (size_t i = 0; i < r->nheaders; i++) {
		struct curl_slist *l = curl_slist_append(x->hdrs, r->headers[i]);
		if (!l) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		x->hdrs = l;
	}
	if (smtp) {
		SET(CURLOPT_MAIL_FROM, r->mail_from ? r->mail_from : "");
		for (size_t i = 0; i < r->nrcpt; i++) {
			struct curl_slist *l = curl_slist_append(x->rcpt, r->rcpt[i]);
			if (!l) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
			x->rcpt = l;
		}
		SET(CURLOPT_MAIL_RCPT, x->rcpt);
		SET(CURLOPT_READFUNCTION, on_upload);
		SET(CURLOPT_READDATA, (void *)x);
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
		/* STARTTLS when the server offers it; smtps:// is TLS from the start */
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		return 0;
	}
	if (x->hdrs) {
		/* no "Expect: 100-continue" round trip for small JSON bodies */
		struct curl_slist *l = curl_slist_append(x->hdrs, "Expect:");
		if (!l) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		x->hdrs = l;
		SET(CURLOPT_HTTPHEADER, x->hdrs);
	}
	if (!strcmp(r->method, "GET")) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		SET(CURLOPT_POSTFIELDS, r->body ? r->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
		if (strcmp(r->method, "POST"))
			SET(CURLOPT_CUSTOMREQUEST, r->method);
	}
	return 0;
cleanup:
	sg_xfer_release(x);
	return rc;
}

void sg_xfer_response(struct sg_xfer *x, CURLcode res, struct sg_conn_response *out)
{
	long code = 0;
	memset(out, 0, sizeof(*out));
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	out->status = code;
	out->now_ms = sg_now_ms();
	if (res != CURLE_OK) {
		out->timed_out = res == CURLE_OPERATION_TIMEDOUT;
		/* SMTP reports a refused recipient or message as an error with
		 * the server's reply code: classify on the code */
		out->transport_error = !(code >= 400 && !strcmp(x->req.method, "SMTP"));
		if (out->timed_out)
			out->transport_error = 1;
		out->transport_msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(res);
	}
	out->body = x->in.data;
	out->body_len = x->in.len;
	out->retry_after = x->retry_after[0] ? x->retry_after : NULL;
	out->ratelimit_reset = x->rl_reset[0] ? x->rl_reset : NULL;
}

void sg_xfer_release(struct sg_xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->rcpt);
	x->hdrs = x->rcpt = NULL;
	sg_conn_request_release(&x->req);
	sg_buf_release(&x->in);
}
