/*
 * fake_test.h - a vendor API fake for the outbox and connector tests: a
 * libmicrohttpd server on 127.0.0.1, port 0, that records every request
 * (method, path, headers, raw body), answers from a script (status,
 * headers, body, an optional delay) and counts "effects" the way a vendor
 * deduplicates: one effect per distinct idempotency key (the
 * Idempotency-Key header, or a body field such as PagerDuty's dedup_key).
 * Test-only; static inline so each test binary takes what it uses.
 */
#ifndef SG_OUTBOX_FAKE_TEST_H
#define SG_OUTBOX_FAKE_TEST_H

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define FAKE_MAX_REQS 512
#define FAKE_MAX_SCRIPT 32
#define FAKE_MAX_KEYS 1024

struct fake_req {
	char method[16];
	char url[600];      /* path and query as received */
	char headers[2048]; /* "name: value\n", names lower-case */
	char body[8192];
	size_t body_len;
};

struct fake_resp {
	int status;
	char headers[256]; /* "Name: value\n" lines */
	char body[1024];
	int delay_ms;
};

struct fake {
	struct MHD_Daemon *d;
	unsigned port;
	pthread_mutex_t mu;
	struct fake_req reqs[FAKE_MAX_REQS];
	size_t nreqs;
	struct fake_resp script[FAKE_MAX_SCRIPT];
	size_t nscript, next;
	struct fake_resp dflt;
	const char *dedup_field; /* body field holding the key; NULL: Idempotency-Key */
	char keys[FAKE_MAX_KEYS][160];
	int key_hits[FAKE_MAX_KEYS];
	size_t nkeys;
};

struct fake_conn {
	char body[8192];
	size_t len;
};

static inline enum MHD_Result fake_hdr(void *cls, enum MHD_ValueKind kind, const char *k,
				       const char *v)
{
	(void)kind;
	struct fake_req *r = cls;
	size_t o = strlen(r->headers);
	char name[128];
	size_t i = 0;
	for (; k[i] && i + 1 < sizeof(name); i++)
		name[i] = (char)((k[i] >= 'A' && k[i] <= 'Z') ? k[i] + 32 : k[i]);
	name[i] = 0;
	snprintf(r->headers + o, sizeof(r->headers) - o, "%s: %s\n", name, v ? v : "");
	return MHD_YES;
}

/* The value of header `name` (lower-case) in a recorded request, or NULL. */
static inline const char *fake_header(const struct fake_req *r, const char *name, char *out,
				      size_t size)
{
	size_t n = strlen(name);
	for (const char *p = r->headers; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		if (!strncmp(p, name, n) && p[n] == ':' && p[n + 1] == ' ') {
			snprintf(out, size, "%.*s", (int)(nl - p - n - 2), p + n + 2);
			return out;
		}
		p = nl + 1;
	}
	return NULL;
}

static inline void fake_count_effect(struct fake *f, const struct fake_req *r)
{
	char key[160] = "";
	if (f->dedup_field) {
		json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
		const char *v = json_string_value(json_object_get(j, f->dedup_field));
		if (v)
			snprintf(key, sizeof(key), "%s", v);
		json_decref(j);
	} else {
		fake_header(r, "idempotency-key", key, sizeof(key));
	}
	if (!key[0])
		snprintf(key, sizeof(key), "(none)#%zu", f->nreqs);
	for (size_t i = 0; i < f->nkeys; i++)
		if (!strcmp(f->keys[i], key)) {
			f->key_hits[i]++;
			return;
		}
	if (f->nkeys < FAKE_MAX_KEYS) {
		snprintf(f->keys[f->nkeys], sizeof(f->keys[0]), "%s", key);
		f->key_hits[f->nkeys++] = 1;
	}
}

