/*
 * http_test.c - the server over real HTTP on loopback (libcurl against the
 * port the daemon picked): routing, 404/405, limits, the JSON error shape,
 * rate limiting, roles, cookie sessions and CSRF, static files and path
 * traversal, /metrics parsed back, /healthz, raw-socket garbage, graceful
 * stop and signal-driven shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "server/metrics.h"
#include "server/metrics_parse.h"
#include "server/server.h"

/* ---- an in-memory user table standing in for the store ---------------- */

static const struct {
	const char *token, *name;
	enum sg_role role;
} users[] = {
	{"tok-agent-0123456789", "alice", SG_ROLE_AGENT},
	{"tok-lead-0123456789", "bob", SG_ROLE_LEAD},
	{"tok-specialist-01234", "sam", SG_ROLE_SPECIALIST},
	{"tok-admin-0123456789", "carol", SG_ROLE_ADMIN},
};
#define AGENT "tok-agent-0123456789"
#define LEAD "tok-lead-0123456789"
#define ADMIN "tok-admin-0123456789"

static int verify_token(void *ctx, const char *token, struct sg_user *out,
			struct sg_error *err)
{
	(void)ctx;
	uint8_t h[SG_SHA256_LEN], want[SG_SHA256_LEN];
	sg_sha256(token, strlen(token), h);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		sg_sha256(users[i].token, strlen(users[i].token), want);
		if (sg_ct_equal(h, want, sizeof(h))) {
			snprintf(out->name, sizeof(out->name), "%s", users[i].name);
			out->role = users[i].role;
			return 0;
		}
	}
	return sg_error_set(err, SG_EUNAUTHORIZED, "unknown token");
}

/* ---- test routes ------------------------------------------------------ */

static int h_ticket(void *ctx, const struct sg_http_req *req,
		    struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)err;
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", sg_http_param(req, "id"),
			      "user", req->user->name, "route", req->route);
	int rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int h_stats(void *ctx, const struct sg_http_req *req,
		   struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	sg_buf_adds(&resp->body, "{\"stats\":true}");
	return 0;
}

static int h_approve(void *ctx, const struct sg_http_req *req,
		     struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)err;
	json_t *o = json_pack("{s:s, s:s}", "approved", sg_http_param(req, "id"),
			      "by", req->user->name);
	int rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int h_create(void *ctx, const struct sg_http_req *req,
		    struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	json_t *body = NULL;
	const char *text;
	int rc = sg_http_json_body(&body, req, err);
	if (rc)
		return rc;
	rc = sg_json_str(body, "body", "body", 1, &text, err);
	if (rc == 0) {
		json_t *o = json_pack("{s:i}", "length", (int)strlen(text));
		rc = sg_http_resp_json(resp, 201, o);
		json_decref(o);
	}
	json_decref(body);
	return rc;
}

static int h_queue(void *ctx, const struct sg_http_req *req,
		   struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	const char *q = NULL;
	int rc = sg_http_query(&q, req, "queue", err);
	if (rc)
		return rc;
	json_t *o = json_pack("{s:s?}", "queue", q);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int h_hook(void *ctx, const struct sg_http_req *req,
		  struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)err;
	resp->status = 202;
	sg_buf_addf(&resp->body, "{\"bytes\":%zu}", req->body_len);
	return 0;
}

static int h_boom(void *ctx, const struct sg_http_req *req,
		  struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)req;
	(void)resp;
	return sg_error_set(err, SG_ESTORE, "database is locked at /var/secret");
}

static sem_t slow_entered;
static int h_slow(void *ctx, const struct sg_http_req *req,
		  struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	sem_post(&slow_entered);
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	sg_buf_adds(&resp->body, "{\"slow\":\"done\"}");
	return 0;
}

static const struct sg_route routes[] = {
	{"GET", "/v1/tickets/{id}", SG_ROLE_AGENT, 0, h_ticket, NULL},
	{"GET", "/v1/tickets/stats", SG_ROLE_AGENT, 0, h_stats, NULL},
	{"POST", "/v1/tickets", SG_ROLE_AGENT, 0, h_create, NULL},
	{"POST", "/v1/tickets/{id}/approve", SG_ROLE_LEAD, 0, h_approve, NULL},
	{"GET", "/v1/queue", SG_ROLE_AGENT, 0, h_queue, NULL},
	{"POST", "/v1/webhooks/test", SG_ROLE_NONE, SG_ROUTE_PUBLIC, h_hook, NULL},
	{"GET", "/v1/boom", SG_ROLE_NONE, 0, h_boom, NULL},
	{"GET", "/v1/slow", SG_ROLE_NONE, 0, h_slow, NULL},
};

/* ---- fixture ---------------------------------------------------------- */

static char root[512], staticdir[600];
static struct sg_server *srv;
static unsigned port;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sg_buf logbuf = SG_BUF_INIT;

static void capture_log(void *ctx, const char *line)
{
	(void)ctx;
	pthread_mutex_lock(&log_lock);
	sg_buf_adds(&logbuf, line);
	sg_buf_addc(&logbuf, '\n');
	pthread_mutex_unlock(&log_lock);
}

