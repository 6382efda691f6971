/*
 * backend_test.c - the openai and anthropic backends against a fake model
 * server (libmicrohttpd on 127.0.0.1, a free port) that checks the
 * documented request shapes (method, path, headers, JSON body) and can
 * answer 429 with Retry-After, 5xx, hang, or send malformed JSON. It
 * records every byte it receives: no original PII value may arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "draft/backend.h"
#include "draft/draft.h"
#include "kb/kb.h"
#include "scan/scan.h"
#include "draft/fake_model_test.h"


/* ---- fixtures ---- */

static char tmpdir[256];
static struct sg_kb *kb;
static struct sg_scanner *scanner;
static struct sg_scan_ctx *sctx;
static struct sg_prompt *prompt;

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("SG_TEST_TMP");
	snprintf(tmpdir, sizeof(tmpdir), "%s/backendtest.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	char db[400];
	snprintf(db, sizeof(db), "%s/kb.db", tmpdir);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_scan_options o = SG_SCAN_OPTIONS_INIT;
	setenv("SG_TEST_MODEL_KEY", "test-key", 1);
	if (sg_kb_open(&kb, db, &err) || sg_kb_index(kb, "examples/acme/kb", NULL, &err) ||
	    sg_scanner_new(&scanner, &o, &err) || sg_scan_ctx_new(&sctx, scanner, &err) ||
	    sg_prompt_load(&prompt, "prompts", "reply_drafter", 1, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sg_kb_close(kb);
	sg_scan_ctx_free(sctx);
	sg_scanner_free(scanner);
	sg_prompt_free(prompt);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct sg_backend *backend(enum flavor f, unsigned retries)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", fk.port);
	struct sg_backend_config c = SG_BACKEND_CONFIG_INIT;
	c.backend = f == ANTHROPIC ? "anthropic" : "openai";
	c.base_url = url;
	c.api_key_env = "SG_TEST_MODEL_KEY";
	if (f == AZURE) {
		c.azure_deployment = "support-gpt";
		c.azure_api_version = "2024-10-21";
	}
	c.connect_timeout_ms = 1000;
	c.timeout_ms = 300;
	c.max_retries = retries;
	c.backoff_base_ms = 10;
	c.backoff_max_ms = 40;
	c.retry_after_max_ms = 30; /* caps the fake's Retry-After: 1 */
	c.breaker_failures = 2;
	c.breaker_cooldown_ms = 150;
	struct sg_backend *b;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_backend_new(&b, &c, &err))
		fail_msg("backend: %s", err.msg);
	return b;
}

static struct sg_masked_text *mask(const char *s, const struct sg_scan_input *in)
{
	struct sg_masked_text *m;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_masked_new(&m, sctx, s, strlen(s), in, &err))
		fail_msg("mask: %s", err.msg);
	return m;
}

static int call(struct sg_backend *b, struct sg_backend_response *r, struct sg_error *err)
{
	struct sg_masked_text *m = mask("I forgot my password", NULL);
	struct sg_kb_hits hits;
	struct sg_error e = SG_ERROR_INIT;
	assert_int_equal(sg_kb_search(kb, "password reset", 2, 0, &hits, &e), 0);
	struct sg_backend_request req = {"local-model", prompt, &hits, m, 256, 0.2, 0, NULL};
	int rc = sg_backend_complete(b, &req, r, err);
	sg_kb_hits_release(&hits);
	sg_masked_free(m);
	return rc;
}

/* ---- tests ---- */

static void test_shapes_ok(void **state)
{
	(void)state;
	enum flavor fl[] = {OPENAI, AZURE, ANTHROPIC};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(fake_start(fl[i], OK), 0);
		struct sg_backend *b = backend(fl[i], 0);
		struct sg_backend_response r;
		struct sg_error err = SG_ERROR_INIT;
		if (call(b, &r, &err))
			fail_msg("flavor %zu: %s (server: %s)", i, err.msg, fk.shape_msg);
		assert_int_equal(fk.shape_errors, 0);
		assert_int_equal(fk.requests, 1);
		assert_non_null(strstr(r.text, "Forgot password"));
		if (fl[i] == ANTHROPIC) {
			assert_int_equal(r.input_tokens, 120);
			assert_int_equal(r.output_tokens, 42);
			assert_string_equal(r.finish, "end_turn");
		} else {
			assert_int_equal(r.input_tokens, 44);
			assert_int_equal(r.output_tokens, 8);
			assert_string_equal(r.finish, "stop");
		}
		/* the SOURCES block and the prompt went out; the key only in its header */
		assert_non_null(strstr(fk.received.data, "SOURCES:"));
		assert_non_null(strstr(fk.received.data, "kb:account/password-reset"));
		assert_non_null(strstr(fk.received.data, "Use only facts from the SOURCES block"));
		sg_backend_response_release(&r);
		sg_backend_free(b);
		fake_stop();
	}
}

