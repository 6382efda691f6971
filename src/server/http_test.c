/*
 * http_test.c - the server over real HTTP on loopback (libcurl against the
 * port the daemon picked; fixtures in http_test_util.h): /healthz and the
 * request id, routing, 404/405, percent-decoding, request bodies and the
 * JSON error shape, the body cap, rate limiting, raw-socket garbage and
 * oversized headers, and bad options. Sessions and roles are in
 * http_auth_test.c, static files in http_static_test.c, /metrics and the
 * access log in http_metrics_test.c, stopping in http_stop_test.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/limits.h"
#include "server/http_test_util.h"
#include "server/server.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
