/*
 * http_auth.c - who is calling: bearer tokens and the console session
 * cookie with its CSRF token, per-caller rate limiting, and the built-in
 * session routes (log in, who am I, log out).
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"
#include "core/limits.h"
#include "server/ratelimit.h"
#include "server/server_int.h"
#include "core/banned.h"

#define COOKIE_NAME "sg_session"

/* ---- authentication --------------------------------------------------- */

/* The bearer token of an "Authorization: Bearer x" header, or NULL. */
static const char *bearer(struct sg_http_conn *c)
{
	const char *h = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* The session cookie value (64 hex characters) into out, or 0. */
static int session_cookie(struct sg_http_conn *c, char out[65])
{
	const char *h = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_COOKIE);
	if (!h)
		return 0;
	size_t nl = strlen(COOKIE_NAME);
	for (const char *p = h; *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == nl + 1 + 64 && strncmp(p, COOKIE_NAME "=", nl + 1) == 0) {
			const char *v = p + nl + 1;
			for (size_t i = 0; i < 64; i++)
				if (!((v[i] >= '0' && v[i] <= '9') ||
				      (v[i] >= 'a' && v[i] <= 'f')))
					return 0;
			memcpy(out, v, 64);
			out[64] = '\0';
			return 1;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 256)
		return 0;
	for (; *t; t++)
		if (*t <= 0x20 || *t >= 0x7f)
			return 0;
	return 1;
}

/* Establishes who is calling: a bearer token first, else the console
 * session cookie (whose CSRF token mutating requests must echo). On
 * SG_AUTH_BAD err says why; server-side failures return the negative code. */
int sg_server_authenticate(struct sg_http_conn *c, int mutating, int *via_cookie,
			   char key[80], struct sg_error *err)
{
	struct sg_server *srv = c->srv;
	const char *tok = bearer(c);
	char sid[65];
	*via_cookie = 0;
	if (tok) {
		if (!token_ok(tok)) {
			sg_error_set(err, SG_EUNAUTHORIZED,
				     "header 'Authorization': malformed bearer token");
			return SG_AUTH_BAD;
		}
		if (!srv->auth.verify_token) {
			sg_error_set(err, SG_EUNAUTHORIZED,
				     "no user store configured");
			return SG_AUTH_BAD;
		}
		struct sg_error e2 = SG_ERROR_INIT;
		int rc = srv->auth.verify_token(srv->auth.ctx, tok, &c->user, &e2);
		if (rc == -SG_EUNAUTHORIZED || (rc == 0 && c->user.role == SG_ROLE_NONE)) {
			sg_error_set(err, SG_EUNAUTHORIZED,
				     "header 'Authorization': unknown or revoked token");
			return SG_AUTH_BAD;
		}
		if (rc) {
			*err = e2;
			return rc;
		}
		char h[SG_SHA256_HEX];
		sg_sha256_hex(tok, strlen(tok), h);
		snprintf(key, 80, "tok:%.32s", h);
		return SG_AUTH_OK;
	}
	if (session_cookie(c, sid)) {
		char h[SG_SHA256_HEX], csrf[SG_CSRF_LEN];
		int64_t exp = 0;
		sg_sha256_hex(sid, 64, h);
		struct sg_error e2 = SG_ERROR_INIT;
		int rc = srv->auth.session_get(srv->sess_ctx, h, &c->user, csrf,
					       &exp, &e2);
		if (rc == -SG_EUNAUTHORIZED || (rc == 0 && exp <= sg_now_ms())) {
			sg_error_set(err, SG_EUNAUTHORIZED,
				     "session: unknown or expired, log in again");
			return SG_AUTH_BAD;
		}
		if (rc) {
			*err = e2;
			return rc;
		}
		if (mutating) {
			const char *x = MHD_lookup_connection_value(
				c->mc, MHD_HEADER_KIND, "X-CSRF-Token");
			if (!x) {
				sg_error_set(err, SG_EFORBIDDEN,
					     "header 'X-CSRF-Token': required with "
					     "a session cookie");
				return SG_AUTH_BAD;
			}
			if (strlen(x) != SG_CSRF_LEN - 1 ||
			    !sg_ct_equal(x, csrf, SG_CSRF_LEN - 1)) {
				sg_error_set(err, SG_EFORBIDDEN,
					     "header 'X-CSRF-Token': does not match "
					     "the session");
				return SG_AUTH_BAD;
			}
		}
		*via_cookie = 1;
		snprintf(key, 80, "ses:%.32s", h);
		return SG_AUTH_OK;
	}
	sg_error_set(err, SG_EUNAUTHORIZED,
		     "credentials required: 'Authorization: Bearer <token>' "
		     "or a console session");
	return SG_AUTH_NONE;
}

void sg_server_client_key(struct sg_http_conn *c, char key[80])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN] = "unknown";
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				  addr, sizeof(addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				  addr, sizeof(addr));
	}
	snprintf(key, 80, "ip:%s", addr);
}