static void test_retry_after_then_ok(void **state)
{
	(void)state;
	enum flavor fl[] = {OPENAI, ANTHROPIC};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(fake_start(fl[i], RATE_THEN_OK), 0);
		fk.failures_left = 2;
		struct sg_backend *b = backend(fl[i], 3);
		struct sg_backend_response r;
		struct sg_error err = SG_ERROR_INIT;
		if (call(b, &r, &err))
			fail_msg("%s", err.msg);
		assert_int_equal(r.attempts, 3);
		assert_int_equal(fk.requests, 3);
		sg_backend_response_release(&r);
		sg_backend_free(b);
		fake_stop();
	}
	/* out of retries: the 429 is reported */
	assert_int_equal(fake_start(OPENAI, RATE_THEN_OK), 0);
	fk.failures_left = 10;
	struct sg_backend *b = backend(OPENAI, 1);
	struct sg_backend_response r;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(call(b, &r, &err), -SG_ERATE);
	assert_non_null(strstr(err.msg, "HTTP 429"));
	assert_non_null(strstr(err.msg, "after 2 attempts"));
	assert_int_equal(fk.requests, 2);
	assert_null(r.text);
	sg_backend_free(b);
	fake_stop();
}

static void test_no_retry_on_4xx_and_quota(void **state)
{
	(void)state;
	enum mode modes[] = {BAD_REQUEST, QUOTA_429};
	int codes[] = {-SG_EINVALID, -SG_ELIMIT};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(fake_start(OPENAI, modes[i]), 0);
		struct sg_backend *b = backend(OPENAI, 3);
		struct sg_backend_response r;
		struct sg_error err = SG_ERROR_INIT;
		assert_int_equal(call(b, &r, &err), codes[i]);
		assert_int_equal(fk.requests, 1);
		sg_backend_free(b);
		fake_stop();
	}
}