static void write_file(const char *dir, const char *name, const char *text,
		       size_t len)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void make_tree(void)
{
	const char *tmp = getenv("SG_TEST_TMP");
	snprintf(root, sizeof(root), "%s/http_test.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(root));
	snprintf(staticdir, sizeof(staticdir), "%s/console", root);
	assert_int_equal(mkdir(staticdir, 0755), 0);
	char sub[700];
	snprintf(sub, sizeof(sub), "%s/sub", staticdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file(staticdir, "index.html", "<!doctype html><title>q</title>", 31);
	write_file(staticdir, "app.css", "body{}", 6);
	write_file(staticdir, "app.js", "let a=1;", 8);
	write_file(staticdir, "logo.svg", "<svg/>", 6);
	write_file(staticdir, "logo.png", "\x89PNG\r\n\x1a\n", 8);
	write_file(staticdir, "data.json", "{}", 2);
	write_file(staticdir, ".hidden", "hidden", 6);
	write_file(sub, "page.html", "<p>sub</p>", 10);
	write_file(root, "secret.txt", "TOPSECRET", 9);
	char link[700], target[700];
	snprintf(link, sizeof(link), "%s/link-out.txt", staticdir);
	snprintf(target, sizeof(target), "%s/secret.txt", root);
	assert_int_equal(symlink(target, link), 0);
	snprintf(link, sizeof(link), "%s/dir-out", staticdir);
	assert_int_equal(symlink(root, link), 0);
}

static int start(struct sg_server **out, unsigned *p, double rate, int secure)
{
	struct sg_server_options o = SG_SERVER_OPTIONS_INIT;
	o.routes = routes;
	o.nroutes = sizeof(routes) / sizeof(routes[0]);
	o.auth.verify_token = verify_token;
	o.static_dir = staticdir;
	o.version = "test-1.0";
	o.rate_per_s = rate;
	o.rate_burst = rate > 0 ? 3 : 0;
	o.cookie_secure = secure;
	o.log = capture_log;
	struct sg_error err = SG_ERROR_INIT;
	int rc = sg_server_start(out, &o, &err);
	if (rc)
		fail_msg("start: %s", err.msg);
	*p = sg_server_port(*out);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	sg_json_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	make_tree();
	return start(&srv, &port, 0, 0);
}

static int teardown(void **state)
{
	(void)state;
	sg_server_stop(srv, 1000);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return -1;
	sg_buf_release(&logbuf);
	curl_global_cleanup();
	return 0;
}

/* ---- a small HTTP client ---------------------------------------------- */

struct res {
	long status;
	struct sg_buf body, head;
	json_t *json;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	sg_buf_add(ud, p, size * n);
	return size * n;
}

static void res_free(struct res *r)
{
	sg_buf_release(&r->body);
	sg_buf_release(&r->head);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* method, path (sent as is), optional body, NULL-terminated extra headers */
static void req_port(struct res *r, unsigned p, const char *method,
		     const char *path, const char *body, size_t len,
		     const char *const *hdrs)
{
	memset(r, 0, sizeof(*r));
	sg_buf_init(&r->body);
	sg_buf_init(&r->head);
	CURL *c = curl_easy_init();
	assert_non_null(c);
	char url[4096];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", p, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	struct curl_slist *sl = NULL;
	for (size_t i = 0; hdrs && hdrs[i]; i++)
		sl = curl_slist_append(sl, hdrs[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->head);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(sl);
	curl_easy_cleanup(c);
	r->json = json_loadb(r->body.data, r->body.len, 0, NULL);
}

static void req(struct res *r, const char *method, const char *path,
		const char *body, const char *const *hdrs)
{
	req_port(r, port, method, path, body, body ? strlen(body) : 0, hdrs);
}

/* The value of response header `name` (first one), or NULL. */
static const char *header(const struct res *r, const char *name, char *out,
			  size_t outsz)
{
	size_t nl = strlen(name);
	for (const char *p = r->head.data; p && *p;) {
		const char *end = strstr(p, "\r\n");
		if (!end)
			break;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			size_t n = (size_t)(end - v);
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
		p = end + 2;
	}
	return NULL;
}

/* The body is exactly {"error":{"code":CODE,"message":"..."}}. */
static void assert_error(const struct res *r, long status, const char *code,
			 const char *msg_part)
{
	if (r->status != status)
		fail_msg("status %ld, expected %ld: %s", r->status, status,
			 r->body.data);
	assert_non_null(r->json);
	assert_int_equal(json_object_size(r->json), 1);
	json_t *e = json_object_get(r->json, "error");
	assert_true(json_is_object(e));
	assert_int_equal(json_object_size(e), 2);
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	const char *m = json_string_value(json_object_get(e, "message"));
	assert_non_null(m);
	assert_true(m[0] != '\0');
	if (msg_part && !strstr(m, msg_part))
		fail_msg("message '%s' lacks '%s'", m, msg_part);
	char v[128];
	assert_non_null(header(r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "application/json");
}

static void assert_security_headers(const struct res *r)
{
	char v[256];
	assert_non_null(header(r, "Content-Security-Policy", v, sizeof(v)));
	assert_string_equal(v, "default-src 'self'");
	assert_non_null(header(r, "X-Content-Type-Options", v, sizeof(v)));
	assert_string_equal(v, "nosniff");
	assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
	assert_true(strlen(v) > 0);
}

/* ---- tests ------------------------------------------------------------ */

static void test_healthz(void **state)
{
	(void)state;
	struct res r;
	char v[128];
	req(&r, "GET", "/healthz", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
	assert_string_equal(json_string_value(json_object_get(r.json, "version")),
			    "test-1.0");
	assert_security_headers(&r);
	assert_non_null(header(&r, "X-Request-Id", v, sizeof(v)));
	assert_int_equal(strlen(v), 26); /* generated: a ULID */
	assert_non_null(header(&r, "Cache-Control", v, sizeof(v)));
	assert_string_equal(v, "no-store");
	res_free(&r);
	/* a sane request id is echoed, a hostile one replaced */
	const char *h1[] = {"X-Request-Id: trace-42.a_b", NULL};
	req(&r, "GET", "/healthz", NULL, h1);
	assert_string_equal(header(&r, "X-Request-Id", v, sizeof(v)), "trace-42.a_b");
	res_free(&r);
	const char *h2[] = {"X-Request-Id: <script>alert(1)</script>", NULL};
	req(&r, "GET", "/healthz", NULL, h2);
	assert_int_equal(strlen(header(&r, "X-Request-Id", v, sizeof(v))), 26);
	res_free(&r);
	/* HEAD: same headers, no body */
	req(&r, "HEAD", "/healthz", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_security_headers(&r);
	res_free(&r);
}

static void test_routing(void **state)
{
	(void)state;
	struct res r;
	char v[128];
	const char *agent[] = {"Authorization: Bearer " AGENT, NULL};
	req(&r, "GET", "/v1/tickets/T-1", NULL, agent);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), "T-1");
	assert_string_equal(json_string_value(json_object_get(r.json, "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(r.json, "route")),
			    "/v1/tickets/{id}");
	res_free(&r);
	/* %2F stays inside the parameter; other escapes decode */
	req(&r, "GET", "/v1/tickets/a%2Fb%20c", NULL, agent);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), "a/b c");
	res_free(&r);
	/* a literal segment beats a parameter */
	req(&r, "GET", "/v1/tickets/stats", NULL, agent);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "stats")));
	res_free(&r);
	/* query arguments, decoded */
	req(&r, "GET", "/v1/queue?queue=billing%20team&x=1", NULL, agent);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "queue")),
			    "billing team");
	res_free(&r);
	req(&r, "GET", "/v1/queue?queue=a%00b", NULL, agent);
	assert_error(&r, 400, "invalid_argument", "query argument 'queue'");
	res_free(&r);

	/* 404 and 405 */
	req(&r, "GET", "/v1/nope", NULL, agent);
	assert_error(&r, 404, "not_found", "no route for 'GET /v1/nope'");
	assert_security_headers(&r);
	res_free(&r);
	req(&r, "GET", "/v1/tickets/", NULL, agent);
	assert_error(&r, 404, "not_found", NULL);
	res_free(&r);
	req(&r, "DELETE", "/v1/tickets/T-1", NULL, agent);
	assert_error(&r, 405, "method_not_allowed", "allowed: GET");
	assert_string_equal(header(&r, "Allow", v, sizeof(v)), "GET");
	res_free(&r);
	req(&r, "GET", "/v1/tickets", NULL, agent);
	assert_error(&r, 405, "method_not_allowed", NULL);
	assert_string_equal(header(&r, "Allow", v, sizeof(v)), "POST");
	res_free(&r);
	req(&r, "PUT", "/v1/session", NULL, agent);
	assert_error(&r, 405, "method_not_allowed", NULL);
	assert_string_equal(header(&r, "Allow", v, sizeof(v)), "POST, GET, DELETE");
	res_free(&r);
	req(&r, "BREW", "/healthz", NULL, NULL);
	assert_error(&r, 405, "method_not_allowed", NULL);
	res_free(&r);
	/* bad encodings in the path */
	req(&r, "GET", "/v1/tickets/%zz", NULL, agent);
	assert_error(&r, 400, "invalid_argument", "percent-encoding");
	res_free(&r);
	req(&r, "GET", "/v1/tickets/a%00b", NULL, agent);
	assert_error(&r, 400, "invalid_argument", NULL);
	res_free(&r);
	req(&r, "GET", "/v1/tickets/a%1", NULL, agent);
	assert_error(&r, 400, "invalid_argument", NULL);
	res_free(&r);
	/* a public mutating route (webhooks) needs no token */
	req(&r, "POST", "/v1/webhooks/test", "{\"a\":1}", NULL);
	assert_int_equal(r.status, 202);
	res_free(&r);
	/* a 5xx says what, not why */
	req(&r, "GET", "/v1/boom", NULL, NULL);
	assert_error(&r, 500, "store_error", "storage error");
	assert_null(strstr(r.body.data, "secret"));
	res_free(&r);
}

