/*
 * server_int.h - shared by the server's own files: the compiled router,
 * percent-decoding, the static-file path check, and the in-memory session
 * table, and the HTTP daemon's per-request state and the helpers its files
 * (http.c, http_resp.c, http_auth.c) share. Pure functions here are what
 * route_fuzz.c exercises.
 */
#ifndef SG_SERVER_SERVER_INT_H
#define SG_SERVER_SERVER_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "core/error.h"
#include "core/limits.h"
#include "core/buf.h"
#include "server/ratelimit.h"
#include "server/server.h"

/* Percent-decodes in[0..len) into out (at least len + 1 bytes) and
 * NUL-terminates it. plus_space: '+' becomes ' ' (query strings). Returns
 * the decoded length, or -1 for a bad escape, a NUL byte (raw or %00) or
 * another control character (below 0x20, or 0x7f). */
long sg_url_decode(char *out, const char *in, size_t len, int plus_space);

struct sg_route_seg {
	char *text;   /* literal text, or the parameter name */
	int is_param; /* {name} */
};

struct sg_router_entry {
	struct sg_route route; /* method/pattern point into owned copies */
	struct sg_route_seg seg[SG_MAX_PATH_SEGMENTS];
	size_t nseg;
};

struct sg_router {
	struct sg_router_entry *e;
	size_t n;
};

/* Compiles and validates the table: known methods, patterns starting with
 * '/', well-formed {name} segments, no duplicate method+pattern, a handler,
 * and no mutating route without a role unless flagged SG_ROUTE_PUBLIC.
 * 0 or -SG_EINVALID naming the route; -SG_ENOMEM. */
int sg_router_init(struct sg_router *rt, const struct sg_route *routes,
		   size_t n, struct sg_error *err);
void sg_router_release(struct sg_router *rt);

struct sg_route_match {
	const struct sg_router_entry *entry; /* NULL unless matched */
	size_t nparams;
	const char *names[SG_MAX_PATH_SEGMENTS];
	const char *values[SG_MAX_PATH_SEGMENTS]; /* decoded, in buf */
	char allow[64]; /* 405: "GET, POST" */
	char *buf;      /* owned: the decoded segments */
};

/*
 * Matches method + raw path (no query). Returns 0 with m->entry set; or
 * -SG_ENOTFOUND (no pattern has this path); or -SG_ECONFLICT (the path
 * exists with other methods: m->allow lists them); or -SG_EINVALID (bad
 * percent-encoding or too many segments, with err naming it); -SG_ENOMEM.
 * HEAD matches GET routes. Release m with sg_route_match_release in every
 * case.
 */
int sg_router_match(const struct sg_router *rt, const char *method,
		    const char *path, struct sg_route_match *m,
		    struct sg_error *err);
void sg_route_match_release(struct sg_route_match *m);

/* Maps a raw request path to a file path relative to the static root:
 * "/" -> "index.html". Every segment is percent-decoded, then refused when
 * empty, ".", "..", starting with '.', or holding '/', '\\', ':' or a
 * control byte. Returns the length, or -1 (out must hold len + 11 bytes). */
long sg_static_path(char *out, size_t outsz, const char *path);
/* Content-Type for a file name by extension (application/octet-stream for
 * unknown ones). */
const char *sg_static_type(const char *name);

/* The built-in session table (used when the auth ops have none). */
struct sg_session_entry;
struct sg_sessions {
	pthread_mutex_t lock;
	struct sg_session_entry *e; /* SG_MAX_SESSIONS */
	size_t n;
};
int sg_sessions_init(struct sg_sessions *s);
void sg_sessions_release(struct sg_sessions *s);
int sg_sessions_put(void *ctx, const char *sid_hash, const struct sg_user *user,
		    const char *csrf, int64_t expires_ms, struct sg_error *err);
int sg_sessions_get(void *ctx, const char *sid_hash, struct sg_user *out,
		    char csrf[SG_CSRF_LEN], int64_t *expires_ms,
		    struct sg_error *err);
