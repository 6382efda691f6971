/*
 * store_users_test.c - users, API tokens, console sessions and onboarding,
 * on SQLite and on PostgreSQL (see store_test_util.h): tokens stored only
 * as hashes, sessions that expire, onboarding counts and peer reviews.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "store/store.h"
#include "store/store_test_util.h"

static const void *find(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static void test_user_tokens(void **state)
{
	(void)state;
	char path[512], token[SG_TOKEN_LEN], token2[SG_TOKEN_LEN];
	tmp_db(path, sizeof(path), "users.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_user_add(s, "admin", "ann", "agent", token, &err), 0);
	assert_int_equal(strlen(token), SG_TOKEN_LEN - 1);
	assert_int_equal(sg_store_user_add(s, "admin", "lee", "lead", token2, &err), 0);
	assert_string_not_equal(token, token2);
	struct sg_store_user u;
	assert_int_equal(sg_store_token_verify(s, token, &u, &err), 0);
	assert_string_equal(u.name, "ann");
	assert_string_equal(u.role, "agent");
	assert_int_equal(sg_store_token_verify(s, token2, &u, &err), 0);
	assert_string_equal(u.name, "lee");
	/* one changed digit, a wrong prefix, junk: all refused */
	char bad[SG_TOKEN_LEN];
	memcpy(bad, token, sizeof(bad));
	bad[SG_TOKEN_LEN - 2] = bad[SG_TOKEN_LEN - 2] == 'a' ? 'b' : 'a';
	assert_int_equal(sg_store_token_verify(s, bad, &u, &err), -SG_EUNAUTHORIZED);
	assert_string_equal(u.name, "");
	sg_error_clear(&err);
	assert_int_equal(sg_store_token_verify(s, "sgt_xyz", &u, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_token_verify(s, NULL, &u, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_user_add(s, "admin", "ann", "agent", bad, &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	assert_int_equal(sg_store_user_add(s, "admin", "zed", "boss", bad, &err), -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_user_add(s, "admin", "a b", "agent", bad, &err), -SG_EINVALID);
	assert_true(verify_ok(s));
	sg_store_close(s);
	/* the token itself is nowhere in the database files */
	const char *suffix[] = {"", "-wal"};
	for (int i = 0; i < 2; i++) {
		char p[600];
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		FILE *fp = fopen(p, "rb");
		if (!fp)
			continue;
		static char data[4 << 20];
		size_t len = fread(data, 1, sizeof(data), fp);
		fclose(fp);
		assert_null(find(data, len, token + 4, 64));
		assert_null(find(data, len, token2 + 4, 64));
	}
	assert_int_equal(count(path, "SELECT COUNT(*) FROM users"), 2);
}

static void test_sessions(void **state)
{
	(void)state;
	char path[512], token[SG_TOKEN_LEN], csrf[SG_STORE_CSRF_LEN];
	tmp_db(path, sizeof(path), "sessions.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_user_add(s, "admin", "ann", "lead", token, &err), 0);
	char sid[SG_SHA256_HEX];
	sg_sha256_hex("cookie-value", 12, sid);
	assert_int_equal(sg_store_session_put(s, sid, "ann", "csrf123", 5000, &err), 0);
	struct sg_store_user u;
	int64_t exp = 0;
	assert_int_equal(sg_store_session_get(s, sid, 1000, &u, csrf, &exp, &err), 0);
	assert_string_equal(u.name, "ann");
	assert_string_equal(u.role, "lead");
	assert_string_equal(csrf, "csrf123");
	assert_int_equal(exp, 5000);
	/* expired, unknown, malformed */
	assert_int_equal(sg_store_session_get(s, sid, 5000, &u, csrf, &exp, &err),
			 -SG_EUNAUTHORIZED);
	assert_string_equal(u.name, "");
	sg_error_clear(&err);
	char other[SG_SHA256_HEX];
	sg_sha256_hex("other", 5, other);
	assert_int_equal(sg_store_session_get(s, other, 0, &u, csrf, &exp, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_session_get(s, "nothex", 0, &u, csrf, &exp, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_session_del(s, sid, &err), 0);
	assert_int_equal(sg_store_session_get(s, sid, 1000, &u, csrf, &exp, &err), -SG_EUNAUTHORIZED);
	sg_store_close(s);
}

/* Onboarding: the flag set at creation, sends counted, a peer review
 * recorded with the first approval and its reason audited; graduation. */
static void test_onboarding(void **state)
{
	(void)state;
	char path[512], dec[256], token[SG_TOKEN_LEN];
	tmp_db(path, sizeof(path), "onboarding.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_onboarding o;
	assert_int_equal(sg_store_user_add_opts(s, "cli", "nia", "agent",
						SG_STORE_USER_ONBOARDING, token, &err), 0);
	assert_int_equal(sg_store_user_add(s, "cli", "lee", "lead", token, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.onboarding, 1);
	assert_int_equal(o.tickets, 0);
	assert_int_equal(sg_store_user_onboarding(s, "lee", &o, &err), 0);
	assert_int_equal(o.onboarding, 0);
	assert_int_equal(sg_store_user_onboarding(s, "nobody", &o, &err), -SG_ENOTFOUND);
	sg_error_clear(&err);

	struct sg_ticket_write w;
	fill(&w, "T-9", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	struct sg_store_peer_review pr;
	assert_int_equal(sg_store_peer_review(s, w.decision_id, &pr, &err), 1);
	struct sg_human_action a = {"T-9", w.decision_id, "nia", "agent", "approve", 1,
				    NULL, NULL, NULL, 0, 1, "ticket 1 of the first 20", 1, 0};
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	assert_int_equal(sg_store_peer_review(s, w.decision_id, &pr, &err), 0);
	assert_string_equal(pr.user, "nia");
	assert_string_equal(pr.reason, "ticket 1 of the first 20");
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.tickets, 1);
	/* a reject is not a send: not counted; a peer review only follows an approval */
	struct sg_human_action r = {"T-9", w.decision_id, "nia", "agent", "reject", 1,
				    NULL, NULL, NULL, 0, 1, "x", 1, 0};
	assert_int_equal(sg_store_human_action(s, &r, &err), -SG_EINVALID);
	sg_error_clear(&err);
	r.needs_peer = 0;
	assert_int_equal(sg_store_human_action(s, &r, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.tickets, 1);

	assert_int_equal(sg_store_user_onboarding_set(s, "lee", "nia", 0, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.onboarding, 0);
	assert_int_equal(o.tickets, 1);
	assert_int_equal(sg_store_user_onboarding_set(s, "lee", "nia", 1, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.onboarding, 1);
	assert_int_equal(o.tickets, 0);
	assert_int_equal(sg_store_user_onboarding_set(s, "lee", "ghost", 0, &err), -SG_ENOTFOUND);
	sg_error_clear(&err);
	assert_true(verify_ok(s));
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'user.onboarding'"), 2);
	/* bodies are compact JSON with sorted keys (portable LIKE, no JSON functions) */
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'approve' AND"
			       " body LIKE '%\"onboarding\":\"ticket 1 of the first 20\"%'"
			       " AND body LIKE '%\"peer_review_required\":true%'"), 1);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'user.add' AND"
			       " body LIKE '%\"onboarding\":true%'"), 1);
}

int main(void)
{
	if (store_test_init())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_tokens),
		cmocka_unit_test(test_onboarding),
		cmocka_unit_test(test_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