static void test_bodies(void **state)
{
	(void)state;
	struct res r;
	const char *json[] = {"Authorization: Bearer " AGENT,
			      "Content-Type: application/json", NULL};
	req(&r, "POST", "/v1/tickets", "{\"body\":\"hello\"}", json);
	assert_int_equal(r.status, 201);
	assert_int_equal(json_integer_value(json_object_get(r.json, "length")), 5);
	res_free(&r);
	req(&r, "POST", "/v1/tickets", "{\"body\": \"unterminated", json);
	assert_error(&r, 400, "invalid_json", "invalid JSON at line 1");
	res_free(&r);
	req(&r, "POST", "/v1/tickets", "[1,2]", json);
	assert_error(&r, 400, "invalid_json", "expected a JSON object");
	res_free(&r);
	req(&r, "POST", "/v1/tickets", "", json);
	assert_error(&r, 400, "invalid_json", "body: required");
	res_free(&r);
	req(&r, "POST", "/v1/tickets", "{\"subject\":\"x\"}", json);
	assert_error(&r, 400, "invalid_argument", "field 'body': required");
	res_free(&r);
	const char *form[] = {"Authorization: Bearer " AGENT,
			      "Content-Type: application/x-www-form-urlencoded",
			      NULL};
	req(&r, "POST", "/v1/tickets", "{\"body\":\"x\"}", form);
	assert_error(&r, 400, "invalid_json", "Content-Type");
	res_free(&r);
	/* nesting past the cap */
	char deep[200];
	size_t d = 0;
	for (int i = 0; i < 40; i++)
		deep[d++] = '[';
	for (int i = 0; i < 40; i++)
		deep[d++] = ']';
	deep[d] = '\0';
	req(&r, "POST", "/v1/tickets", deep, json);
	assert_error(&r, 400, "invalid_json", "nested deeper");
	res_free(&r);

	/* exactly the cap passes the size check; one byte more is 413 */
	size_t n = SG_MAX_BODY_BYTES;
	char *big = malloc(n + 2);
	assert_non_null(big);
	memset(big, ' ', n + 1);
	memcpy(big, "{\"body\":\"x\"}", 12);
	big[n + 1] = '\0';
	req_port(&r, port, "POST", "/v1/tickets", big, n, json);
	assert_int_equal(r.status, 201);
	res_free(&r);
	req_port(&r, port, "POST", "/v1/tickets", big, n + 1, json);
	assert_error(&r, 413, "limit_exceeded", "body");
	res_free(&r);
	/* the same without Content-Length (chunked upload) */
	const char *chunked[] = {"Authorization: Bearer " AGENT,
				 "Content-Type: application/json",
				 "Transfer-Encoding: chunked", NULL};
	req_port(&r, port, "POST", "/v1/tickets", big, n + 1, chunked);
	assert_error(&r, 413, "limit_exceeded", "body");
	res_free(&r);
	free(big);
	/* the server is still fine */
	req(&r, "GET", "/healthz", NULL, NULL);
	assert_int_equal(r.status, 200);
	res_free(&r);
}

