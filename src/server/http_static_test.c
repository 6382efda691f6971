/*
 * http_static_test.c - the console's static files over real HTTP on
 * loopback (fixtures in http_test_util.h): content types and caching, and
 * every path traversal we know of (.., %2e%2e, %2f, backslashes, absolute
 * paths, hidden files, symlinks out, NUL and control bytes) refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/http_test_util.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