/* 1 when the request may proceed, else a 429 has been queued. */
int sg_server_rate_ok(struct sg_http_conn *c, const char *key,
		      enum MHD_Result *res)
{
	struct sg_server *srv = c->srv;
	unsigned ra = 1;
	if (!srv->rl_on || sg_ratelimit_take(&srv->rl, key, sg_mono_ns(), &ra))
		return 1;
	char v[16];
	snprintf(v, sizeof(v), "%u", ra);
	struct sg_server_hdr h = {"Retry-After", v};
	char msg[96];
	snprintf(msg, sizeof(msg), "too many requests: retry in %u s", ra);
	*res = sg_server_send_error(c, 0, SG_ERATE, msg, &h, 1);
	return 0;
}

static int session_json(struct sg_http_resp *resp, int status,
			const struct sg_user *u, const char *csrf)
{
	json_t *o = json_pack("{s:s, s:s}", "user", u->name, "role",
			      sg_role_name(u->role));
	if (!o)
		return -SG_ENOMEM;
	if (csrf && json_object_set_new(o, "csrf_token", json_string(csrf))) {
		json_decref(o);
		return -SG_ENOMEM;
	}
	int rc = sg_http_resp_json(resp, status, o);
	json_decref(o);
	return rc;
}

static void cookie_header(struct sg_server *srv, char *out, size_t n,
			  const char *value, long max_age)
{
	snprintf(out, n, COOKIE_NAME "=%s; HttpOnly; SameSite=Strict; Path=/; "
		 "Max-Age=%ld%s", value, max_age,
		 srv->o.cookie_secure ? "; Secure" : "");
}

/* POST /v1/session {"token": "..."}: exchanges an API token for a console
 * session cookie and returns the CSRF token the console must echo. */
int sg_server_login(void *ctx, const struct sg_http_req *req,
		    struct sg_http_resp *resp, struct sg_error *err)
{
	struct sg_server *srv = ctx;
	json_t *body = NULL;
	const char *tok = NULL;
	int rc = sg_http_json_body(&body, req, err);
	if (rc)
		return rc;
	if ((rc = sg_json_str(body, "token", "token", 1, &tok, err)))
		goto cleanup;
	struct sg_user u;
	memset(&u, 0, sizeof(u));
	if (!token_ok(tok) || !srv->auth.verify_token) {
		rc = sg_error_set(err, SG_EUNAUTHORIZED,
				  "field 'token': unknown or revoked token");
		goto cleanup;
	}
	struct sg_error e2 = SG_ERROR_INIT;
	rc = srv->auth.verify_token(srv->auth.ctx, tok, &u, &e2);
	if (rc == -SG_EUNAUTHORIZED || (rc == 0 && u.role == SG_ROLE_NONE)) {
		rc = sg_error_set(err, SG_EUNAUTHORIZED,
				  "field 'token': unknown or revoked token");
		goto cleanup;
	}
	if (rc) {
		*err = e2;
		goto cleanup;
	}
	uint8_t raw[64];
	if (sg_random_bytes(raw, sizeof(raw))) {
		rc = sg_error_set(err, SG_EINTERNAL, "no randomness for a session");
		goto cleanup;
	}
	char sid[65], csrf[SG_CSRF_LEN], h[SG_SHA256_HEX];
	sg_hex(raw, 32, sid);
	sg_hex(raw + 32, 32, csrf);
	memset(raw, 0, sizeof(raw));
	sg_sha256_hex(sid, 64, h);
	int64_t exp = sg_now_ms() + (int64_t)srv->o.session_ttl_s * 1000;
	if ((rc = srv->auth.session_put(srv->sess_ctx, h, &u, csrf, exp, err)))
		goto cleanup;
	char cookie[256];
	cookie_header(srv, cookie, sizeof(cookie), sid, (long)srv->o.session_ttl_s);
	if ((rc = sg_http_resp_header(resp, "Set-Cookie", cookie)))
		goto cleanup;
	rc = session_json(resp, 201, &u, csrf);
cleanup:
	json_decref(body);
	return rc;
}

/* GET /v1/session: who am I (and, for the console, the CSRF token). */
int sg_server_whoami(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err)
{
	struct sg_server *srv = ctx;
	if (!req->via_cookie)
		return session_json(resp, 200, req->user, NULL);
	char sid[65], h[SG_SHA256_HEX], csrf[SG_CSRF_LEN];
	struct sg_user u;
	int64_t exp;
	if (!session_cookie(req->conn, sid))
		return sg_error_set(err, SG_EUNAUTHORIZED, "session: missing");
	sg_sha256_hex(sid, 64, h);
	int rc = srv->auth.session_get(srv->sess_ctx, h, &u, csrf, &exp, err);
	if (rc)
		return rc;
	return session_json(resp, 200, &u, csrf);
}

/* DELETE /v1/session: logs the console out. */
int sg_server_logout(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err)
{
	struct sg_server *srv = ctx;
	char sid[65], h[SG_SHA256_HEX];
	if (req->via_cookie && session_cookie(req->conn, sid)) {
		sg_sha256_hex(sid, 64, h);
		int rc = srv->auth.session_del(srv->sess_ctx, h, err);
		if (rc)
			return rc;
	}
	char cookie[128];
	cookie_header(srv, cookie, sizeof(cookie), "", 0);
	int rc = sg_http_resp_header(resp, "Set-Cookie", cookie);
	if (rc)
		return rc;
	resp->status = 204;
	return 0;
}