static void test_auth_roles(void **state)
{
	(void)state;
	struct res r;
	char v[128];
	req(&r, "GET", "/v1/tickets/T-1", NULL, NULL);
	assert_error(&r, 401, "unauthorized", "credentials required");
	assert_non_null(header(&r, "WWW-Authenticate", v, sizeof(v)));
	res_free(&r);
	const char *bad[] = {"Authorization: Bearer not-a-token", NULL};
	req(&r, "GET", "/v1/tickets/T-1", NULL, bad);
	assert_error(&r, 401, "unauthorized", "unknown or revoked");
	res_free(&r);
	const char *basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
	req(&r, "GET", "/v1/tickets/T-1", NULL, basic);
	assert_error(&r, 401, "unauthorized", NULL);
	res_free(&r);
	/* agent < lead: approve is forbidden, and says why */
	const char *agent[] = {"Authorization: Bearer " AGENT, NULL};
	req(&r, "POST", "/v1/tickets/T-1/approve", "", agent);
	assert_error(&r, 403, "forbidden",
		     "needs role 'lead' or above (user 'alice' is 'agent')");
	res_free(&r);
	const char *lead[] = {"Authorization: Bearer " LEAD, NULL};
	req(&r, "POST", "/v1/tickets/T-1/approve", "", lead);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "by")), "bob");
	res_free(&r);
	const char *admin[] = {"Authorization: bearer " ADMIN, NULL};
	req(&r, "POST", "/v1/tickets/T-1/approve", "", admin);
	assert_int_equal(r.status, 200);
	res_free(&r);
	/* GET /v1/session with a bearer token: who am I, no CSRF token */
	req(&r, "GET", "/v1/session", NULL, lead);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "lead");
	assert_null(json_object_get(r.json, "csrf_token"));
	res_free(&r);
}

/* "sg_session=<64 hex>" from a Set-Cookie header */
static void cookie_of(const struct res *r, char *out, size_t n)
{
	char v[256];
	assert_non_null(header(r, "Set-Cookie", v, sizeof(v)));
	char *semi = strchr(v, ';');
	assert_non_null(semi);
	*semi = '\0';
	snprintf(out, n, "Cookie: %s", v);
}

