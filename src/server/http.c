/*
 * http.c - the libmicrohttpd daemon behind sg_server_start: per-request
 * state, body accumulation under a cap, routing dispatch, the built-in
 * health and metrics routes, metrics and the access log, and graceful stop.
 * Responses are in http_resp.c, authentication in http_auth.c.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"
#include "core/limits.h"
#include "server/metrics.h"
#include "server/ratelimit.h"
#include "server/server_int.h"
#include "core/banned.h"

/* ---- small helpers ---------------------------------------------------- */

void sg_server_logf(struct sg_server *srv, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (srv->o.log)
		srv->o.log(srv->o.log_ctx, line);
	else
		fprintf(stderr, "%s\n", line);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct sg_server *srv = cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	sg_server_logf(srv, "server: %s", msg);
}

/* Keeps the raw URL: the router decodes each segment itself. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Copies s for a log line: at most n bytes, non-printables as '?'. */
static void printable(char *out, size_t outsz, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 1 < outsz; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

static const char *method_label(const char *m)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT",
					    "PATCH", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return known[i];
	return "other";
}


/* ---- built-in routes -------------------------------------------------- */

static int h_healthz(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err)
{
	(void)req;
	(void)err;
	struct sg_server *srv = ctx;
	sg_buf_adds(&resp->body, "{\"status\":\"ok\",\"version\":");
	sg_buf_add_json_str(&resp->body, srv->version, strlen(srv->version));
	sg_buf_adds(&resp->body, "}\n");
	return resp->body.oom ? -SG_ENOMEM : 0;
}

static int h_metrics(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err)
{
	(void)req;
	(void)err;
	struct sg_server *srv = ctx;
	sg_metrics_render(srv->metrics, &resp->body);
	snprintf(resp->content_type, sizeof(resp->content_type), "%s",
		 SG_METRICS_CONTENT_TYPE);
	return resp->body.oom ? -SG_ENOMEM : 0;
}

/* ---- dispatch --------------------------------------------------------- */

static int is_mutating(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

static enum MHD_Result send_resp(struct sg_http_conn *c,
				 struct sg_http_resp *resp)
{
	size_t len;
	char *body = sg_buf_detach(&resp->body, &len);
	if (!body)
		return MHD_NO;
	if (resp->status == 204 || resp->status == 304)
		len = 0;
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
		len, body, sg_free);
	if (!r) {
		sg_free(body);
		return MHD_NO;
	}
	sg_server_common_headers(c, r);
	if (resp->status != 204)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					resp->content_type[0] ? resp->content_type :
					"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name,
					resp->headers[i].value);
	return sg_server_queue(c, resp->status ? resp->status : 200, r);
}

static enum MHD_Result dispatch(struct sg_http_conn *c, const char *url)
{
	struct sg_server *srv = c->srv;
	struct sg_error err = SG_ERROR_INIT;
	enum MHD_Result res;
	char key[80];
	int rc = sg_router_match(&srv->router, c->method, url, &c->match, &err);
	if (rc == -SG_ENOTFOUND) {
		int get = strcmp(c->method, "GET") == 0 ||
			  strcmp(c->method, "HEAD") == 0;
		sg_server_client_key(c, key);
		if (!sg_server_rate_ok(c, key, &res))
			return res;
		if (get && srv->static_dir && strncmp(url, "/v1/", 4) != 0)
			return sg_server_serve_static(c, url);
		char path[128], msg[200];
		printable(path, sizeof(path), url);
		snprintf(msg, sizeof(msg), "no route for '%s %s'", c->method, path);
		return sg_server_send_error(c, 0, SG_ENOTFOUND, msg, NULL, 0);
	}
	if (rc == -SG_ECONFLICT) {
		char path[128], msg[300];
		printable(path, sizeof(path), url);
		snprintf(msg, sizeof(msg), "method '%s' not allowed on '%s' "
			 "(allowed: %s)", c->method, path, c->match.allow);
		struct sg_server_hdr h = {"Allow", c->match.allow};
		return sg_server_send_error(c, 0, SG_EMETHOD, msg, &h, 1);
	}
	if (rc)
		return sg_server_send_failure(c, rc, &err);

