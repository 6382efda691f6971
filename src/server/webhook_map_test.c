/*
 * webhook_map_test.c - Zendesk and Intercom payloads (the shapes of
 * docs/integrations.md) mapped to ticket events: the fields taken, events
 * skipped with a reason, and errors naming the payload field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "server/webhook_map.h"

#define ZD_COMMENT \
	"{\"type\":\"zen:event-type:ticket.comment_added\",\"account_id\":1000001," \
	"\"id\":\"0b6f1c1e-0000-4000-8000-000000000001\",\"time\":\"2024-05-01T12:00:00Z\"," \
	"\"zendesk_event_version\":\"2022-11-06\",\"subject\":\"zen:ticket:4321\"," \
	"\"detail\":{\"id\":\"4321\",\"subject\":\"Cannot log in\",\"status\":\"OPEN\"," \
	"\"priority\":\"HIGH\",\"requester_id\":\"9001\",\"tags\":[\"vip\"]," \
	"\"via\":{\"channel\":\"web\"},\"is_public\":true}," \
	"\"event\":{\"comment\":{\"id\":\"777\",\"body\":\"Still broken\",\"is_public\":true," \
	"\"author\":{\"id\":\"9001\",\"is_staff\":false,\"name\":\"A Customer\"}}}}"

#define IC_REPLY \
	"{\"type\":\"notification_event\",\"id\":\"notif_00000000-0000-4000-8000-000000000001\"," \
	"\"topic\":\"conversation.user.replied\",\"app_id\":\"abc123de\",\"created_at\":1714564800," \
	"\"delivery_attempts\":1,\"first_sent_at\":1714564800," \
	"\"data\":{\"type\":\"notification_event_data\",\"item\":{\"type\":\"conversation\"," \
	"\"id\":\"123456\",\"state\":\"open\",\"source\":{\"type\":\"conversation\"," \
	"\"id\":\"403918269\",\"body\":\"<p>Hi</p>\",\"author\":{\"type\":\"user\",\"id\":\"u1\"}}," \
	"\"conversation_parts\":{\"type\":\"conversation_part.list\",\"total_count\":1," \
	"\"conversation_parts\":[{\"type\":\"conversation_part\",\"id\":\"9\"," \
	"\"part_type\":\"comment\",\"body\":\"<p>Still broken</p>\",\"created_at\":1714564800," \
	"\"author\":{\"type\":\"user\",\"id\":\"u1\",\"name\":\"A\",\"email\":\"a@example.com\"}}]}}}}"

static json_t *parse(const char *s)
{
	json_t *v = NULL;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_json_parse(&v, s, strlen(s), &err), 0);
	return v;
}

static const char *get(const json_t *ev, const char *a, const char *b)
{
	const json_t *v = json_object_get(ev, a);
	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static void test_zendesk_comment(void **state)
{
	(void)state;
	json_t *p = parse(ZD_COMMENT), *ev = NULL;
	char why[SG_WEBHOOK_WHY_MAX];
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), 0);
	assert_string_equal(get(ev, "id", NULL), "zendesk-4321");
	assert_string_equal(get(ev, "event_id", NULL), "0b6f1c1e-0000-4000-8000-000000000001");
	assert_string_equal(get(ev, "body", NULL), "Still broken");
	assert_string_equal(get(ev, "subject", NULL), "Cannot log in");
	assert_string_equal(get(ev, "priority", NULL), "P1");
	assert_string_equal(get(ev, "channel", NULL), "email");
	assert_string_equal(get(ev, "customer", "id"), "9001");
	assert_true(json_is_true(json_object_get(json_object_get(ev, "customer"), "vip")));
	assert_string_equal(get(ev, "facts", "helpdesk_status"), "OPEN");
	json_decref(ev);

	/* a staff comment and an internal note are skipped, with a reason */
	json_t *author = json_object_get(json_object_get(json_object_get(p, "event"), "comment"),
					 "author");
	json_object_set_new(author, "is_staff", json_true());
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), 1);
	assert_null(ev);
	assert_non_null(strstr(why, "staff"));
	json_object_set_new(author, "is_staff", json_false());

	/* integer ids (the REST form) are accepted */
	json_object_set_new(json_object_get(p, "detail"), "id", json_integer(4321));
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), 0);
	assert_string_equal(get(ev, "id", NULL), "zendesk-4321");
	json_decref(ev);

	/* errors name the field */
	json_object_set_new(json_object_get(p, "detail"), "id", json_real(1.5));
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'detail.id'"));
	sg_error_clear(&err);
	json_object_del(p, "detail");
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'detail'"));
	sg_error_clear(&err);
	json_object_set_new(p, "detail", json_pack("{s:s}", "id", "4321"));
	json_object_set_new(json_object_get(json_object_get(p, "event"), "comment"), "body",
			    json_integer(3));
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'event.comment.body'"));
	sg_error_clear(&err);
	json_object_set_new(p, "id", json_string("has space"));
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'id'"));
	sg_error_clear(&err);
	json_decref(p);
}

