/*
 * http_auth_test.c - who may do what, over real HTTP on loopback (fixtures
 * in http_test_util.h): bearer tokens and roles (401/403 and why), cookie
 * login, CSRF on writes, logout, and the cookie's attributes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/http_test_util.h"
#include "server/server.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_roles),
		cmocka_unit_test(test_cookie_csrf),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