static void test_cookie_csrf(void **state)
{
	(void)state;
	struct res r;
	char v[256], cookie[300], csrf_hdr[128], csrf[80];
	const char *json[] = {"Content-Type: application/json", NULL};
	req(&r, "POST", "/v1/session", "{\"token\":\"wrong\"}", json);
	assert_error(&r, 401, "unauthorized", "field 'token'");
	res_free(&r);
	req(&r, "POST", "/v1/session", "{}", json);
	assert_error(&r, 400, "invalid_argument", "field 'token': required");
	res_free(&r);
	/* a cross-site form post cannot log in */
	const char *form[] = {"Content-Type: text/plain", NULL};
	req(&r, "POST", "/v1/session", "{\"token\":\"" AGENT "\"}", form);
	assert_error(&r, 400, "invalid_json", "Content-Type");
	res_free(&r);

	req(&r, "POST", "/v1/session", "{\"token\":\"" AGENT "\"}", json);
	assert_int_equal(r.status, 201);
	assert_non_null(header(&r, "Set-Cookie", v, sizeof(v)));
	assert_non_null(strstr(v, "; HttpOnly"));
	assert_non_null(strstr(v, "; SameSite=Strict"));
	assert_non_null(strstr(v, "; Path=/"));
	assert_null(strstr(v, "Secure"));
	assert_string_equal(json_string_value(json_object_get(r.json, "user")), "alice");
	snprintf(csrf, sizeof(csrf), "%s",
		 json_string_value(json_object_get(r.json, "csrf_token")));
	assert_int_equal(strlen(csrf), 64);
	cookie_of(&r, cookie, sizeof(cookie));
	res_free(&r);
	/* the token never appears in the cookie */
	assert_null(strstr(cookie, AGENT));

	/* reads need no CSRF token */
	const char *c1[] = {cookie, NULL};
	req(&r, "GET", "/v1/tickets/T-9", NULL, c1);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "user")), "alice");
	res_free(&r);
	req(&r, "GET", "/v1/session", NULL, c1);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "csrf_token")),
			    csrf);
	res_free(&r);
	/* writes do */
	const char *c2[] = {cookie, "Content-Type: application/json", NULL};
	req(&r, "POST", "/v1/tickets", "{\"body\":\"x\"}", c2);
	assert_error(&r, 403, "forbidden", "header 'X-CSRF-Token': required");
	res_free(&r);
	const char *c3[] = {cookie, "Content-Type: application/json",
			    "X-CSRF-Token: 0000000000000000000000000000000000000000"
			    "000000000000000000000000", NULL};
	req(&r, "POST", "/v1/tickets", "{\"body\":\"x\"}", c3);
	assert_error(&r, 403, "forbidden", "does not match");
	res_free(&r);
	const char *c3b[] = {cookie, "Content-Type: application/json",
			     "X-CSRF-Token: short", NULL};
	req(&r, "POST", "/v1/tickets", "{\"body\":\"x\"}", c3b);
	assert_error(&r, 403, "forbidden", "does not match");
	res_free(&r);
	snprintf(csrf_hdr, sizeof(csrf_hdr), "X-CSRF-Token: %s", csrf);
	const char *c4[] = {cookie, "Content-Type: application/json", csrf_hdr,
			    NULL};
	req(&r, "POST", "/v1/tickets", "{\"body\":\"x\"}", c4);
	assert_int_equal(r.status, 201);
	res_free(&r);
	/* the session carries the role: an agent session cannot approve */
	req(&r, "POST", "/v1/tickets/T-1/approve", "", c4);
	assert_error(&r, 403, "forbidden", "needs role 'lead'");
	res_free(&r);
	/* a forged cookie */
	const char *forged[] = {"Cookie: sg_session=0123456789abcdef0123456789abcdef"
				"0123456789abcdef0123456789abcdef", NULL};
	req(&r, "GET", "/v1/tickets/T-9", NULL, forged);
	assert_error(&r, 401, "unauthorized", "session");
	res_free(&r);
	/* logout needs the CSRF token too, then the cookie is dead */
	req(&r, "DELETE", "/v1/session", NULL, c1);
	assert_error(&r, 403, "forbidden", "X-CSRF-Token");
	res_free(&r);
	req(&r, "DELETE", "/v1/session", NULL, c4);
	assert_int_equal(r.status, 204);
	assert_non_null(header(&r, "Set-Cookie", v, sizeof(v)));
	assert_non_null(strstr(v, "Max-Age=0"));
	res_free(&r);
	req(&r, "GET", "/v1/tickets/T-9", NULL, c1);
	assert_error(&r, 401, "unauthorized", "session");
	res_free(&r);

	/* with cookie_secure the cookie says Secure */
	struct sg_server *s2;
	unsigned p2;
	start(&s2, &p2, 0, 1);
	const char *login = "{\"token\":\"" LEAD "\"}";
	req_port(&r, p2, "POST", "/v1/session", login, strlen(login), json);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(header(&r, "Set-Cookie", v, sizeof(v)), "; Secure"));
	res_free(&r);
	sg_server_stop(s2, 1000);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct sg_server *s2;
	unsigned p2;
	struct res r;
	char v[64];
	start(&s2, &p2, 0.01, 0); /* burst 3, then one per 100 s */
	const char *agent[] = {"Authorization: Bearer " AGENT, NULL};
	const char *lead[] = {"Authorization: Bearer " LEAD, NULL};
	for (int i = 0; i < 3; i++) {
		req_port(&r, p2, "GET", "/v1/tickets/T-1", NULL, 0, agent);
		assert_int_equal(r.status, 200);
		res_free(&r);
	}
	req_port(&r, p2, "GET", "/v1/tickets/T-1", NULL, 0, agent);
	assert_error(&r, 429, "rate_limited", "retry in");
	assert_non_null(header(&r, "Retry-After", v, sizeof(v)));
	assert_true(atoi(v) >= 1 && atoi(v) <= 100);
	assert_security_headers(&r);
	res_free(&r);
	/* another token has its own bucket */
	req_port(&r, p2, "GET", "/v1/tickets/T-1", NULL, 0, lead);
	assert_int_equal(r.status, 200);
	res_free(&r);
	/* health and metrics are exempt */
	for (int i = 0; i < 5; i++) {
		req_port(&r, p2, "GET", "/healthz", NULL, 0, NULL);
		assert_int_equal(r.status, 200);
		res_free(&r);
	}
	/* failed logins count against the address */
	const char *bad[] = {"Authorization: Bearer guess-1", NULL};
	int limited = 0;
	for (int i = 0; i < 5; i++) {
		req_port(&r, p2, "GET", "/v1/tickets/T-1", NULL, 0, bad);
		if (r.status == 429)
			limited++;
		else
			assert_int_equal(r.status, 401);
		res_free(&r);
	}
	assert_true(limited >= 2);
	sg_server_stop(s2, 1000);
}