	const struct sg_route *r = &c->match.entry->route;
	c->route = r->pattern;
	int via_cookie = 0;
	const struct sg_user *user = NULL;
	if (r->min_role > SG_ROLE_NONE) {
		int ar = sg_server_authenticate(c, is_mutating(c->method), &via_cookie, key,
				      &err);
		if (ar < 0)
			return sg_server_send_failure(c, ar, &err);
		if (ar != SG_AUTH_OK) {
			/* failed attempts count against the client address */
			sg_server_client_key(c, key);
			if (!sg_server_rate_ok(c, key, &res))
				return res;
			struct sg_server_hdr h = {"WWW-Authenticate", "Bearer realm=\"sopgate\""};
			return sg_server_send_error(c, 0, err.code, err.msg, &h,
					  err.code == SG_EUNAUTHORIZED);
		}
		if (!(r->flags & SG_ROUTE_NO_LIMIT) && !sg_server_rate_ok(c, key, &res))
			return res;
		if (c->user.role < r->min_role) {
			char msg[200];
			snprintf(msg, sizeof(msg), "route '%s %s' needs role '%s' "
				 "or above (user '%s' is '%s')", r->method,
				 r->pattern, sg_role_name(r->min_role),
				 c->user.name, sg_role_name(c->user.role));
			return sg_server_send_error(c, 0, SG_EFORBIDDEN, msg, NULL, 0);
		}
		user = &c->user;
	} else if (!(r->flags & SG_ROUTE_NO_LIMIT)) {
		sg_server_client_key(c, key);
		if (!sg_server_rate_ok(c, key, &res))
			return res;
	}

	struct sg_http_req req = {
		.method = c->method,
		.path = url,
		.route = r->pattern,
		.body = c->body.data,
		.body_len = c->body.len,
		.user = user,
		.via_cookie = via_cookie,
		.request_id = c->request_id,
		.conn = c,
	};
	struct sg_http_resp resp;
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	sg_buf_init(&resp.body);
	rc = r->fn(r->ctx, &req, &resp, &err);
	if (rc == 0 && resp.body.oom)
		rc = sg_error_set(&err, SG_ENOMEM, "response: out of memory");
	if (rc)
		res = sg_server_send_failure(c, rc, &err);
	else if (resp.status < 100 || resp.status > 599)
		res = sg_server_send_failure(c, -SG_EINTERNAL, &(struct sg_error){
			.code = SG_EINTERNAL, .msg = "handler set a bad status"});
	else
		res = send_resp(c, &resp);
	sg_buf_release(&resp.body);
	return res;
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

struct hdr_sum {
	size_t bytes;
};

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind,
				       const char *key, const char *value)
{
	(void)kind;
	struct hdr_sum *s = cls;
	s->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static int request_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.' || *s == ':'))
			return 0;
	return 1;
}

/* First call for a request: state, request id, header and length checks. */
static enum MHD_Result begin(struct sg_server *srv, struct MHD_Connection *mc,
			     const char *url, const char *method, void **con_cls)
{
	struct sg_http_conn *c = sg_calloc(1, sizeof(*c));
	if (!c)
		return MHD_NO;
	c->srv = srv;
	c->mc = mc;
	c->start_ns = sg_mono_ns();
	c->route = "unmatched";
	sg_buf_init(&c->body);
	printable(c->method, sizeof(c->method), method);
	printable(c->path, sizeof(c->path), url);
	*con_cls = c;
	atomic_fetch_add(&srv->inflight, 1);
	sg_metric_add(srv->m_inflight, NULL, 1);

	const char *rid = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
						      "X-Request-Id");
	if (rid && request_id_ok(rid))
		snprintf(c->request_id, sizeof(c->request_id), "%s", rid);
	else if (sg_id_new(c->request_id) != 0)
		snprintf(c->request_id, sizeof(c->request_id), "unknown");

	struct hdr_sum hs = {0};
	MHD_get_connection_values(mc, MHD_HEADER_KIND, add_header_size, &hs);
	if (hs.bytes > srv->o.max_header) {
		char msg[96];
		snprintf(msg, sizeof(msg), "headers: %zu bytes, more than %zu",
			 hs.bytes, srv->o.max_header);
		return sg_server_send_error(c, 431, SG_ELIMIT, msg, NULL, 0);
	}
	const char *cl = MHD_lookup_connection_value(
		mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno || end == cl || *end || cl[0] == '-')
			return sg_server_send_error(c, 0, SG_EINVALID,
					  "header 'Content-Length': not a number",
					  NULL, 0);
		if (n > srv->o.max_body) {
			char msg[96];
			snprintf(msg, sizeof(msg), "body: %llu bytes, more than %zu",
				 n, srv->o.max_body);
			return sg_server_send_error(c, 0, SG_ELIMIT, msg, NULL, 0);
		}
	}
	return MHD_YES;
}

