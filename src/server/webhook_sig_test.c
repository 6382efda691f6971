/*
 * webhook_sig_test.c - the Zendesk, Intercom and Slack verifiers against the
 * test vectors of docs/integrations.md: valid, wrong secret, stale
 * timestamp, tampered body, missing and malformed headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/id.h"
#include "server/webhook_sig.h"

#define ZD_SECRET "zd-test-secret"
#define ZD_TS "2024-05-01T12:00:00Z"
#define ZD_BODY "{\"type\":\"zen:event-type:ticket.comment_added\",\"id\":\"evt-1\"}"
#define ZD_SIG "cwgXgiKd4y2eXbCGF0SxJ+9HpBlJklH8yN8ZjOcz/PE="

#define SL_SECRET "slack-test-secret"
#define SL_TS "1714564800"
#define SL_BODY "payload=%7B%22type%22%3A%22block_actions%22%7D"
#define SL_SIG "v0=0cb4af6cc6509f623f74f7f69a20b2e791a3ef0314e79c9537ca2236225b16a4"

#define IC_SECRET "intercom-test-secret"
#define IC_BODY "{\"type\":\"notification_event\",\"id\":\"notif_1\",\"topic\":\"conversation.user.created\"}"
#define IC_SIG "sha1=fbab838156b958f7628fd3b4bd126f061b9a37c9"

static int64_t zd_now(void)
{
	int64_t ms = 0;
	assert_int_equal(sg_time_parse_iso(ZD_TS, &ms), 0);
	return ms / 1000;
}

static void test_zendesk(void **state)
{
	(void)state;
	const size_t n = strlen(ZD_BODY);
	int64_t now = zd_now();
	struct sg_error err = SG_ERROR_INIT;
	char sig[SG_SIG_MAX];

	assert_int_equal(sg_sig_zendesk_sign(sig, ZD_SECRET, ZD_TS, ZD_BODY, n), 0);
	assert_string_equal(sig, ZD_SIG);
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, ZD_SIG, ZD_TS, ZD_BODY,
					       n, now + 10, SG_SIG_WINDOW_S, &err), 0);

	/* wrong secret */
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_zendesk_verify("zd-test-secreT", ZD_SIG, ZD_TS,
					       ZD_BODY, n, now, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_non_null(strstr(err.msg, "signature mismatch"));

	/* stale timestamp (and one from the future) */
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, ZD_SIG, ZD_TS, ZD_BODY,
					       n, now + 301, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_non_null(strstr(err.msg, "window"));
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, ZD_SIG, ZD_TS, ZD_BODY,
					       n, now - 301, 300, &err),
			 -SG_EUNAUTHORIZED);

	/* tampered body: one byte changed, one byte dropped */
	char body[sizeof(ZD_BODY)];
	memcpy(body, ZD_BODY, sizeof(body));
	body[n - 3] = '2';
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, ZD_SIG, ZD_TS, body, n,
					       now, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, ZD_SIG, ZD_TS, ZD_BODY,
					       n - 1, now, 300, NULL),
			 -SG_EUNAUTHORIZED);
	/* the old BODY+TIMESTAMP order must not verify */
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET,
					       "OJsVUWPLPjZYhEeLdHvlgtslHjdDp7BWYbphOcEF2J8=",
					       ZD_TS, ZD_BODY, n, now, 300, NULL),
			 -SG_EUNAUTHORIZED);

	/* missing / malformed headers */
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, NULL, ZD_TS, ZD_BODY, n,
					       now, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_string_equal(err.msg,
			    "header 'X-Zendesk-Webhook-Signature': missing");
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, ZD_SIG, "yesterday",
					       ZD_BODY, n, now, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_non_null(strstr(err.msg, "ISO-8601"));
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, "", ZD_TS, ZD_BODY, n,
					       now, 300, NULL),
			 -SG_EUNAUTHORIZED);
	/* a truncated signature is a mismatch, not a prefix match */
	assert_int_equal(sg_sig_zendesk_verify(ZD_SECRET, "cwgXgiKd4y2eXbCG",
					       ZD_TS, ZD_BODY, n, now, 300, NULL),
			 -SG_EUNAUTHORIZED);
}

