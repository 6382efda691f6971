/*
 * server.h - the HTTP foundation of `sopgate serve`: a libmicrohttpd daemon
 * with a data-driven route table, one JSON error shape, body/header limits,
 * request ids, access logging, per-token rate limiting, bearer and cookie
 * authentication with CSRF, roles per route, Prometheus metrics, /healthz
 * and the console's static files. docs/internals/server.md is the guide.
 *
 * The caller owns the routes: it passes a table of `struct sg_route` (method,
 * pattern with {name} parameters, minimum role, handler) and the server adds
 * its own (/healthz, /metrics, /v1/session). Handlers run on the server's
 * threads, concurrently: whatever they share must be thread-safe.
 */
#ifndef SG_SERVER_SERVER_H
#define SG_SERVER_SERVER_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

struct sg_metrics;

/* Roles, in increasing order of authority (the policy's approver roles). */
enum sg_role {
	SG_ROLE_NONE = 0, /* no credentials needed */
	SG_ROLE_AGENT,
	SG_ROLE_LEAD,
	SG_ROLE_SPECIALIST,
	SG_ROLE_ADMIN,
};

const char *sg_role_name(enum sg_role role); /* "lead"; "none" */
/* 0 or -SG_EINVALID for an unknown name ("none" is not accepted). */
int sg_role_parse(enum sg_role *out, const char *name);

#define SG_USER_NAME_MAX 64

struct sg_user {
	char name[SG_USER_NAME_MAX];
	enum sg_role role;
};

#define SG_SESSION_HASH_LEN 65 /* hex SHA-256 of the cookie value + NUL */
#define SG_CSRF_LEN 65         /* hex of 32 random bytes + NUL */

/*
 * What the server asks of the user store. Every callback may be called from
 * several server threads at once. Return 0, -SG_EUNAUTHORIZED for an unknown
 * or revoked credential, or another negative code for a server-side failure
 * (answered 5xx; the message is logged, not sent).
 */
struct sg_auth_ops {
	void *ctx;
	/* Required for any route with a minimum role: the API bearer token,
	 * as sent; compare hashes, never store the token. */
	int (*verify_token)(void *ctx, const char *token, struct sg_user *out,
			    struct sg_error *err);
	/* Optional session persistence, all three or none; without them the
	 * server keeps sessions in memory (SG_MAX_SESSIONS, lost on restart).
	 * `sid_hash` is the hex SHA-256 of the cookie value: the cookie itself
	 * is never handed out of the server. */
	int (*session_put)(void *ctx, const char *sid_hash,
			   const struct sg_user *user, const char *csrf,
			   int64_t expires_ms, struct sg_error *err);
	int (*session_get)(void *ctx, const char *sid_hash, struct sg_user *out,
			   char csrf[SG_CSRF_LEN], int64_t *expires_ms,
			   struct sg_error *err);
	int (*session_del)(void *ctx, const char *sid_hash,
			   struct sg_error *err);
};

struct sg_http_conn; /* the server's per-request state */

/* One request, as a handler sees it. Strings live until the handler
 * returns. */
struct sg_http_req {
	const char *method;     /* "GET", "POST", ... */
	const char *path;       /* as received, percent-encoded, no query */
	const char *route;      /* the matched pattern: "/v1/tickets/{id}" */
	const char *body;       /* NUL-terminated copy of the body ("" if none) */
	size_t body_len;
	const struct sg_user *user; /* NULL when the route needs none */
	int via_cookie;         /* authenticated by the console session */
	const char *request_id;
	struct sg_http_conn *conn;
};

/* A path parameter by name, percent-decoded; NULL when the route has none
 * of that name. */
const char *sg_http_param(const struct sg_http_req *req, const char *name);
/* A request header (case-insensitive name), NULL when absent. */
const char *sg_http_header(const struct sg_http_req *req, const char *name);
/* A query argument, percent-decoded ('+' is a space); NULL when absent.
 * -SG_EINVALID (with the argument named) for bad encoding. */
int sg_http_query(const char **out, const struct sg_http_req *req,
		  const char *name, struct sg_error *err);
/* Parses the body as a JSON object: 0, or -SG_EJSON naming the problem
 * ("body: expected a JSON object"). *out is a new reference. */
int sg_http_json_body(json_t **out, const struct sg_http_req *req,
		      struct sg_error *err);

#define SG_HTTP_MAX_RESP_HEADERS 8