int sg_sessions_del(void *ctx, const char *sid_hash, struct sg_error *err);

/* ---- the HTTP daemon (http.c, http_resp.c, http_auth.c) ---- */

#define SG_SERVER_MAX_QUERY 16 /* query arguments read per request */

/* The running server (http.c). */
struct sg_server {
	struct MHD_Daemon *d;
	struct sg_router router;
	struct sg_server_options o;     /* strings below are owned copies */
	char *bind_addr, *static_dir, *version;
	char static_real[PATH_MAX];
	struct sg_auth_ops auth;        /* session ops resolved */
	struct sg_sessions sessions;
	int have_sessions;
	void *sess_ctx;                 /* auth.ctx, or &sessions */
	struct sg_ratelimit rl;
	int rl_on;
	struct sg_metrics *metrics;
	int own_metrics;
	struct sg_metric *m_requests, *m_latency, *m_inflight;
	atomic_long inflight;
	unsigned port;
};

/* Per-request state, from the first callback to on_completed. */
struct sg_http_conn {
	struct sg_server *srv;
	struct MHD_Connection *mc;
	uint64_t start_ns;
	char request_id[72];
	char method[12];
	char path[160]; /* for the log: printable, truncated, no query */
	struct sg_buf body;
	int responded;     /* a response is queued */
	int too_large;     /* the body passed the cap: discarding */
	int status;
	const char *route; /* label for metrics: a pattern, "static", "unmatched" */
	struct sg_route_match match;
	struct sg_user user;
	char *qvals[SG_SERVER_MAX_QUERY];
	size_t nq;
};

/* One line to the server's log callback (stderr by default). */
void sg_server_logf(struct sg_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Responses (http_resp.c). Each queues the response on c's connection and
 * records the status; MHD_NO when it could not be queued. */
/* An extra response header. */
struct sg_server_hdr {
	const char *name, *value;
};

/* The security headers every response carries, and the request id. */
void sg_server_common_headers(struct sg_http_conn *c, struct MHD_Response *r);
/* Queues r with status and destroys the caller's reference to it. */
enum MHD_Result sg_server_queue(struct sg_http_conn *c, int status,
				struct MHD_Response *r);
/* {"error":{"code":"...","message":"..."}} with the code's status (or an
 * explicit one), plus optional headers. */
enum MHD_Result sg_server_send_error(struct sg_http_conn *c, int status,
				     int code, const char *msg,
				     const struct sg_server_hdr *hdr,
				     size_t nhdr);
/* A handler's failure: 4xx say why, 5xx log why and say only what. */
enum MHD_Result sg_server_send_failure(struct sg_http_conn *c, int rc,
				       const struct sg_error *err);
/* A file under the static root, or a JSON 404. */
enum MHD_Result sg_server_serve_static(struct sg_http_conn *c,
				       const char *url);

/* Authentication and rate limiting (http_auth.c). */
enum sg_server_auth { SG_AUTH_NONE, SG_AUTH_OK, SG_AUTH_BAD };
/* Establishes who is calling: a bearer token first, else the console
 * session cookie (whose CSRF token mutating requests must echo). Returns
 * an sg_server_auth (key: the rate-limit key of the caller); on SG_AUTH_BAD
 * err says why; server-side failures return the negative code. */
int sg_server_authenticate(struct sg_http_conn *c, int mutating,
			   int *via_cookie, char key[80],
			   struct sg_error *err);
/* The rate-limit key of the client address. */
void sg_server_client_key(struct sg_http_conn *c, char key[80]);
/* 1 when the request may proceed, else a 429 has been queued (*res). */
int sg_server_rate_ok(struct sg_http_conn *c, const char *key,
		      enum MHD_Result *res);
/* The built-in session routes: POST, GET and DELETE /v1/session (ctx is
 * the struct sg_server). */
int sg_server_login(void *ctx, const struct sg_http_req *req,
		    struct sg_http_resp *resp, struct sg_error *err);
int sg_server_whoami(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err);
int sg_server_logout(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err);

#endif
