/*
 * http_resp.c - what the HTTP daemon sends and reads: the JSON error shape,
 * the common security headers, handler responses, the request accessors
 * (path parameters, headers, query arguments, a JSON body under a depth
 * cap) and static files from the console directory.
 */
#include "server/server.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/limits.h"
#include "server/server_int.h"
#include "core/banned.h"

#define CSP "default-src 'self'"

/* ---- responses -------------------------------------------------------- */

void sg_server_common_headers(struct sg_http_conn *c, struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Request-Id", c->request_id);
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

enum MHD_Result sg_server_queue(struct sg_http_conn *c, int status,
				struct MHD_Response *r)
{
	if (!r)
		return MHD_NO;
	enum MHD_Result ok = MHD_queue_response(c->mc, (unsigned)status, r);
	MHD_destroy_response(r);
	if (ok == MHD_YES) {
		c->responded = 1;
		c->status = status;
	}
	return ok;
}

/* {"error":{"code":"...","message":"..."}} with the code's status (or an
 * explicit one), plus optional headers. */
enum MHD_Result sg_server_send_error(struct sg_http_conn *c, int status, int code,
				     const char *msg, const struct sg_server_hdr *hdr,
				     size_t nhdr)
{
	struct sg_buf b = SG_BUF_INIT;
	if (!status)
		status = sg_error_http(code);
	if (!msg || !*msg)
		msg = sg_error_text(code);
	sg_buf_adds(&b, "{\"error\":{\"code\":");
	const char *name = sg_error_name(code);
	sg_buf_add_json_str(&b, name, strlen(name));
	sg_buf_adds(&b, ",\"message\":");
	sg_buf_add_json_str(&b, msg, strlen(msg));
	sg_buf_adds(&b, "}}\n");
	if (b.oom) {
		sg_buf_release(&b);
		return MHD_NO;
	}
	size_t len;
	char *body = sg_buf_detach(&b, &len);
	if (!body)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
		len, body, sg_free);
	if (!r) {
		sg_free(body);
		return MHD_NO;
	}
	sg_server_common_headers(c, r);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; i < nhdr; i++)
		MHD_add_response_header(r, hdr[i].name, hdr[i].value);
	return sg_server_queue(c, status, r);
}

/* A handler's failure: 4xx say why, 5xx log why and say only what. */
enum MHD_Result sg_server_send_failure(struct sg_http_conn *c, int rc,
				       const struct sg_error *err)
{
	int code = err->code ? err->code : -rc;
	if (code <= 0 || code >= SG_E__COUNT)
		code = SG_EINTERNAL;
	int status = sg_error_http(code);
	if (status >= 500) {
		sg_server_logf(c->srv, "error req=%s %s: %s", c->request_id,
		      sg_error_name(code), err->msg[0] ? err->msg : "(no message)");
		return sg_server_send_error(c, status, code, NULL, NULL, 0);
	}
	return sg_server_send_error(c, status, code, err->msg, NULL, 0);
}

int sg_http_resp_header(struct sg_http_resp *resp, const char *name,
			const char *value)
{
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return -SG_EINVALID;
	if (resp->nheaders == SG_HTTP_MAX_RESP_HEADERS ||
	    strlen(name) >= sizeof(resp->headers[0].name) ||
	    strlen(value) >= sizeof(resp->headers[0].value))
		return -SG_ELIMIT;
	size_t i = resp->nheaders++;
	memcpy(resp->headers[i].name, name, strlen(name) + 1);
	memcpy(resp->headers[i].value, value, strlen(value) + 1);
	return 0;
}

static int dump_to_buf(const char *buf, size_t size, void *data)
{
	sg_buf_add(data, buf, size);
	return 0;
}

int sg_http_resp_json(struct sg_http_resp *resp, int status,
		      const json_t *value)
{
	sg_buf_reset(&resp->body);
	if (json_dump_callback(value, dump_to_buf, &resp->body,
			       JSON_COMPACT | JSON_ENCODE_ANY) != 0)
		return -SG_ENOMEM;
	sg_buf_addc(&resp->body, '\n');
	if (resp->body.oom)
		return -SG_ENOMEM;
	resp->status = status;
	return 0;
}

/* ---- request accessors ------------------------------------------------ */