static void test_intercom(void **state)
{
	(void)state;
	const size_t n = strlen(IC_BODY);
	struct sg_error err = SG_ERROR_INIT;
	char sig[SG_SIG_MAX];

	assert_int_equal(sg_sig_intercom_sign(sig, IC_SECRET, IC_BODY, n), 0);
	assert_string_equal(sig, IC_SIG);
	assert_int_equal(sg_sig_intercom_verify(IC_SECRET, IC_SIG, IC_BODY, n,
						&err), 0);
	/* wrong secret */
	assert_int_equal(sg_sig_intercom_verify("intercom-test-secre", IC_SIG,
						IC_BODY, n, &err),
			 -SG_EUNAUTHORIZED);
	assert_non_null(strstr(err.msg, "signature mismatch"));
	/* tampered body */
	char body[sizeof(IC_BODY)];
	memcpy(body, IC_BODY, sizeof(body));
	body[10] ^= 0x20;
	assert_int_equal(sg_sig_intercom_verify(IC_SECRET, IC_SIG, body, n, NULL),
			 -SG_EUNAUTHORIZED);
	/* upper-case hex and a sha256 prefix are refused */
	assert_int_equal(sg_sig_intercom_verify(IC_SECRET,
						"sha1=FBAB838156B958F7628FD3B4BD126F061B9A37C9",
						IC_BODY, n, NULL),
			 -SG_EUNAUTHORIZED);
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_intercom_verify(IC_SECRET, "sha256=fbab",
						IC_BODY, n, &err),
			 -SG_EUNAUTHORIZED);
	assert_string_equal(err.msg,
			    "header 'X-Hub-Signature': expected 'sha1=<hex>'");
	assert_int_equal(sg_sig_intercom_verify(IC_SECRET, NULL, IC_BODY, n, NULL),
			 -SG_EUNAUTHORIZED);
}

static void test_slack(void **state)
{
	(void)state;
	const size_t n = strlen(SL_BODY);
	const int64_t now = 1714564800;
	struct sg_error err = SG_ERROR_INIT;
	char sig[SG_SIG_MAX];

	assert_int_equal(sg_sig_slack_sign(sig, SL_SECRET, SL_TS, SL_BODY, n), 0);
	assert_string_equal(sig, SL_SIG);
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, SL_TS, SL_BODY, n,
					     now + 299, SG_SIG_WINDOW_S, &err), 0);
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, SL_TS, SL_BODY, n,
					     now + 300, SG_SIG_WINDOW_S, NULL), 0);
	/* wrong secret */
	assert_int_equal(sg_sig_slack_verify("slack-test-secrets", SL_SIG, SL_TS,
					     SL_BODY, n, now, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_non_null(strstr(err.msg, "signature mismatch"));
	/* stale: 5 minutes and one second */
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, SL_TS, SL_BODY, n,
					     now + 301, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_string_equal(err.msg, "header 'X-Slack-Request-Timestamp': "
			    "timestamp is 301 s away from now (window 300 s)");
	/* tampered body, and the decoded form of the same body */
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, SL_TS,
					     "payload={\"type\":\"block_actions\"}",
					     32, now, 300, NULL),
			 -SG_EUNAUTHORIZED);
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, SL_TS, SL_BODY,
					     n - 1, now, 300, NULL),
			 -SG_EUNAUTHORIZED);
	/* a replayed signature with a fresh timestamp does not verify */
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, "1714564900",
					     SL_BODY, n, now + 100, 300, NULL),
			 -SG_EUNAUTHORIZED);
	/* malformed timestamp and signature */
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, "-1714564800",
					     SL_BODY, n, now, 300, &err),
			 -SG_EUNAUTHORIZED);
	assert_non_null(strstr(err.msg, "Unix seconds"));
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, &SL_SIG[3], SL_TS,
					     SL_BODY, n, now, 300, NULL),
			 -SG_EUNAUTHORIZED);
	assert_int_equal(sg_sig_slack_verify(SL_SECRET, SL_SIG, NULL, SL_BODY, n,
					     now, 300, NULL),
			 -SG_EUNAUTHORIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zendesk),
		cmocka_unit_test(test_intercom),
		cmocka_unit_test(test_slack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