static void test_static(void **state)
{
	(void)state;
	struct res r;
	char v[128];
	static const struct {
		const char *path, *type, *body;
	} ok[] = {
		{"/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/index.html", "text/html; charset=utf-8", "<!doctype html>"},
		{"/app.css", "text/css; charset=utf-8", "body{}"},
		{"/app.js", "text/javascript; charset=utf-8", "let a=1;"},
		{"/logo.svg", "image/svg+xml", "<svg/>"},
		{"/logo.png", "image/png", "\x89PNG"},
		{"/data.json", "application/json", "{}"},
		{"/sub/page.html", "text/html; charset=utf-8", "<p>sub</p>"},
		{"/sub/page%2Ehtml", "text/html; charset=utf-8", "<p>sub</p>"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		req(&r, "GET", ok[i].path, NULL, NULL);
		if (r.status != 200)
			fail_msg("%s: %ld", ok[i].path, r.status);
		assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
				    ok[i].type);
		assert_int_equal(memcmp(r.body.data, ok[i].body, strlen(ok[i].body)), 0);
		assert_security_headers(&r);
		assert_non_null(header(&r, "Cache-Control", v, sizeof(v)));
		res_free(&r);
	}
	req(&r, "GET", "/", NULL, NULL);
	assert_string_equal(header(&r, "Cache-Control", v, sizeof(v)), "no-cache");
	res_free(&r);
	req(&r, "GET", "/app.css", NULL, NULL);
	assert_string_equal(header(&r, "Cache-Control", v, sizeof(v)),
			    "public, max-age=3600");
	res_free(&r);

	static const char *const bad[] = {
		"/../secret.txt",
		"/sub/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/sub/%2e%2e/%2e%2e/secret.txt",
		"/..%2fsecret.txt",
		"/sub/..%2f..%2fsecret.txt",
		"/%2fetc%2fpasswd",
		"//etc/passwd",
		"/%5c..%5csecret.txt",
		"/..\\secret.txt",
		"/.hidden",
		"/%2ehidden",
		"/./index.html",
		"/sub/",
		"/sub",
		"/link-out.txt",
		"/dir-out/secret.txt",
		"/missing.html",
		"/C:/secret.txt",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req(&r, "GET", bad[i], NULL, NULL);
		if (r.status != 404)
			fail_msg("%s: %ld %s", bad[i], r.status, r.body.data);
		assert_error(&r, 404, "not_found", NULL);
		assert_null(strstr(r.body.data, "TOPSECRET"));
		assert_security_headers(&r);
		res_free(&r);
	}
	/* NUL and control bytes are refused before any file lookup */
	static const char *const nul[] = {"/index.html%00.png", "/%00",
					  "/sub%00/page.html", "/index.html%0a"};
	for (size_t i = 0; i < sizeof(nul) / sizeof(nul[0]); i++) {
		req(&r, "GET", nul[i], NULL, NULL);
		assert_error(&r, 400, "invalid_argument", "control character");
		res_free(&r);
	}
	/* API paths never fall through to files */
	req(&r, "GET", "/v1/index.html", NULL, NULL);
	assert_error(&r, 404, "not_found", "no route");
	res_free(&r);
	/* files are read-only */
	req(&r, "POST", "/index.html", "x", NULL);
	assert_error(&r, 404, "not_found", NULL);
	res_free(&r);
}

/* Sends raw bytes, returns the status code of the reply (0 if none). */
static int raw(const void *data, size_t len, struct sg_buf *out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may close early: fine */
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	char buf[4096];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		sg_buf_add(out, buf, (size_t)n);
	close(fd);
	int status = 0;
	if (out->len > 12 && strncmp(out->data, "HTTP/1.", 7) == 0)
		status = atoi(out->data + 9);
	return status;
}

