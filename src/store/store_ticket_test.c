/*
 * store_ticket_test.c - ticket writes and what hangs off them, on SQLite
 * and on PostgreSQL (see store_test_util.h): idempotent events, atomic
 * failure, human actions (edits, approvals, races), the read views and the
 * queue, and shadow-policy diffs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store.h"
#include "store/store_test_util.h"

static void test_idempotent_event(void **state)
{
	(void)state;
	char path[512], dec[256], dec2[256];
	tmp_db(path, sizeof(path), "idem.db");
	struct sg_store *s = open_db(path, "w1");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w, w2;
	fill(&w, "T-1", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	assert_int_equal(w.existed, 0);
	assert_null(w.stored_decision);
	fill(&w2, "T-1", "e-1", dec2, sizeof(dec2));
	w2.decision_json = "{\"different\":true}";
	assert_int_equal(sg_store_ticket_write(s, &w2, &err), 0);
	assert_int_equal(w2.existed, 1);
	assert_string_equal(w2.stored_decision, dec);
	assert_string_equal(w2.decision_id, w.decision_id);
	sg_free(w2.stored_decision);
	/* another event of the same ticket is a new decision */
	fill(&w2, "T-1", "e-2", dec2, sizeof(dec2));
	assert_int_equal(sg_store_ticket_write(s, &w2, &err), 0);
	assert_int_equal(w2.existed, 0);
	char *latest = NULL;
	assert_int_equal(sg_store_ticket_decision(s, "T-1", &latest, &err), 0);
	assert_string_equal(latest, dec2);
	sg_free(latest);
	assert_int_equal(sg_store_ticket_decision(s, "T-404", &latest, &err), -SG_ENOTFOUND);
	assert_true(verify_ok(s));
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM decisions"), 2);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM outbox"), 4);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'decision'"), 2);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM tickets"), 1);
}

static void test_atomic_failure(void **state)
{
	(void)state;
	char path[512], dec[256];
	tmp_db(path, sizeof(path), "atomic.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-2", "e-1", dec, sizeof(dec));
	w.actions = bad_action;
	assert_int_equal(sg_store_ticket_write(s, &w, &err), -SG_ESTORE);
	assert_non_null(strstr(err.msg, "outbox"));
	/* invalid decision JSON is refused before anything is written */
	sg_error_clear(&err);
	fill(&w, "T-2", "e-2", dec, sizeof(dec));
	w.decision_json = "not json";
	assert_int_equal(sg_store_ticket_write(s, &w, &err), -SG_EJSON);
	sg_error_clear(&err);
	fill(&w, "", "e-2", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "ticket_id"));
	sg_store_close(s);
	const char *tables[] = {"ticket_events", "decisions", "tickets", "outbox", "audit"};
	for (size_t i = 0; i < 5; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", tables[i]);
		assert_int_equal(count(path, sql), 0);
	}
	/* the same event can then be written for real */
	s = open_db(path, NULL);
	fill(&w, "T-2", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	assert_int_equal(w.existed, 0);
	sg_store_close(s);
}

static void test_human_action(void **state)
{
	(void)state;
	char path[512], dec[256];
	tmp_db(path, sizeof(path), "human.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-4", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	struct sg_human_action a = {"T-4", w.decision_id, "ann", "agent", "edit", 1,
				    NULL, "Hello [NAME_1], refunded.", "-Hi\n+Hello", 0, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	assert_int_equal(a.draft_version, 1);
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	assert_int_equal(a.draft_version, 2);
	struct sg_human_action ap = {"T-4", w.decision_id, "lee", "lead", "approve", 2,
				     "ok", NULL, NULL, 0, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &ap, &err), 0);
	/* a second approval of the same step (two workers racing) conflicts */
	struct sg_human_action ap2 = ap;
	ap2.user = "max";
	assert_int_equal(sg_store_human_action(s, &ap2, &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	ap.step = 3;
	assert_int_equal(sg_store_human_action(s, &ap, &err), -SG_EINVALID);
	sg_error_clear(&err);
	ap.step = 1;
	ap.action = "delete";
	assert_int_equal(sg_store_human_action(s, &ap, &err), -SG_EINVALID);
	assert_true(verify_ok(s));
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM approvals"), 3);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM drafts"), 2);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action IN ('edit', 'approve')"
			       " AND ticket_id = 'T-4'"), 3);
}

struct collect {
	int n;
	char first[8][64]; /* column 0 of each row */
	int64_t num[8];    /* column num_col of each row */
	int num_col, null_col, nulls;
};

static int collect_row(const struct sg_store_row *r, void *ctx)
{
	struct collect *c = ctx;
	if (c->n < 8) {
		snprintf(c->first[c->n], sizeof(c->first[0]), "%s", r->text[0] ? r->text[0] : "(null)");
		c->num[c->n] = r->num[c->num_col];
	}
	if (c->null_col >= 0 && !r->text[c->null_col])
		c->nulls++;
	c->n++;
	return 0;
}