static enum MHD_Result too_large(struct sg_http_conn *c)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "body: more than %zu bytes",
		 c->srv->o.max_body);
	return sg_server_send_error(c, 0, SG_ELIMIT, msg, NULL, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct sg_server *srv = cls;
	struct sg_http_conn *c = *con_cls;
	if (!c)
		return begin(srv, mc, url, method, con_cls);
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (c->responded)
			return MHD_YES; /* discarding the rest */
		if (c->too_large)
			return MHD_YES;
		if (c->body.len + n > srv->o.max_body) {
			/* Answer now when the library lets us (the connection
			 * is then closed); otherwise drop the rest and answer
			 * at the end. Memory stays bounded either way. */
			c->too_large = 1;
			sg_buf_release(&c->body);
			too_large(c);
			return MHD_YES;
		}
		sg_buf_add(&c->body, upload, n);
		if (c->body.oom)
			return sg_server_send_error(c, 0, SG_ENOMEM, NULL, NULL, 0);
		return MHD_YES;
	}
	if (c->responded)
		return MHD_YES;
	if (c->too_large)
		return too_large(c);
	return dispatch(c, url);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)mc;
	struct sg_server *srv = cls;
	struct sg_http_conn *c = *con_cls;
	if (!c)
		return;
	*con_cls = NULL;
	double secs = (double)(sg_mono_ns() - c->start_ns) / 1e9;
	char status[8];
	if (c->responded)
		snprintf(status, sizeof(status), "%d", c->status);
	else
		snprintf(status, sizeof(status), "none");
	const char *ml = method_label(c->method);
	const char *lv[] = {c->route, ml, status};
	sg_metric_inc(srv->m_requests, lv);
	const char *rv[] = {c->route};
	sg_metric_observe(srv->m_latency, rv, secs);
	sg_metric_add(srv->m_inflight, NULL, -1);

	char when[25];
	sg_time_iso(sg_now_ms(), when);
	sg_server_logf(srv, "%s req=%s %s %s %s %.3fms%s", when, c->request_id, c->method,
	      c->path, status, secs * 1000,
	      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");

	sg_buf_release(&c->body);
	sg_route_match_release(&c->match);
	for (size_t i = 0; i < c->nq; i++)
		sg_free(c->qvals[i]);
	sg_free(c);
	atomic_fetch_sub(&srv->inflight, 1);
}

/* ---- lifecycle -------------------------------------------------------- */

static void server_free(struct sg_server *srv)
{
	if (!srv)
		return;
	sg_router_release(&srv->router);
	if (srv->have_sessions)
		sg_sessions_release(&srv->sessions);
	if (srv->rl_on)
		sg_ratelimit_release(&srv->rl);
	if (srv->own_metrics)
		sg_metrics_free(srv->metrics);
	sg_free(srv->bind_addr);
	sg_free(srv->static_dir);
	sg_free(srv->version);
	sg_free(srv);
}

static int register_metrics(struct sg_server *srv, struct sg_error *err)
{
	static const char *const req_labels[] = {"route", "method", "status", NULL};
	static const char *const lat_labels[] = {"route", NULL};
	static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
					0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
	int rc = sg_metrics_counter(&srv->m_requests, srv->metrics,
				    "sopgate_http_requests_total",
				    "HTTP requests by route pattern, method and status.",
				    req_labels, err);
	if (!rc)
		rc = sg_metrics_histogram(&srv->m_latency, srv->metrics,
					  "sopgate_http_request_duration_seconds",
					  "HTTP request latency, first byte in to "
					  "response done, by route pattern.",
					  lat_labels, bounds,
					  sizeof(bounds) / sizeof(bounds[0]), err);
	if (!rc)
		rc = sg_metrics_gauge(&srv->m_inflight, srv->metrics,
				      "sopgate_http_requests_in_flight",
				      "HTTP requests being processed.", NULL, err);
	return rc;
}

