/*
 * server_int.h - shared by the server's own files: the compiled router,
 * percent-decoding, the static-file path check, and the in-memory session
 * table. Pure functions here are what route_fuzz.c exercises.
 */
#ifndef SG_SERVER_SERVER_INT_H
#define SG_SERVER_SERVER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/limits.h"
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

#endif