static inline enum MHD_Result fake_handler(void *cls, struct MHD_Connection *c, const char *url,
					   const char *method, const char *version,
					   const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct fake *f = cls;
	struct fake_conn *fc = *con_cls;
	if (!fc) {
		fc = calloc(1, sizeof(*fc));
		*con_cls = fc;
		return fc ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		size_t k = *upload_size;
		if (fc->len + k > sizeof(fc->body) - 1)
			k = sizeof(fc->body) - 1 - fc->len;
		memcpy(fc->body + fc->len, upload, k);
		fc->len += k;
		*upload_size = 0;
		return MHD_YES;
	}
	struct fake_resp resp;
	pthread_mutex_lock(&f->mu);
	struct fake_req *r = f->nreqs < FAKE_MAX_REQS ? &f->reqs[f->nreqs] : NULL;
	if (r) {
		memset(r, 0, sizeof(*r));
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->url, sizeof(r->url), "%s", url);
		MHD_get_connection_values(c, MHD_HEADER_KIND, fake_hdr, r);
		/* the query string, re-joined (MHD hands the path alone) */
		const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "idProperty");
		if (q) {
			size_t o = strlen(r->url);
			snprintf(r->url + o, sizeof(r->url) - o, "?idProperty=%s", q);
		}
		memcpy(r->body, fc->body, fc->len);
		r->body_len = fc->len;
		f->nreqs++;
	}
	resp = f->next < f->nscript ? f->script[f->next++] : f->dflt;
	if (r && resp.status >= 200 && resp.status < 300)
		fake_count_effect(f, r);
	pthread_mutex_unlock(&f->mu);
	if (resp.delay_ms > 0) {
		struct timespec ts = {resp.delay_ms / 1000, (long)(resp.delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	struct MHD_Response *mr = MHD_create_response_from_buffer(strlen(resp.body), resp.body,
								  MHD_RESPMEM_MUST_COPY);
	for (char *p = resp.headers; *p;) {
		char *nl = strchr(p, '\n');
		char *colon = strchr(p, ':');
		if (!nl || !colon || colon > nl)
			break;
		*nl = 0;
		*colon = 0;
		MHD_add_response_header(mr, p, colon + 2);
		p = nl + 1;
	}
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)resp.status, mr);
	MHD_destroy_response(mr);
	return ok;
}

static inline void fake_done(void *cls, struct MHD_Connection *c, void **con_cls,
			     enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

/* Replies leave at once: without TCP_NODELAY a reply split in two writes
 * waits for the client's delayed ACK (tens of ms per request). */
static inline void fake_conn_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
				    enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	(void)socket_ctx;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	int one = 1;
	if (ci)
		setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Starts on 127.0.0.1:0 answering `status body` by default. 0 or -1. */
static inline int fake_start(struct fake *f, int status, const char *body)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->dflt.status = status;
	snprintf(f->dflt.body, sizeof(f->dflt.body), "%s", body);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				0, NULL, NULL, fake_handler, f, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_NOTIFY_COMPLETED, fake_done, NULL,
				MHD_OPTION_NOTIFY_CONNECTION, fake_conn_notify, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!f->d)
		return -1;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	f->port = di ? di->port : 0;
	return f->port ? 0 : -1;
}

static inline void fake_stop(struct fake *f)
{
	if (f->d)
		MHD_stop_daemon(f->d);
	f->d = NULL;
	pthread_mutex_destroy(&f->mu);
}

/* Queues the next scripted answer. */
static inline void fake_push(struct fake *f, int status, const char *headers, const char *body,
			     int delay_ms)
{
	pthread_mutex_lock(&f->mu);
	if (f->nscript < FAKE_MAX_SCRIPT) {
		struct fake_resp *r = &f->script[f->nscript++];
		r->status = status;
		snprintf(r->headers, sizeof(r->headers), "%s", headers ? headers : "");
		snprintf(r->body, sizeof(r->body), "%s", body ? body : "");
		r->delay_ms = delay_ms;
	}
	pthread_mutex_unlock(&f->mu);
}

static inline size_t fake_nreqs(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	size_t n = f->nreqs;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* Distinct keys seen with a 2xx answer, and the largest count of one. */
static inline size_t fake_effects(struct fake *f, int *max_hits)
{
	pthread_mutex_lock(&f->mu);
	size_t n = f->nkeys;
	int m = 0;
	for (size_t i = 0; i < n; i++)
		if (f->key_hits[i] > m)
			m = f->key_hits[i];
	pthread_mutex_unlock(&f->mu);
	if (max_hits)
		*max_hits = m;
	return n;
}

#endif
