/*
 * http_test_util.h - fixtures shared by the server's HTTP tests: a server
 * on a free loopback port with a few test routes, an in-memory user table
 * and a static folder (with traps: hidden files, symlinks out), its access
 * log captured, and a small libcurl client with checks for the JSON error
 * shape and the security headers. Linked into test binaries only.
 */
#ifndef SG_SERVER_HTTP_TEST_UTIL_H
#define SG_SERVER_HTTP_TEST_UTIL_H

#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "server/server.h"

/* Bearer tokens of the user table: alice (agent), bob (lead), carol (admin). */
#define AGENT "tok-agent-0123456789"
#define LEAD "tok-lead-0123456789"
#define ADMIN "tok-admin-0123456789"

/* The server started by setup() and its port. */
extern struct sg_server *srv;
extern unsigned port;
/* Every access-log line of every server started here; hold log_lock. */
extern pthread_mutex_t log_lock;
extern struct sg_buf logbuf;
/* Posted by GET /v1/slow once inside its handler (which then takes 300 ms). */
extern sem_t slow_entered;

/* The handler of GET /v1/tickets/stats: {"stats":true}. */
int h_stats(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
	    struct sg_error *err);

/* Starts another server on the test routes and folder: rate per second
 * (0: no limit, else a burst of 3), Secure cookies or not. */
int start(struct sg_server **out, unsigned *p, double rate, int secure);
/* cmocka group fixtures: JSON, curl, the folder and `srv`; and back. */
int setup(void **state);
int teardown(void **state);

/* A response: status, body, raw headers, the body as JSON (or NULL). */
struct res {
	long status;
	struct sg_buf body, head;
	json_t *json;
};

void res_free(struct res *r);
/* method, path (sent as is), optional body, NULL-terminated extra headers */
void req_port(struct res *r, unsigned p, const char *method, const char *path,
	      const char *body, size_t len, const char *const *hdrs);
/* The same to `port`, with a NUL-terminated body. */
void req(struct res *r, const char *method, const char *path, const char *body,
	 const char *const *hdrs);
/* The value of response header `name` (first one), or NULL. */
const char *header(const struct res *r, const char *name, char *out, size_t outsz);
/* The body is exactly {"error":{"code":CODE,"message":"..."}}. */
void assert_error(const struct res *r, long status, const char *code, const char *msg_part);
void assert_security_headers(const struct res *r);

#endif