static void test_5xx_timeout_malformed(void **state)
{
	(void)state;
	struct {
		enum flavor f;
		enum mode m;
		unsigned retries;
		int rc, requests;
		const char *needle;
	} cases[] = {
		{OPENAI, SERVER_ERROR, 2, -SG_EBACKEND, 3, "HTTP 503: Loading model"},
		{ANTHROPIC, SERVER_ERROR, 1, -SG_EBACKEND, 2, "HTTP 529: Overloaded"},
		{OPENAI, HANG, 0, -SG_ETIMEOUT, 1, "no answer within 300 ms"},
		{ANTHROPIC, HANG, 0, -SG_ETIMEOUT, 1, "no answer within"},
		{OPENAI, MALFORMED, 2, -SG_EBACKEND, 1, "malformed response"},
		{ANTHROPIC, MALFORMED, 2, -SG_EBACKEND, 1, "malformed response"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(fake_start(cases[i].f, cases[i].m), 0);
		struct sg_backend *b = backend(cases[i].f, cases[i].retries);
		struct sg_backend_response r;
		struct sg_error err = SG_ERROR_INIT;
		assert_int_equal(call(b, &r, &err), cases[i].rc);
		if (!strstr(err.msg, cases[i].needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].needle);
		sg_backend_free(b);
		fake_stop();
		assert_int_equal(fk.requests, cases[i].requests);
	}
}

static void test_circuit_breaker(void **state)
{
	(void)state;
	assert_int_equal(fake_start(OPENAI, SERVER_ERROR), 0);
	struct sg_backend *b = backend(OPENAI, 0);
	struct sg_backend_response r;
	struct sg_error e1 = SG_ERROR_INIT, e2 = SG_ERROR_INIT, e3 = SG_ERROR_INIT,
			e4 = SG_ERROR_INIT, e5 = SG_ERROR_INIT;
	assert_int_equal(call(b, &r, &e1), -SG_EBACKEND);
	assert_string_equal(sg_backend_circuit(b), "closed");
	assert_int_equal(call(b, &r, &e2), -SG_EBACKEND);
	assert_string_equal(sg_backend_circuit(b), "open");
	/* open: fails fast without calling the server */
	assert_int_equal(call(b, &r, &e3), -SG_EBACKEND);
	assert_non_null(strstr(e3.msg, "circuit open"));
	assert_int_equal(fk.requests, 2);
	/* after the cool-down one trial call goes out; it fails: open again */
	struct timespec ts = {0, 200 * 1000000L};
	nanosleep(&ts, NULL);
	assert_string_equal(sg_backend_circuit(b), "half-open");
	assert_int_equal(call(b, &r, &e4), -SG_EBACKEND);
	assert_int_equal(fk.requests, 3);
	assert_string_equal(sg_backend_circuit(b), "open");
	/* the server recovers: the next trial closes the circuit */
	nanosleep(&ts, NULL);
	fk.mode = OK;
	if (call(b, &r, &e5))
		fail_msg("%s", e5.msg);
	assert_string_equal(sg_backend_circuit(b), "closed");
	sg_backend_response_release(&r);
	sg_backend_free(b);
	fake_stop();
}

static void test_pii_never_reaches_model(void **state)
{
	(void)state;
	const char *pii[] = {
		"jane.smith@example.com", "+1 415 555 0199", "4111 1111 1111 1111", "4111111111111111",
		"512-48-3391", "Jane Smith", "Smith", "Jane", "DE89 3704 0044 0532 0130 00",
		"192.168.14.77",
	};
	const char *ticket =
		"Hi, I'm Jane Smith. I forgot my password and cannot sign in. My email is "
		"jane.smith@example.com and my phone +1 415 555 0199. Card 4111 1111 1111 1111, "
		"SSN 512-48-3391, IBAN DE89 3704 0044 0532 0130 00, from IP 192.168.14.77.";
	struct sg_scan_input in = {0};
	in.customer_name = "Jane Smith";
	in.customer_email = "jane.smith@example.com";
	enum flavor fl[] = {OPENAI, AZURE, ANTHROPIC};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(fake_start(fl[i], OK), 0);
		struct sg_backend *b = backend(fl[i], 0);
		struct sg_masked_text *m = mask(ticket, &in);
		struct sg_draft_request req = {m, "password_reset", "Jane", NULL, 0, 0, 0};
		struct sg_model_approval ok[] = {{"draft", "local-model"}};
		struct sg_draft d;
		struct sg_error err = SG_ERROR_INIT;
		if (sg_draft_model(&d, b, "local-model", prompt, kb, &req, ok, 1, NULL, "T-1", &err))
			fail_msg("%s", err.msg);
		assert_int_equal(fk.requests, 1);
		assert_int_equal(fk.shape_errors, 0);
		for (size_t k = 0; k < sizeof(pii) / sizeof(*pii); k++)
			if (strstr(fk.received.data, pii[k]))
				fail_msg("PII value '%s' reached the model server", pii[k]);
		/* the name is put in locally, after the call */
		assert_true(!strncmp(d.text, "Hi Jane,\n", 9));
		assert_string_equal(d.model_name, "local-model");
		assert_string_equal(d.prompt_template_version, "reply_drafter.v1");
		assert_true(d.nsources >= 1);
		assert_string_equal(d.sources[0], "kb:account/password-reset");
		sg_draft_release(&d);
		sg_masked_free(m);
		sg_backend_free(b);
		fake_stop();
	}
}