static void test_garbage(void **state)
{
	(void)state;
	struct sg_buf out = SG_BUF_INIT;
	static const char *const junk[] = {
		"GARBAGE\r\n\r\n",
		"GET\r\n\r\n",
		"GET / HTTP/9.9\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"POST /v1/webhooks/test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"\x00\x01\x02\x03",
		"GET /v1/tickets/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		sg_buf_reset(&out);
		size_t len = i == 6 ? 4 : strlen(junk[i]);
		int st = raw(junk[i], len, &out);
		if (!(st == 0 || (st >= 400 && st < 600)))
			fail_msg("junk %zu: %d %s", i, st, out.data);
	}
	/* A raw NUL inside the request line: the HTTP library cuts the path
	 * there, and what is left goes through the same checks, so it can
	 * at most name a file inside the root. */
	static const char nul[] = "GET /index.html\0/../../secret.txt HTTP/1.1\r\n"
				  "Host: x\r\nConnection: close\r\n\r\n";
	sg_buf_reset(&out);
	int st = raw(nul, sizeof(nul) - 1, &out);
	assert_true(st == 0 || st == 200 || (st >= 400 && st < 500));
	assert_null(strstr(out.data, "TOPSECRET"));
	static const char nul2[] = "GET /\0../secret.txt HTTP/1.1\r\n"
				   "Host: x\r\nConnection: close\r\n\r\n";
	sg_buf_reset(&out);
	st = raw(nul2, sizeof(nul2) - 1, &out);
	assert_true(st == 0 || st == 200 || (st >= 400 && st < 500));
	assert_null(strstr(out.data, "TOPSECRET"));
	static const char dots[] = "GET /../secret.txt HTTP/1.1\r\n"
				   "Host: x\r\nConnection: close\r\n\r\n";
	sg_buf_reset(&out);
	assert_int_equal(raw(dots, sizeof(dots) - 1, &out), 404);
	assert_null(strstr(out.data, "TOPSECRET"));
	/* headers past our cap (but inside the connection's memory): 431 JSON */
	struct sg_buf big = SG_BUF_INIT;
	sg_buf_adds(&big, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 40; i++) {
		sg_buf_addf(&big, "X-Pad-%d: ", i);
		for (int k = 0; k < 500; k++)
			sg_buf_addc(&big, 'a');
		sg_buf_adds(&big, "\r\n");
	}
	sg_buf_adds(&big, "Connection: close\r\n\r\n");
	sg_buf_reset(&out);
	st = raw(big.data, big.len, &out);
	assert_int_equal(st, 431);
	assert_non_null(strstr(out.data, "\"code\":\"limit_exceeded\""));
	/* far past it: the server refuses without reading it all */
	sg_buf_reset(&big);
	sg_buf_adds(&big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	for (int k = 0; k < 300000; k++)
		sg_buf_addc(&big, 'b');
	sg_buf_adds(&big, "\r\n\r\n");
	sg_buf_reset(&out);
	st = raw(big.data, big.len, &out);
	if (!(st == 0 || (st >= 400 && st < 500)))
		fail_msg("huge header: %d %s", st, out.data);
	sg_buf_release(&big);
	sg_buf_release(&out);
	/* still serving */
	struct res r;
	req(&r, "GET", "/healthz", NULL, NULL);
	assert_int_equal(r.status, 200);
	res_free(&r);
}

static void test_metrics(void **state)
{
	(void)state;
	struct res r;
	char v[128];
	/* a family registered by "another module" */
	struct sg_metric *dec;
	const char *labels[] = {"gate", "tier", NULL};
	assert_int_equal(sg_metrics_counter(&dec, sg_server_metrics(srv),
					    "sopgate_decisions_total",
					    "Decisions by gate and tier.", labels,
					    NULL), 0);
	const char *lv[] = {"auto_send", "standard"};
	sg_metric_inc(dec, lv);
	sg_metric_inc(dec, lv);
	for (int i = 0; i < 3; i++) {
		req(&r, "GET", "/healthz", NULL, NULL);
		res_free(&r);
	}
	req(&r, "GET", "/v1/missing-route", NULL, NULL);
	res_free(&r);
	req(&r, "GET", "/app.css", NULL, NULL);
	res_free(&r);

	req(&r, "GET", "/metrics", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
			    "text/plain; version=0.0.4; charset=utf-8");
	struct sg_prom *p = NULL;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_prom_parse(&p, r.body.data, r.body.len, &err))
		fail_msg("%s\n%s", err.msg, r.body.data);
	assert_string_equal(sg_prom_type(p, "sopgate_http_requests_total"), "counter");
	assert_true(sg_prom_value(p, "sopgate_http_requests_total",
				  "route=/healthz,method=GET,status=200") >= 3);
	assert_true(sg_prom_value(p, "sopgate_http_requests_total",
				  "route=unmatched,method=GET,status=404") >= 1);
	/* files are counted under one label, never by path */
	assert_true(sg_prom_value(p, "sopgate_http_requests_total",
				  "route=static,method=GET,status=200") >= 1);
	assert_null(strstr(r.body.data, "app.css"));
	assert_string_equal(sg_prom_type(p, "sopgate_http_request_duration_seconds"),
			    "histogram");
	double cnt = sg_prom_value(p, "sopgate_http_request_duration_seconds_count",
				   "route=/healthz");
	assert_true(cnt >= 3);
	assert_true(sg_prom_value(p, "sopgate_http_request_duration_seconds_bucket",
				  "route=/healthz,le=+Inf") == cnt);
	assert_true(sg_prom_value(p, "sopgate_decisions_total",
				  "gate=auto_send,tier=standard") == 2);
	/* this very request is in flight while rendering */
	assert_true(sg_prom_value(p, "sopgate_http_requests_in_flight", "") >= 1);
	sg_prom_free(p);
	res_free(&r);
}

