/*
 * fake_http.h - a small HTTP server for connector tests: libmicrohttpd on
 * 127.0.0.1 with a free port (port 0), one thread per connection, a test
 * handler that answers each request, and a record of every request
 * (method, path, query arguments, headers, body) to check the exact shape
 * sent. A handler may ask to hang (never answer) to test timeouts.
 * Test code only: static inline, no symbols in the library.
 */
#ifndef SG_CONNECTORS_FAKE_HTTP_H
#define SG_CONNECTORS_FAKE_HTTP_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"

#define FAKE_MAX_REQS 32

struct fake_req {
	char method[16];
	char path[512];
	struct sg_buf query;   /* "name=value\n" per argument, decoded */
	struct sg_buf headers; /* "Name: value\n" per header */
	struct sg_buf body;    /* raw */
};

struct fake_answer {
	int status;            /* 200 by default */
	char body[16384];
	char content_type[64]; /* application/json by default */
	char header[64], header_value[128]; /* one extra response header */
	int hang;              /* never answer (the client must time out) */
};

struct fake_http;
typedef void (*fake_handler)(struct fake_http *f, const struct fake_req *rq,
			     struct fake_answer *a);

struct fake_http {
	struct MHD_Daemon *d;
	unsigned port;
	fake_handler handler;
	void *ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	int nreq;
	struct fake_req reqs[FAKE_MAX_REQS];
};

struct fake_conn {
	struct sg_buf body;
};

static inline enum MHD_Result fake__kv(void *cls, enum MHD_ValueKind kind, const char *k,
				       const char *v)
{
	struct sg_buf *b = cls;
	sg_buf_addf(b, kind == MHD_HEADER_KIND ? "%s: %s\n" : "%s=%s\n", k, v ? v : "");
	return MHD_YES;
}

static inline enum MHD_Result fake__access(void *cls, struct MHD_Connection *c, const char *url,
					   const char *method, const char *version,
					   const char *data, size_t *size, void **state)
{
	struct fake_http *f = cls;
	struct fake_conn *fc = *state;
	(void)version;
	if (!fc) {
		fc = calloc(1, sizeof(*fc));
		if (!fc)
			return MHD_NO;
		sg_buf_init(&fc->body);
		*state = fc;
		return MHD_YES;
	}
	if (*size) {
		sg_buf_add(&fc->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	struct fake_req rq;
	memset(&rq, 0, sizeof(rq));
	snprintf(rq.method, sizeof(rq.method), "%s", method);
	snprintf(rq.path, sizeof(rq.path), "%s", url);
	sg_buf_init(&rq.query);
	sg_buf_init(&rq.headers);
	sg_buf_init(&rq.body);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, fake__kv, &rq.query);
	MHD_get_connection_values(c, MHD_HEADER_KIND, fake__kv, &rq.headers);
	sg_buf_add(&rq.body, fc->body.data, fc->body.len);
	sg_buf_addc(&rq.body, 0);
	rq.body.len--;

	struct fake_answer *a = calloc(1, sizeof(*a));
	if (!a)
		return MHD_NO;
	a->status = 200;
	snprintf(a->content_type, sizeof(a->content_type), "application/json");
	pthread_mutex_lock(&f->mu);
	if (f->handler)
		f->handler(f, &rq, a);
	if (f->nreq < FAKE_MAX_REQS)
		f->reqs[f->nreq++] = rq;
	else {
		sg_buf_release(&rq.query);
		sg_buf_release(&rq.headers);
		sg_buf_release(&rq.body);
	}
	pthread_cond_broadcast(&f->cv);
	if (a->hang) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 20;
		while (!f->stopping &&
		       pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
			;
		pthread_mutex_unlock(&f->mu);
		free(a);
		return MHD_NO;
	}
	pthread_mutex_unlock(&f->mu);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(a->body), a->body,
								 MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", a->content_type);
	if (a->header[0])
		MHD_add_response_header(r, a->header, a->header_value);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)a->status, r);
	MHD_destroy_response(r);
	free(a);
	return ret;
}

static inline void fake__done(void *cls, struct MHD_Connection *c, void **state,
			      enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct fake_conn *fc = *state;
	if (fc) {
		sg_buf_release(&fc->body);
		free(fc);
	}
	*state = NULL;
}

/* Starts f on 127.0.0.1, a free port; 0 or -1. */
static inline int fake_http_start(struct fake_http *f, fake_handler h, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->handler = h;
	f->ctx = ctx;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				0, NULL, NULL, fake__access, f,
				MHD_OPTION_NOTIFY_COMPLETED, fake__done, f,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!f->d)
		return -1;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	f->port = di ? di->port : 0;
	return f->port ? 0 : -1;
}

static inline void fake_http_stop(struct fake_http *f)
{
	if (!f->d)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopping = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	MHD_stop_daemon(f->d);
	f->d = NULL;
	for (int i = 0; i < f->nreq; i++) {
		sg_buf_release(&f->reqs[i].query);
		sg_buf_release(&f->reqs[i].headers);
		sg_buf_release(&f->reqs[i].body);
	}
	f->nreq = 0;
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
}

/* Forgets the recorded requests. */
static inline void fake_http_reset(struct fake_http *f)
{
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < f->nreq; i++) {
		sg_buf_release(&f->reqs[i].query);
		sg_buf_release(&f->reqs[i].headers);
		sg_buf_release(&f->reqs[i].body);
	}
	f->nreq = 0;
	pthread_mutex_unlock(&f->mu);
}

/* Waits until at least n requests arrived (or 10 s passed); returns the
 * count seen. For work a server does after answering its own client. */
static inline int fake_http_wait(struct fake_http *f, int n)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&f->mu);
	while (f->nreq < n && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
		;
	int got = f->nreq;
	pthread_mutex_unlock(&f->mu);
	return got;
}

/* A header's value in a recorded request (case-insensitive name), copied
 * into out; NULL when absent. */
static inline const char *fake_req_header(const struct fake_req *rq, const char *name,
					  char *out, size_t size)
{
	size_t n = strlen(name);
	for (const char *p = rq->headers.data; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > n + 1 && !strncasecmp(p, name, n) && p[n] == ':') {
			snprintf(out, size, "%.*s", (int)(len - n - 2), p + n + 2);
			return out;
		}
		p = nl ? nl + 1 : p + len;
	}
	return NULL;
}

/* A query argument's decoded value; NULL when absent. */
static inline const char *fake_req_query(const struct fake_req *rq, const char *name,
					 char *out, size_t size)
{
	size_t n = strlen(name);
	for (const char *p = rq->query.data; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			snprintf(out, size, "%.*s", (int)(len - n - 1), p + n + 1);
			return out;
		}
		p = nl ? nl + 1 : p + len;
	}
	return NULL;
}

#endif