int sg_server_start(struct sg_server **out,
		    const struct sg_server_options *opts, struct sg_error *err)
{
	int rc = 0;
	struct sg_route *all = NULL;
	*out = NULL;
	struct sg_server *srv = sg_calloc(1, sizeof(*srv));
	if (!srv)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	srv->o = *opts;
	struct sg_server_options *o = &srv->o;
	if (!o->threads)
		o->threads = 2;
	if (!o->conn_timeout_s)
		o->conn_timeout_s = 30;
	if (!o->max_connections)
		o->max_connections = 512;
	if (!o->max_body)
		o->max_body = SG_MAX_BODY_BYTES;
	if (!o->max_header)
		o->max_header = SG_MAX_HEADER_BYTES;
	if (!o->session_ttl_s)
		o->session_ttl_s = 12 * 3600;
	if (o->threads > 64 || o->port > 65535) {
		rc = sg_error_set(err, SG_EINVALID, "option '%s': out of range",
				  o->threads > 64 ? "threads" : "port");
		goto cleanup;
	}
	srv->bind_addr = sg_strdup(o->bind_addr ? o->bind_addr : "127.0.0.1");
	srv->version = sg_strdup(o->version ? o->version : "dev");
	if (!srv->bind_addr || !srv->version) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (o->static_dir) {
		struct stat st;
		if (!realpath(o->static_dir, srv->static_real) ||
		    stat(srv->static_real, &st) != 0 || !S_ISDIR(st.st_mode)) {
			rc = sg_error_set(err, SG_EINVALID,
					  "option 'static_dir': '%s' is not a "
					  "directory", o->static_dir);
			goto cleanup;
		}
		if (!(srv->static_dir = sg_strdup(o->static_dir))) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
	}

	srv->auth = o->auth;
	srv->sess_ctx = o->auth.ctx;
	int nsess = !!o->auth.session_put + !!o->auth.session_get +
		    !!o->auth.session_del;
	if (nsess != 0 && nsess != 3) {
		rc = sg_error_set(err, SG_EINVALID,
				  "option 'auth': give all three session callbacks "
				  "or none");
		goto cleanup;
	}
	if (!nsess) {
		if (sg_sessions_init(&srv->sessions)) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		srv->have_sessions = 1;
		srv->auth.session_put = sg_sessions_put;
		srv->auth.session_get = sg_sessions_get;
		srv->auth.session_del = sg_sessions_del;
		srv->sess_ctx = &srv->sessions;
	}

	if (o->rate_per_s > 0) {
		double burst = o->rate_burst >= 1 ? o->rate_burst : o->rate_per_s * 2;
		if (burst < 1)
			burst = 1;
		if (sg_ratelimit_init(&srv->rl, o->rate_per_s, burst)) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		srv->rl_on = 1;
	}

	if (o->metrics) {
		srv->metrics = o->metrics;
	} else {
		if (sg_metrics_new(&srv->metrics)) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		srv->own_metrics = 1;
	}
	if ((rc = register_metrics(srv, err)))
		goto cleanup;

	static const struct sg_route builtin[] = {
		{"GET", "/healthz", SG_ROLE_NONE, SG_ROUTE_NO_LIMIT, h_healthz, NULL},
		{"GET", "/metrics", SG_ROLE_NONE, SG_ROUTE_NO_LIMIT, h_metrics, NULL},
		{"POST", "/v1/session", SG_ROLE_NONE, SG_ROUTE_PUBLIC, sg_server_login,
		 NULL},
		{"GET", "/v1/session", SG_ROLE_AGENT, 0, sg_server_whoami, NULL},
		{"DELETE", "/v1/session", SG_ROLE_AGENT, 0, sg_server_logout, NULL},
	};
	size_t nb = sizeof(builtin) / sizeof(builtin[0]);
	if (o->nroutes > SG_MAX_ROUTES) {
		rc = sg_error_set(err, SG_EINVALID, "more than %d routes",
				  SG_MAX_ROUTES);
		goto cleanup;
	}
	all = sg_calloc(nb + o->nroutes, sizeof(*all));
	if (!all) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nb; i++) {
		all[i] = builtin[i];
		all[i].ctx = srv;
	}
	if (o->nroutes)
		memcpy(all + nb, o->routes, o->nroutes * sizeof(*all));
	if ((rc = sg_router_init(&srv->router, all, nb + o->nroutes, err)))
		goto cleanup;

	/* The address, v4 or v6. */
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 MHD_USE_ITC | MHD_USE_AUTO;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, srv->bind_addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)o->port);
	} else if (inet_pton(AF_INET6, srv->bind_addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)o->port);
		flags |= MHD_USE_IPv6;
	} else {
		rc = sg_error_set(err, SG_EINVALID,
				  "option 'bind_addr': '%s' is not an IP address",
				  srv->bind_addr);
		goto cleanup;
	}
	errno = 0;
	srv->d = MHD_start_daemon(
		flags, (uint16_t)o->port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->conn_timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(o->max_header + 32768),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_STRICT_FOR_CLIENT, 1,
		MHD_OPTION_END);
	if (!srv->d) {
		rc = sg_error_set(err, SG_EIO, "unable to listen on '%s' port %u: %s",
				  srv->bind_addr, o->port,
				  errno ? strerror(errno) : "server did not start");
		goto cleanup;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : o->port;
cleanup:
	sg_free(all);
	if (rc) {
		if (srv->d)
			MHD_stop_daemon(srv->d);
		server_free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

unsigned sg_server_port(const struct sg_server *srv)
{
	return srv->port;
}

struct sg_metrics *sg_server_metrics(struct sg_server *srv)
{
	return srv->metrics;
}

void sg_server_stop(struct sg_server *srv, unsigned grace_ms)
{
	if (!srv)
		return;
	MHD_socket fd = MHD_quiesce_daemon(srv->d);
	uint64_t until = sg_mono_ns() + (uint64_t)grace_ms * 1000000ull;
	while (atomic_load(&srv->inflight) > 0 && sg_mono_ns() < until) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(srv->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	server_free(srv);
}

int sg_server_signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -SG_EINTERNAL;
}

int sg_server_signals_wait(const sigset_t *set)
{
	int sig = 0;
	while (sigwait(set, &sig) != 0)
		;
	return sig;
}