static void test_access_log(void **state)
{
	(void)state;
	struct res r;
	const char *h[] = {"X-Request-Id: log-check-1",
			   "Authorization: Bearer " AGENT,
			   "Content-Type: application/json", NULL};
	req(&r, "POST", "/v1/tickets?email=someone%40example.com",
	    "{\"body\":\"card 4111111111111111\"}", h);
	assert_int_equal(r.status, 201);
	res_free(&r);
	/* the line is written when the request completes */
	struct timespec ts = {0, 20 * 1000 * 1000};
	const char *line = NULL;
	for (int i = 0; i < 250 && !line; i++) {
		pthread_mutex_lock(&log_lock);
		line = strstr(logbuf.data, "req=log-check-1 ");
		pthread_mutex_unlock(&log_lock);
		if (!line)
			nanosleep(&ts, NULL);
	}
	assert_non_null(line);
	pthread_mutex_lock(&log_lock);
	assert_non_null(strstr(line, "req=log-check-1 POST /v1/tickets 201 "));
	assert_null(strstr(logbuf.data, "4111111111111111"));
	assert_null(strstr(logbuf.data, "example.com"));
	assert_null(strstr(logbuf.data, AGENT));
	pthread_mutex_unlock(&log_lock);
}

static void test_bad_options(void **state)
{
	(void)state;
	struct sg_server *s = NULL;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_server_options o = SG_SERVER_OPTIONS_INIT;
	o.bind_addr = "localhost";
	assert_int_equal(sg_server_start(&s, &o, &err), -SG_EINVALID);
	assert_null(s);
	assert_non_null(strstr(err.msg, "bind_addr"));

	struct sg_route dup[] = {
		{"GET", "/v1/x/{id}", SG_ROLE_AGENT, 0, h_stats, NULL},
		{"GET", "/v1/x/{other}", SG_ROLE_AGENT, 0, h_stats, NULL},
	};
	o = (struct sg_server_options)SG_SERVER_OPTIONS_INIT;
	o.routes = dup;
	o.nroutes = 2;
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_server_start(&s, &o, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "same as"));

	struct sg_route open_write[] = {
		{"POST", "/v1/x", SG_ROLE_NONE, 0, h_stats, NULL},
	};
	o.routes = open_write;
	o.nroutes = 1;
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_server_start(&s, &o, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "needs a minimum role"));

	struct sg_route bad_pat[] = {
		{"GET", "/v1/{bad-name}", SG_ROLE_AGENT, 0, h_stats, NULL},
	};
	o.routes = bad_pat;
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_server_start(&s, &o, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "bad parameter name"));

	o.routes = NULL;
	o.nroutes = 0;
	o.static_dir = "/nonexistent/console";
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_server_start(&s, &o, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "static_dir"));

	/* the port in use */
	o = (struct sg_server_options)SG_SERVER_OPTIONS_INIT;
	o.port = port;
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_server_start(&s, &o, &err), -SG_EIO);
	assert_non_null(strstr(err.msg, "unable to listen"));
}

struct slow_arg {
	unsigned port;
	long status;
	char body[64];
};

static void *slow_client(void *p)
{
	struct slow_arg *a = p;
	struct res r;
	req_port(&r, a->port, "GET", "/v1/slow", NULL, 0, NULL);
	a->status = r.status;
	snprintf(a->body, sizeof(a->body), "%s", r.body.data);
	res_free(&r);
	return NULL;
}

static void test_graceful_stop(void **state)
{
	(void)state;
	struct sg_server *s2;
	unsigned p2;
	start(&s2, &p2, 0, 0);
	sem_init(&slow_entered, 0, 0);
	struct slow_arg a = {p2, 0, ""};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_client, &a), 0);
	sem_wait(&slow_entered); /* the request is inside its handler */
	sg_server_stop(s2, 5000);
	pthread_join(t, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"slow\":\"done\"}");
	/* nobody listens any more */
	CURL *c = curl_easy_init();
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", p2);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	assert_int_equal(curl_easy_perform(c), CURLE_COULDNT_CONNECT);
	curl_easy_cleanup(c);
	sem_destroy(&slow_entered);
}

struct sig_arg {
	unsigned port;
	pthread_t main;
	long status;
};

static void *request_then_signal(void *p)
{
	struct sig_arg *a = p;
	struct res r;
	req_port(&r, a->port, "GET", "/healthz", NULL, 0, NULL);
	a->status = r.status;
	res_free(&r);
	pthread_kill(a->main, SIGTERM);
	return NULL;
}

/* Last: it leaves SIGINT/SIGTERM/SIGHUP blocked in this process. */
static void test_signal_shutdown(void **state)
{
	(void)state;
	sigset_t set;
	assert_int_equal(sg_server_signals_block(&set), 0);
	struct sg_server *s2;
	unsigned p2;
	start(&s2, &p2, 0, 0);
	struct sig_arg a = {p2, pthread_self(), 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, request_then_signal, &a), 0);
	int sig = sg_server_signals_wait(&set);
	assert_int_equal(sig, SIGTERM);
	sg_server_stop(s2, 1000);
	pthread_join(t, NULL);
	assert_int_equal(a.status, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_auth_roles),
		cmocka_unit_test(test_cookie_csrf),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_access_log),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_graceful_stop),
		cmocka_unit_test(test_signal_shutdown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