const char *sg_http_param(const struct sg_http_req *req, const char *name)
{
	const struct sg_route_match *m = &req->conn->match;
	for (size_t i = 0; i < m->nparams; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return NULL;
}

const char *sg_http_header(const struct sg_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn->mc, MHD_HEADER_KIND, name);
}

int sg_http_query(const char **out, const struct sg_http_req *req,
		  const char *name, struct sg_error *err)
{
	struct sg_http_conn *c = req->conn;
	*out = NULL;
	const char *raw = MHD_lookup_connection_value(c->mc,
						      MHD_GET_ARGUMENT_KIND, name);
	if (!raw)
		return 0;
	if (c->nq == SG_SERVER_MAX_QUERY)
		return sg_error_set(err, SG_ELIMIT,
				    "query: more than %d arguments read",
				    SG_SERVER_MAX_QUERY);
	size_t len = strlen(raw);
	char *v = sg_malloc(len + 1);
	if (!v)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (sg_url_decode(v, raw, len, 1) < 0) {
		sg_free(v);
		return sg_error_set(err, SG_EINVALID,
				    "query argument '%s': invalid percent-encoding "
				    "or control character", name);
	}
	c->qvals[c->nq++] = v;
	*out = v;
	return 0;
}

/* Nesting depth of a JSON text, outside strings; jansson recurses per
 * level, so this is checked before parsing. */
static size_t json_depth(const char *s, size_t n)
{
	size_t depth = 0, max = 0;
	int in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '[' || ch == '{') {
			if (++depth > max)
				max = depth;
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	return max;
}

int sg_http_json_body(json_t **out, const struct sg_http_req *req,
		      struct sg_error *err)
{
	*out = NULL;
	const char *ct = sg_http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct && (strncasecmp(ct, "application/json", 16) != 0 ||
		   (ct[16] && ct[16] != ';' && ct[16] != ' ')))
		return sg_error_set(err, SG_EJSON,
				    "header 'Content-Type': expected "
				    "application/json");
	if (req->body_len == 0)
		return sg_error_set(err, SG_EJSON,
				    "body: required (a JSON object)");
	if (json_depth(req->body, req->body_len) > SG_MAX_JSON_DEPTH)
		return sg_error_set(err, SG_EJSON,
				    "body: nested deeper than %d levels",
				    SG_MAX_JSON_DEPTH);
	json_t *v = NULL;
	int rc = sg_json_parse(&v, req->body, req->body_len, err);
	if (rc)
		return rc;
	if (!json_is_object(v)) {
		rc = sg_error_set(err, SG_EJSON, "body: expected a JSON object, "
				  "got %s", sg_json_type_name(v));
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* ---- static files ----------------------------------------------------- */

enum MHD_Result sg_server_serve_static(struct sg_http_conn *c, const char *url)
{
	struct sg_server *srv = c->srv;
	size_t ul = strlen(url);
	char *rel = sg_malloc(ul + 11);
	char *full = NULL;
	int fd = -1;
	enum MHD_Result res;
	if (!rel)
		return MHD_NO;
	c->route = "static";
	if (sg_static_path(rel, ul + 11, url) < 0)
		goto notfound;
	size_t fl = strlen(srv->static_real) + 1 + strlen(rel) + 1;
	full = sg_malloc(fl);
	if (!full) {
		res = MHD_NO;
		goto cleanup;
	}
	snprintf(full, fl, "%s/%s", srv->static_real, rel);
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto notfound;
	/* No symlinked directory on the way may lead outside the root. */
	char real[PATH_MAX];
	size_t rl = strlen(srv->static_real);
	if (!realpath(full, real) || strncmp(real, srv->static_real, rl) != 0 ||
	    real[rl] != '/')
		goto notfound;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto notfound;
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size,
							     fd);
	if (!r) {
		res = MHD_NO;
		goto cleanup;
	}
	fd = -1; /* the response owns it now */
	sg_server_common_headers(c, r);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				sg_static_type(rel));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
				strcmp(rel, "index.html") == 0 ?
				"no-cache" : "public, max-age=3600");
	res = sg_server_queue(c, 200, r);
	goto cleanup;
notfound:
	res = sg_server_send_error(c, 0, SG_ENOTFOUND, "no such page", NULL, 0);
cleanup:
	if (fd >= 0)
		close(fd);
	sg_free(rel);
	sg_free(full);
	return res;
}
