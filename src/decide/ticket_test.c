/*
 * ticket_test.c - the input contract: valid events, and errors that name
 * the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/json.h"
#include "core/buf.h"
#include "decide/ticket.h"

static int parse(struct sg_ticket *t, struct sg_arena *a, const char *s,
		 struct sg_error *err)
{
	sg_error_clear(err);
	return sg_ticket_parse(t, s, strlen(s), a, err);
}

static void test_full_event(void **state)
{
	(void)state;
	struct sg_arena a;
	struct sg_ticket t;
	struct sg_error err = SG_ERROR_INIT;
	sg_arena_init(&a, 0);
	const char *ev =
		"{\"id\":\"T-1001\",\"channel\":\"chat\",\"subject\":\"Refund\","
		"\"body\":\"I want my $199 back.\",\"priority\":\"P2\","
		"\"history\":[{\"role\":\"customer\",\"text\":\"hi\"},"
		"{\"role\":\"ai\",\"text\":\"hello\",\"intent\":\"get_refund\"}],"
		"\"customer\":{\"id\":\"C-77\",\"name\":\"Jane Smith\",\"tier\":\"premium\","
		"\"ltv\":4200,\"vip\":true},"
		"\"facts\":{\"refund\":{\"amount\":199,\"status\":\"none\"}},"
		"\"draft\":{\"text\":\"ok\",\"sources\":[\"kb:billing/refunds\"]},"
		"\"extra\":{\"kept\":true}}";
	assert_int_equal(parse(&t, &a, ev, &err), 0);
	assert_string_equal(t.id, "T-1001");
	assert_string_equal(t.channel, "chat");
	assert_string_equal(t.customer.tier, "premium");
	assert_true(t.customer.vip);
	assert_int_equal(t.nhistory, 2);
	assert_string_equal(t.history[1].intent, "get_refund");
	assert_int_equal(t.ndraft_sources, 1);
	assert_int_equal((int)json_integer_value(sg_ticket_fact(&t, "refund.amount")), 199);
	assert_null(sg_ticket_fact(&t, "refund.missing"));
	assert_non_null(t.event_id);
	assert_int_equal(strncmp(t.event_id, "sha256:", 7), 0);
	size_t n;
	assert_string_equal(sg_ticket_text(&t, &a, &n), "Refund\n\nI want my $199 back.");
	char first[64];
	snprintf(first, sizeof(first), "%s", t.event_id);
	sg_ticket_release(&t);
	/* the same payload derives the same event id */
	assert_int_equal(parse(&t, &a, ev, &err), 0);
	assert_string_equal(t.event_id, first);
	sg_ticket_release(&t);
	sg_arena_release(&a);
}

static void expect_error(const char *ev, const char *msg)
{
	struct sg_arena a;
	struct sg_ticket t;
	struct sg_error err = SG_ERROR_INIT;
	sg_arena_init(&a, 0);
	assert_true(parse(&t, &a, ev, &err) < 0);
	assert_string_equal(err.msg, msg);
	assert_null(t.json);
	sg_arena_release(&a);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error("{\"body\":\"x\"}", "field 'id': required");
	expect_error("{\"id\":\"T\"}", "field 'body': required");
	expect_error("{\"id\":\"\",\"body\":\"x\"}", "field 'id': must not be empty");
	expect_error("{\"id\":5,\"body\":\"x\"}", "field 'id': expected a string, got number");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"channel\":\"fax\"}",
		     "field 'channel': 'fax' is not one of email, chat, in_app, social, voice");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"customer\":{\"tier\":\"gold\"}}",
		     "field 'customer.tier': 'gold' is not one of free, starter, paid, premium, enterprise");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"customer\":{\"vip\":\"yes\"}}",
		     "field 'customer.vip': expected a boolean, got string");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"priority\":\"urgent\"}",
		     "field 'priority': 'urgent' is not one of P0, P1, P2, P3");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"history\":[1]}",
		     "field 'history[0]': expected an object, got number");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"history\":[{\"role\":\"bot\"}]}",
		     "field 'history[0].role': 'bot' is not one of customer, ai, agent");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"draft\":{\"sources\":[]}}",
		     "field 'draft.text': required");
	expect_error("{\"id\":\"T\",\"body\":\"x\",\"draft\":{\"text\":\"a\",\"sources\":[3]}}",
		     "field 'draft.sources[0]': expected a string, got number");
	expect_error("[1,2]", "ticket event: expected an object, got array");
	expect_error("{\"id\":", "invalid JSON at line 1 column 6: unexpected token near end of file");
}

static void test_long_history_keeps_recent(void **state)
{
	(void)state;
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_adds(&b, "{\"id\":\"T\",\"body\":\"x\",\"history\":[");
	for (int i = 0; i < 100; i++)
		sg_buf_addf(&b, "%s{\"role\":\"customer\",\"text\":\"turn %d\"}", i ? "," : "", i);
	sg_buf_adds(&b, "]}");
	struct sg_arena a;
	struct sg_ticket t;
	struct sg_error err = SG_ERROR_INIT;
	sg_arena_init(&a, 0);
	assert_int_equal(parse(&t, &a, b.data, &err), 0);
	assert_int_equal(t.nhistory, SG_TICKET_MAX_HISTORY);
	assert_string_equal(t.history[SG_TICKET_MAX_HISTORY - 1].text, "turn 99");
	sg_ticket_release(&t);
	sg_arena_release(&a);
	sg_buf_release(&b);
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_event),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_long_history_keeps_recent),
	};
	return cmocka_run_group_tests_name("ticket", tests, NULL, NULL);
}