static void test_views(void **state)
{
	(void)state;
	char path[512], dec[256], id[SG_ID_LEN];
	tmp_db(path, sizeof(path), "views.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-7", "e-1", dec, sizeof(dec));
	snprintf(dec, sizeof(dec), "{\"approval_required\":true,\"escalation\":"
		 "{\"sla_minutes\":30},\"guardrail_types\":[\"pii\"],\"confidence_band\":\"low\"}");
	w.now_ms = 1000;
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	char d1[SG_ID_LEN];
	memcpy(d1, w.decision_id, sizeof(d1));
	struct sg_ticket_write w2;
	char dec2[256];
	fill(&w2, "T-8", "e-1", dec2, sizeof(dec2)); /* approval not required */
	w2.now_ms = 2000;
	assert_int_equal(sg_store_ticket_write(s, &w2, &err), 0);
	struct sg_human_action a = {"T-7", d1, "ann", "agent", "edit", 1, "fixed", "New text",
				    "-a\n+b", 3000, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	struct sg_human_action rj = {"T-7", d1, "bob", "lead", "reject", 1, NULL, NULL, NULL,
				     4000, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &rj, &err), 0);
	assert_int_equal(sg_store_escalation_open(s, "T-7", 1, "lead", NULL, "why", 9000, id,
						  &err), 0);

	struct collect c = {0};
	c.null_col = -1;
	c.num_col = 0;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_LATEST, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], d1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 2;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_DECISION_APPROVALS, d1, collect_row, &c,
				       &err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.first[0], "ann");
	assert_string_equal(c.first[1], "bob");
	assert_int_equal(c.num[0], 1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_LATEST_DRAFT, "T-7", collect_row, &c,
				       &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], "New text");
	memset(&c, 0, sizeof(c));
	c.null_col = 1; /* an escalation without channel */
	c.num_col = 1;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_ESCALATIONS, "T-7", collect_row, &c, &err),
			 0);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 2;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_AUDIT, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 3); /* decision, edit, reject */
	memset(&c, 0, sizeof(c));
	c.null_col = 4; /* note of the reject */
	c.num_col = 3;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_APPROVALS, "T-7", collect_row, &c, &err),
			 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.nulls, 1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 2;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_EVENTS, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], "e-1");
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 0;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_DRAFTS, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.num[0], 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_DECISIONS, "nope", collect_row, &c, &err),
			 0);
	assert_int_equal(c.n, 0);

	/* the queue lists only T-7, with its counts and JSON fields */
	struct sg_store_queue_filter f = {NULL, NULL, NULL};
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 7;
	assert_int_equal(sg_store_queue_scan(s, &f, collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], "T-7");
	assert_int_equal(c.num[0], 30);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 9;
	assert_int_equal(sg_store_queue_scan(s, &f, collect_row, &c, &err), 0);
	assert_int_equal(c.num[0], 1); /* one rejection */
	f.queue = "billing";
	f.tier = "high";
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	assert_int_equal(sg_store_queue_scan(s, &f, collect_row, &c, &err), 0);
	assert_int_equal(c.n, 0);
	sg_store_close(s);
}

struct shadow_seen {
	int rows, fields;
	char first_field[32];
};

static int shadow_row(const struct sg_store_shadow_diff *d, void *ctx)
{
	struct shadow_seen *s = ctx;
	if (!s->rows++)
		snprintf(s->first_field, sizeof(s->first_field), "%s", d->field);
	assert_string_equal(d->live_version, "live-v");
	return 0;
}

static int shadow_field(const char *field, long n, void *ctx)
{
	struct shadow_seen *s = ctx;
	s->fields++;
	if (!strcmp(field, "gate"))
		assert_int_equal(n, 2);
	return 0;
}

static void test_shadow(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "shadow.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_shadow_diff d[3] = {
		{"T-1", "e1", "live-v", "shadow-v", "gate", "agent_review", "two_step", 1000},
		{"T-1", "e1", "live-v", "shadow-v", "rules", "", "test-two-step", 1000},
		{"T-2", "e1", "live-v", "shadow-v", "gate", "auto_send", "agent_review", 2000},
	};
	assert_int_equal(sg_store_shadow_record(s, "shadow-v", 5, 2, d, 3, &err), 0);
	assert_int_equal(sg_store_shadow_record(s, "shadow-v", 3, 0, NULL, 0, &err), 0);
	assert_int_equal(sg_store_shadow_record(s, "other-v", 1, 1, d, 1, &err), -SG_EINVALID);
	sg_error_clear(&err);
	struct sg_store_shadow_counts c;
	struct shadow_seen seen = {0};
	assert_int_equal(sg_store_shadow_summary(s, "shadow-v", &c, shadow_field, &seen, &err), 0);
	assert_int_equal(c.evaluated, 8);
	assert_int_equal(c.differing, 2);
	assert_int_equal(seen.fields, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(sg_store_shadow_scan(s, "shadow-v", 10, shadow_row, &seen, &err), 0);
	assert_int_equal(seen.rows, 3);
	assert_string_equal(seen.first_field, "gate"); /* T-2, the newest */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(sg_store_shadow_scan(s, "shadow-v", 1, shadow_row, &seen, &err), 0);
	assert_int_equal(seen.rows, 1);
	assert_int_equal(sg_store_shadow_scan(s, "shadow-v", 0, shadow_row, &seen, &err),
			 -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_shadow_summary(s, "never-v", &c, NULL, NULL, &err), 0);
	assert_int_equal(c.evaluated, 0);
	sg_store_close(s);
}

int main(void)
{
	if (store_test_init())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idempotent_event),
		cmocka_unit_test(test_atomic_failure),
		cmocka_unit_test(test_human_action),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_views),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