static void test_zendesk_other_events(void **state)
{
	(void)state;
	char why[SG_WEBHOOK_WHY_MAX];
	struct sg_error err = SG_ERROR_INIT;
	json_t *ev = NULL;
	json_t *p = parse("{\"type\":\"zen:event-type:ticket.status_changed\",\"id\":\"e2\","
			  "\"detail\":{\"id\":\"1\"}}");
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), 1);
	assert_non_null(strstr(why, "status_changed"));
	json_decref(p);
	p = parse("{\"type\":\"zen:event-type:ticket.created\",\"id\":\"e3\","
		  "\"detail\":{\"id\":\"7\",\"description\":\"My order is late\","
		  "\"priority\":null,\"via\":{\"channel\":\"chat\"}}}");
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), 0);
	assert_string_equal(get(ev, "body", NULL), "My order is late");
	assert_string_equal(get(ev, "channel", NULL), "chat");
	assert_null(json_object_get(ev, "priority"));
	json_decref(ev);
	json_object_del(json_object_get(p, "detail"), "description");
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'detail.description'"));
	sg_error_clear(&err);
	json_decref(p);
	p = parse("{\"type\":5}");
	assert_int_equal(sg_webhook_zendesk_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'type'"));
	json_decref(p);
}

static void test_intercom(void **state)
{
	(void)state;
	json_t *p = parse(IC_REPLY), *ev = NULL;
	char why[SG_WEBHOOK_WHY_MAX];
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_webhook_intercom_event(&ev, p, why, &err), 0);
	assert_string_equal(get(ev, "id", NULL), "intercom-123456");
	assert_string_equal(get(ev, "event_id", NULL), "notif_00000000-0000-4000-8000-000000000001");
	assert_string_equal(get(ev, "body", NULL), "Still broken");
	assert_string_equal(get(ev, "channel", NULL), "chat");
	assert_string_equal(get(ev, "created_at", NULL), "2024-05-01T12:00:00.000Z");
	assert_string_equal(get(ev, "customer", "id"), "u1");
	assert_string_equal(get(ev, "customer", "email"), "a@example.com");
	json_decref(ev);

	json_object_set_new(p, "topic", json_string("conversation.user.created"));
	assert_int_equal(sg_webhook_intercom_event(&ev, p, why, &err), 0);
	assert_string_equal(get(ev, "body", NULL), "Hi");
	json_decref(ev);

	json_object_set_new(p, "topic", json_string("conversation.admin.replied"));
	assert_int_equal(sg_webhook_intercom_event(&ev, p, why, &err), 1);
	assert_non_null(strstr(why, "admin.replied"));

	json_object_set_new(p, "topic", json_string("conversation.user.replied"));
	json_t *item = json_object_get(json_object_get(p, "data"), "item");
	json_object_set_new(item, "conversation_parts", json_pack("{s:[]}", "conversation_parts"));
	assert_int_equal(sg_webhook_intercom_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'data.item.conversation_parts.conversation_parts'"));
	sg_error_clear(&err);
	json_object_del(item, "id");
	assert_int_equal(sg_webhook_intercom_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'data.item.id'"));
	sg_error_clear(&err);
	json_object_set_new(p, "type", json_string("ping"));
	assert_int_equal(sg_webhook_intercom_event(&ev, p, why, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'type'"));
	json_decref(p);
}

static void html(const char *in, const char *want)
{
	char *t = sg_html_to_text(in, strlen(in));
	assert_non_null(t);
	assert_string_equal(t, want);
	assert_true(strlen(t) <= strlen(in));
	sg_free(t);
}

static void test_html(void **state)
{
	(void)state;
	html("<p>Hi</p>", "Hi");
	html("<p>Line one</p><p>Line two<br/>three</p>", "Line one\nLine two\nthree");
	html("Tom &amp; Jerry &lt;3 &quot;x&quot; &#39;y&#39; &#x263A; &#233;", "Tom & Jerry <3 \"x\" 'y' \xe2\x98\xba \xc3\xa9");
	html("a < b and &bogus; &#0; &#xD800; &#99999999;", "a < b and &bogus; &#0; &#xD800; &#99999999;");
	html("<a href=\"x\">link</a> <b>bold</b>", "link bold");
	html("", "");
	html("&", "&");
	html("<unterminated", "<unterminated");
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zendesk_comment),
		cmocka_unit_test(test_zendesk_other_events),
		cmocka_unit_test(test_intercom),
		cmocka_unit_test(test_html),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