static void test_model_path_rules(void **state)
{
	(void)state;
	assert_int_equal(fake_start(OPENAI, OK), 0);
	struct sg_backend *b = backend(OPENAI, 0);
	struct sg_model_approval ok[] = {{"draft", "local-model"}, {"summarize", "other-model"}};
	struct sg_masked_text *m = mask("I forgot my password", NULL);
	struct sg_draft_request req = {m, "password_reset", NULL, NULL, 0, 0, 0};
	struct sg_draft d;
	struct sg_error e1 = SG_ERROR_INIT, e2 = SG_ERROR_INIT, e3 = SG_ERROR_INIT;
	/* an unapproved model is refused before any call */
	assert_int_equal(sg_draft_model(&d, b, "other-model", prompt, kb, &req, ok, 2, NULL, "T-1", &e1),
			 -SG_EFORBIDDEN);
	assert_string_equal(e1.msg, "model 'other-model' is not approved for task 'draft'");
	assert_int_equal(fk.requests, 0);
	/* budget: 52 tokens per call, 100 per session: the third call is refused */
	struct sg_budget *bud;
	assert_int_equal(sg_budget_new(&bud, 100, 10, &e2), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sg_draft_model(&d, b, "local-model", prompt, kb, &req, ok, 2, bud, "T-9", &e2), 0);
		assert_int_equal(d.input_tokens + d.output_tokens, 52);
		sg_draft_release(&d);
	}
	assert_int_equal(sg_budget_used(bud, "T-9"), 104);
	assert_int_equal(sg_draft_model(&d, b, "local-model", prompt, kb, &req, ok, 2, bud, "T-9", &e3),
			 -SG_ELIMIT);
	assert_non_null(strstr(e3.msg, "token budget exhausted"));
	assert_int_equal(fk.requests, 2);
	sg_budget_free(bud);
	sg_masked_free(m);
	/* off-topic: ESCALATE without calling the model */
	m = mask("Write me a poem about the moon", NULL);
	struct sg_draft_request off = {m, NULL, NULL, NULL, 0, 0, 0};
	struct sg_error e4 = SG_ERROR_INIT;
	assert_int_equal(sg_draft_model(&d, b, "local-model", prompt, kb, &off, ok, 2, NULL, "T-2", &e4), 0);
	assert_string_equal(d.text, "ESCALATE: insufficient context");
	assert_int_equal(fk.requests, 2);
	sg_draft_release(&d);
	/* the model answering ESCALATE is passed on exactly */
	sg_masked_free(m);
	m = mask("I forgot my password", NULL);
	fk.reply = "ESCALATE: insufficient context";
	struct sg_draft_request req2 = {m, "password_reset", NULL, NULL, 0, 0, 0};
	assert_int_equal(sg_draft_model(&d, b, "local-model", prompt, kb, &req2, ok, 2, NULL, "T-3", &e4), 0);
	assert_int_equal(d.escalate, 1);
	assert_string_equal(d.text, "ESCALATE: insufficient context");
	sg_draft_release(&d);
	sg_masked_free(m);
	sg_backend_free(b);
	fake_stop();
}

static void test_config_errors(void **state)
{
	(void)state;
	struct sg_backend *b;
	struct sg_backend_config c = SG_BACKEND_CONFIG_INIT;
	struct sg_error e1 = SG_ERROR_INIT, e2 = SG_ERROR_INIT, e3 = SG_ERROR_INIT, e4 = SG_ERROR_INIT;
	c.backend = "gpt-magic";
	assert_int_equal(sg_backend_new(&b, &c, &e1), -SG_EINVALID);
	assert_non_null(strstr(e1.msg, "unknown model backend 'gpt-magic'"));
	c.backend = "anthropic";
	c.base_url = "http://127.0.0.1:9";
	c.api_key_env = "SG_TEST_UNSET_VARIABLE_X";
	unsetenv("SG_TEST_UNSET_VARIABLE_X");
	assert_int_equal(sg_backend_new(&b, &c, &e2), -SG_EINVALID);
	assert_non_null(strstr(e2.msg, "'SG_TEST_UNSET_VARIABLE_X'"));
	c.api_key_env = NULL;
	assert_int_equal(sg_backend_new(&b, &c, &e3), -SG_EINVALID);
	c.backend = "openai";
	c.base_url = "file:///etc/passwd";
	assert_int_equal(sg_backend_new(&b, &c, &e4), -SG_EINVALID);
	/* the builtin backend answers from the sources, offline */
	struct sg_backend_config bc = SG_BACKEND_CONFIG_INIT;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_backend_new(&b, &bc, &err), 0);
	assert_string_equal(sg_backend_name(b), "builtin");
	struct sg_backend_response r;
	assert_int_equal(call(b, &r, &err), 0);
	assert_non_null(strstr(r.text, "Next step:"));
	sg_backend_response_release(&r);
	sg_backend_free(b);
	const struct sg_backend_desc *const *l = sg_backend_list();
	assert_string_equal(l[0]->name, "builtin");
	assert_string_equal(l[1]->name, "openai");
	assert_string_equal(l[2]->name, "anthropic");
	assert_null(l[3]);
}

int main(void)
{
	sg_json_init(); /* as the program does: jansson allocates with sg_malloc */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes_ok),
		cmocka_unit_test(test_retry_after_then_ok),
		cmocka_unit_test(test_no_retry_on_4xx_and_quota),
		cmocka_unit_test(test_5xx_timeout_malformed),
		cmocka_unit_test(test_circuit_breaker),
		cmocka_unit_test(test_pii_never_reaches_model),
		cmocka_unit_test(test_model_path_rules),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
