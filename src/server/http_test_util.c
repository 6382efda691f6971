/*
 * http_test_util.c - fixtures shared by the server's HTTP tests (see
 * http_test_util.h): the test routes and user table, the server and its
 * static folder, the captured access log and the libcurl client.
 */
#include "server/http_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/json.h"
#include "core/banned.h"

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

int h_stats(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
	    struct sg_error *err)
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

sem_t slow_entered;
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
struct sg_server *srv;
unsigned port;
pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
struct sg_buf logbuf = SG_BUF_INIT;

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

int start(struct sg_server **out, unsigned *p, double rate, int secure)
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

int setup(void **state)
{
	(void)state;
	sg_json_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	make_tree();
	return start(&srv, &port, 0, 0);
}

int teardown(void **state)
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

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	sg_buf_add(ud, p, size * n);
	return size * n;
}

void res_free(struct res *r)
{
	sg_buf_release(&r->body);
	sg_buf_release(&r->head);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

void req_port(struct res *r, unsigned p, const char *method, const char *path,
	      const char *body, size_t len, const char *const *hdrs)
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

void req(struct res *r, const char *method, const char *path, const char *body,
	 const char *const *hdrs)
{
	req_port(r, port, method, path, body, body ? strlen(body) : 0, hdrs);
}

const char *header(const struct res *r, const char *name, char *out, size_t outsz)
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

void assert_error(const struct res *r, long status, const char *code, const char *msg_part)
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

void assert_security_headers(const struct res *r)
{
	char v[256];
	assert_non_null(header(r, "Content-Security-Policy", v, sizeof(v)));
	assert_string_equal(v, "default-src 'self'");
	assert_non_null(header(r, "X-Content-Type-Options", v, sizeof(v)));
	assert_string_equal(v, "nosniff");
	assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
	assert_true(strlen(v) > 0);
}
