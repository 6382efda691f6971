/*
 * audit_test.c - the canonical encoding, chains of several writers with
 * anchors, and the verifier's reports on records tampered with directly
 * in the SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "store/store.h"

static void test_canonical(void **state)
{
	(void)state;
	struct sg_audit_record r = {0};
	snprintf(r.id, sizeof(r.id), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	snprintf(r.chain, sizeof(r.chain), "w1");
	r.seq = 7;
	snprintf(r.prev_hash, sizeof(r.prev_hash), "%s", SG_AUDIT_GENESIS);
	r.created_ms = 1700000000123;
	snprintf(r.actor, sizeof(r.actor), "ann");
	snprintf(r.action, sizeof(r.action), "approve");
	snprintf(r.ticket_id, sizeof(r.ticket_id), "T-\"1\"");
	r.body = "{\"step\":1}";
	struct sg_buf b = SG_BUF_INIT;
	sg_audit_canonical(&r, &b);
	assert_string_equal(b.data,
		"{\"action\":\"approve\",\"actor\":\"ann\",\"body\":\"{\\\"step\\\":1}\","
		"\"chain\":\"w1\",\"created_at\":1700000000123,"
		"\"id\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"prev_hash\":\"" SG_AUDIT_GENESIS "\","
		"\"seq\":7,\"ticket_id\":\"T-\\\"1\\\"\"}");
	char h1[SG_SHA256_HEX], h2[SG_SHA256_HEX];
	assert_int_equal(sg_audit_hash(&r, h1), 0);
	r.seq = 8; /* any field changes the hash */
	assert_int_equal(sg_audit_hash(&r, h2), 0);
	assert_string_not_equal(h1, h2);
	sg_buf_release(&b);
}

struct collect {
	char lines[16][600];
	int n;
};

static int collect(const struct sg_audit_problem *p, void *ctx)
{
	struct collect *c = ctx;
	if (c->n < 16)
		snprintf(c->lines[c->n++], 600, "%s/%lld/%s: %.500s", p->chain,
			 (long long)p->seq, p->id, p->what);
	return 0;
}

static unsigned long run_verify(struct sg_store *s, struct collect *c)
{
	struct sg_audit_verifier v;
	struct sg_error err = SG_ERROR_INIT;
	memset(c, 0, sizeof(*c));
	sg_audit_verify_init(&v, collect, c);
	assert_int_equal(sg_store_audit_verify(s, &v, &err), 0);
	unsigned long p = v.problems;
	sg_audit_verify_release(&v);
	return p;
}

static void sql(const char *path, const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void append(struct sg_store *s, const char *ticket, const char *body)
{
	struct sg_error err = SG_ERROR_INIT;
	struct sg_audit_record r = {0};
	snprintf(r.actor, sizeof(r.actor), "ann");
	snprintf(r.action, sizeof(r.action), "approve");
	snprintf(r.ticket_id, sizeof(r.ticket_id), "%s", ticket);
	r.body = (char *)body;
	assert_int_equal(sg_store_begin(s, &err), 0);
	assert_int_equal(sg_store_audit_append(s, &r, &err), 0);
	assert_int_equal(sg_store_commit(s, &err), 0);
}

static void test_writers_and_tamper(void **state)
{
	(void)state;
	const char *base = getenv("SG_TEST_TMP");
	char dir[256], path[300], url[320];
	snprintf(dir, sizeof(dir), "%s/audit-test-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *a = NULL, *b = NULL;
	assert_int_equal(sg_store_open(&a, url, "worker-a", &err), 0);
	assert_int_equal(sg_store_open(&b, url, "worker-b", &err), 0);
	/* two writers interleave, each on its own chain */
	for (int i = 0; i < 5; i++) {
		append(a, "T-1", "{\"n\":1}");
		append(b, "T-2", "{\"n\":2}");
	}
	assert_int_equal(sg_store_audit_anchor(a, &err), 0);
	append(b, "T-2", "{\"n\":3}");
	assert_int_equal(sg_store_audit_anchor(b, &err), 0);
	struct collect c;
	assert_int_equal(run_verify(a, &c), 0);

	struct sg_audit_record r;
	assert_int_equal(sg_store_audit_get(a, "worker-b", 6, &r, &err), 0);
	assert_string_equal(r.body, "{\"n\":3}");
	sg_audit_record_release(&r);
	assert_int_equal(sg_store_audit_get(a, "worker-b", 99, &r, &err), 1);
	/* the second anchor cites both heads */
	assert_int_equal(sg_store_audit_get(a, "anchor", 2, &r, &err), 0);
	assert_non_null(strstr(r.body, "\"chain\":\"worker-a\""));
	assert_non_null(strstr(r.body, "\"chain\":\"worker-b\""));
	assert_non_null(strstr(r.body, "\"seq\":6"));
	sg_audit_record_release(&r);

	/* an edited field is reported at its chain and seq */
	sql(path, "UPDATE audit SET actor = 'mallory' WHERE chain = 'worker-a' AND seq = 3");
	assert_int_equal(run_verify(a, &c), 1);
	assert_non_null(strstr(c.lines[0], "worker-a/3/"));
	assert_non_null(strstr(c.lines[0], "hash mismatch"));
	sql(path, "UPDATE audit SET actor = 'ann' WHERE chain = 'worker-a' AND seq = 3");
	assert_int_equal(run_verify(a, &c), 0);

	/* a chain rewritten with correct hashes is still caught by anchors:
	 * drop worker-b's last record, which the second anchor cites */
	sql(path, "DELETE FROM audit WHERE chain = 'worker-b' AND seq = 6");
	assert_int_equal(run_verify(a, &c), 1);
	assert_non_null(strstr(c.lines[0], "anchor/2/"));
	assert_non_null(strstr(c.lines[0], "chain worker-b seq 6, which no longer exists"));

	sg_store_close(a);
	sg_store_close(b);
}

static void test_jsonl(void **state)
{
	(void)state;
	struct sg_audit_record r = {0};
	snprintf(r.id, sizeof(r.id), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	snprintf(r.chain, sizeof(r.chain), "w1");
	r.seq = 1;
	r.body = "{\"a\":[1,2]}";
	struct sg_buf b = SG_BUF_INIT;
	sg_audit_jsonl(&r, &b);
	json_t *j = NULL;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_json_parse(&j, b.data, b.len, &err), 0);
	assert_true(json_is_array(json_object_get(json_object_get(j, "body"), "a")));
	json_decref(j);
	/* a body that is not JSON (hand-edited) stays a string: valid JSONL */
	sg_buf_reset(&b);
	r.body = "{broken";
	sg_audit_jsonl(&r, &b);
	assert_int_equal(sg_json_parse(&j, b.data, b.len, &err), 0);
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{broken");
	json_decref(j);
	sg_buf_release(&b);
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_writers_and_tamper),
		cmocka_unit_test(test_jsonl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