/* What a handler fills in. Status defaults to 200 and the content type to
 * application/json. */
struct sg_http_resp {
	int status;
	struct sg_buf body;
	char content_type[64];
	struct {
		char name[48];
		char value[256];
	} headers[SG_HTTP_MAX_RESP_HEADERS];
	size_t nheaders;
};

/* Adds a response header: 0, or -SG_ELIMIT when the table is full or the
 * name/value too long, -SG_EINVALID for CR/LF in either. */
int sg_http_resp_header(struct sg_http_resp *resp, const char *name,
			const char *value);
/* Serialises a JSON value as the body (status kept): 0 or -SG_ENOMEM. */
int sg_http_resp_json(struct sg_http_resp *resp, int status,
		      const json_t *value);

/*
 * A handler returns 0 when `resp` is the answer, or a negative SG_E... with
 * err set: the server then answers with the code's HTTP status and
 *   {"error":{"code":"invalid_json","message":"field 'body': required"}}
 * (5xx errors send the generic text and log the message instead).
 */
typedef int (*sg_http_handler)(void *ctx, const struct sg_http_req *req,
			       struct sg_http_resp *resp, struct sg_error *err);

/* Route flags. */
#define SG_ROUTE_PUBLIC      1u /* a mutating route without a role (webhooks:
				 * they verify a signature instead) */
#define SG_ROUTE_NO_LIMIT    2u /* exempt from rate limiting */

struct sg_route {
	const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern; /* "/v1/tickets/{id}/approve" */
	enum sg_role min_role;
	unsigned flags;
	sg_http_handler fn;
	void *ctx;
};

struct sg_server_options {
	const char *bind_addr;     /* IPv4 or IPv6 literal; "127.0.0.1" */
	unsigned port;             /* 0: any free port (see sg_server_port) */
	unsigned threads;          /* worker threads; 2 */
	unsigned conn_timeout_s;   /* idle connection timeout; 30 */
	unsigned max_connections;  /* 512 */
	size_t max_body;           /* SG_MAX_BODY_BYTES */
	size_t max_header;         /* SG_MAX_HEADER_BYTES */
	const struct sg_route *routes; /* the caller's routes, copied */
	size_t nroutes;
	struct sg_auth_ops auth;
	int cookie_secure;         /* add "Secure" to the session cookie */
	unsigned session_ttl_s;    /* 12 hours */
	double rate_per_s;         /* per token or client address; 0: off */
	double rate_burst;         /* bucket size; rate_per_s * 2 when 0 */
	const char *static_dir;    /* the console; NULL: no static files */
	struct sg_metrics *metrics; /* NULL: the server makes its own */
	/* Access log, one line per request (never bodies or query strings);
	 * NULL: standard error. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	const char *version;       /* shown by /healthz */
};

#define SG_SERVER_OPTIONS_INIT                                                 \
	{"127.0.0.1", 0, 2, 30, 512, 0, 0, NULL, 0,                            \
	 {NULL, NULL, NULL, NULL, NULL}, 0, 12 * 3600, 0, 0, NULL, NULL, NULL, \
	 NULL, NULL}

struct sg_server;

/* Validates the options and routes, binds and starts serving. 0, or
 * -SG_EINVALID (a bad route, address or option, named), -SG_EIO (cannot
 * bind, with the reason), -SG_ENOMEM. *out is NULL on failure. */
int sg_server_start(struct sg_server **out,
		    const struct sg_server_options *opts, struct sg_error *err);
/* The bound port (the one picked when options.port was 0). */
unsigned sg_server_port(const struct sg_server *srv);
/* The registry /metrics renders; register your families here. */
struct sg_metrics *sg_server_metrics(struct sg_server *srv);
/* Stops accepting, lets requests in flight finish for up to grace_ms, then
 * closes every connection and frees the server. NULL is a no-op. */
void sg_server_stop(struct sg_server *srv, unsigned grace_ms);

/* Graceful shutdown on signals: block SIGINT, SIGTERM and SIGHUP in the
 * calling thread BEFORE sg_server_start (the server's threads inherit the
 * mask), then wait for one; SIGHUP is returned to the caller too (policy
 * reload). 0 or -SG_EINTERNAL; the wait returns the signal number. */
int sg_server_signals_block(sigset_t *set);
int sg_server_signals_wait(const sigset_t *set);

#endif
