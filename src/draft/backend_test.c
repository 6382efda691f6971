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

enum flavor { OPENAI, AZURE, ANTHROPIC };
enum mode { OK, RATE_THEN_OK, QUOTA_429, SERVER_ERROR, BAD_REQUEST, HANG, MALFORMED };

struct fake {
	struct MHD_Daemon *d;
	unsigned short port;
	enum flavor flavor;
	enum mode mode;
	int failures_left;   /* RATE_THEN_OK: 429s before success */
	const char *reply;   /* completion text */
	pthread_mutex_t mu;
	int requests;
	int shape_errors;
	char shape_msg[200];
	struct sg_buf received; /* every header and body byte */
};

static struct fake fk;

struct conn {
	struct sg_buf body;
};

static enum MHD_Result record_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	sg_buf_addf(cls, "%s: %s\n", k, v);
	return MHD_YES;
}

static const char *sv(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static void shape_error(const char *msg)
{
	fk.shape_errors++;
	snprintf(fk.shape_msg, sizeof(fk.shape_msg), "%s", msg);
}

static const char *hdr(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Checks the request against the documented shape; 0 when it matches. */
static int check_shape(struct MHD_Connection *c, const char *method, const char *url, json_t *j)
{
	if (strcmp(method, "POST"))
		return shape_error("method is not POST"), -1;
	const char *ct = hdr(c, "Content-Type");
	if (!ct || strncmp(ct, "application/json", 16))
		return shape_error("content-type is not application/json"), -1;
	if (!j)
		return shape_error("body is not JSON"), -1;
	json_t *msgs = json_object_get(j, "messages");
	if (!json_is_array(msgs) || !json_array_size(msgs))
		return shape_error("no messages array"), -1;
	if (!json_is_integer(json_object_get(j, "max_tokens")))
		return shape_error("max_tokens missing"), -1;
	if (fk.flavor == ANTHROPIC) {
		if (strcmp(url, "/v1/messages"))
			return shape_error("path is not /v1/messages"), -1;
		const char *k = hdr(c, "x-api-key"), *v = hdr(c, "anthropic-version");
		if (!k || strcmp(k, "test-key"))
			return shape_error("x-api-key header wrong"), -1;
		if (!v || strcmp(v, "2023-06-01"))
			return shape_error("anthropic-version header wrong"), -1;
		if (!json_is_string(json_object_get(j, "model")) || !json_is_string(json_object_get(j, "system")))
			return shape_error("model or system missing"), -1;
		json_t *m0 = json_array_get(msgs, 0);
		if (strcmp(sv(json_object_get(m0, "role")), "user") ||
		    !json_is_string(json_object_get(m0, "content")))
			return shape_error("first message is not a user text"), -1;
		return 0;
	}
	if (fk.flavor == AZURE) {
		if (strcmp(url, "/openai/deployments/support-gpt/chat/completions"))
			return shape_error("azure path wrong"), -1;
		const char *av = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api-version");
		if (!av || strcmp(av, "2024-10-21"))
			return shape_error("api-version query missing"), -1;
		const char *k = hdr(c, "api-key");
		if (!k || strcmp(k, "test-key"))
			return shape_error("api-key header wrong"), -1;
		if (hdr(c, "Authorization"))
			return shape_error("azure request carries Authorization"), -1;
	} else {
		if (strcmp(url, "/v1/chat/completions"))
			return shape_error("path is not /v1/chat/completions"), -1;
		const char *a = hdr(c, "Authorization");
		if (!a || strcmp(a, "Bearer test-key"))
			return shape_error("Authorization header wrong"), -1;
		if (!json_is_string(json_object_get(j, "model")))
			return shape_error("model missing"), -1;
	}
	json_t *m0 = json_array_get(msgs, 0), *m1 = json_array_get(msgs, 1);
	if (strcmp(sv(json_object_get(m0, "role")), "system") ||
	    strcmp(sv(json_object_get(m1, "role")), "user") ||
	    !json_is_string(json_object_get(m1, "content")))
		return shape_error("messages are not system + user"), -1;
	return 0;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
			      const char *h1, const char *v1)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (h1)
		MHD_add_response_header(r, h1, v1);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct conn *cn = *con_cls;
	if (!cn) {
		cn = calloc(1, sizeof(*cn));
		sg_buf_init(&cn->body);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		sg_buf_add(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&fk.mu);
	fk.requests++;
	sg_buf_addf(&fk.received, "%s %s\n", method, url);
	MHD_get_connection_values(c, MHD_HEADER_KIND, record_header, &fk.received);
	sg_buf_add(&fk.received, cn->body.data, cn->body.len);
	sg_buf_addc(&fk.received, '\n');
	json_t *j = json_loadb(cn->body.data, cn->body.len, 0, NULL);
	int bad = check_shape(c, method, url, j);
	json_decref(j);
	enum mode mode = fk.mode;
	if (mode == RATE_THEN_OK && fk.failures_left-- <= 0)
		mode = OK;
	pthread_mutex_unlock(&fk.mu);
	int anth = fk.flavor == ANTHROPIC;
	if (bad)
		return answer(c, 400, anth ? "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad shape\"}}"
					   : "{\"error\":{\"message\":\"bad shape\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}",
			      NULL, NULL);
	switch (mode) {
	case RATE_THEN_OK:
		return answer(c, 429, anth ? "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}"
					   : "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
			      "Retry-After", "1");
	case QUOTA_429:
		return answer(c, 429, "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}",
			      NULL, NULL);
	case SERVER_ERROR:
		return answer(c, anth ? 529 : 503, anth ? "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
						       : "{\"error\":{\"code\":503,\"message\":\"Loading model\",\"type\":\"unavailable_error\"}}",
			      NULL, NULL);
	case BAD_REQUEST:
		return answer(c, 400, "{\"error\":{\"message\":\"context too long\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}",
			      NULL, NULL);
	case HANG: {
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
		return answer(c, 200, "{}", NULL, NULL);
	}
	case MALFORMED:
		return answer(c, 200, anth ? "{\"id\":\"msg_1\",\"type\":\"message\",\"content\":\"oops\"" : "{\"choices\":[{\"message\":{}}]}",
			      NULL, NULL);
	case OK:
		break;
	}
	json_t *resp;
	if (anth)
		resp = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s}],s:s,s:n,s:{s:i,s:i}}", "id", "msg_01ABC",
				 "type", "message", "role", "assistant", "model", "claude-test", "content",
				 "type", "text", "text", fk.reply, "stop_reason", "end_turn", "stop_sequence",
				 "usage", "input_tokens", 120, "output_tokens", 42);
	else
		resp = json_pack("{s:s,s:s,s:i,s:s,s:[{s:i,s:s,s:{s:s,s:s}}],s:{s:i,s:i,s:i}}", "id",
				 "chatcmpl-abc123", "object", "chat.completion", "created", 1714564800, "model",
				 "local-model", "choices", "index", 0, "finish_reason", "stop", "message", "role",
				 "assistant", "content", fk.reply, "usage", "prompt_tokens", 44,
				 "completion_tokens", 8, "total_tokens", 52);
	char *s = json_dumps(resp, JSON_COMPACT);
	enum MHD_Result ret = answer(c, 200, s, NULL, NULL);
	free(s);
	json_decref(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct conn *cn = *con_cls;
	if (cn) {
		sg_buf_release(&cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

static void fake_start(enum flavor f, enum mode m)
{
	memset(&fk, 0, sizeof(fk));
	pthread_mutex_init(&fk.mu, NULL);
	sg_buf_init(&fk.received);
	fk.flavor = f;
	fk.mode = m;
	fk.reply = "Hi {{first_name}},\n\nGo to the sign-in page and select \"Forgot password\".\n\n"
		   "Next step: open the reset email within 60 minutes.\n\nBest regards,\nAcme Support";
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fk.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
				handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	assert_non_null(fk.d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(fk.d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	fk.port = info->port;
	assert_true(fk.port > 0);
}

static void fake_stop(void)
{
	MHD_stop_daemon(fk.d);
	sg_buf_release(&fk.received);
	pthread_mutex_destroy(&fk.mu);
}

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
	struct sg_backend_request req = {"local-model", prompt, &hits, m, 256, 0.2, 0};
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
		fake_start(fl[i], OK);
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
		fake_start(fl[i], RATE_THEN_OK);
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
	fake_start(OPENAI, RATE_THEN_OK);
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
		fake_start(OPENAI, modes[i]);
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
		fake_start(cases[i].f, cases[i].m);
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
	fake_start(OPENAI, SERVER_ERROR);
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
		fake_start(fl[i], OK);
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
	fake_start(OPENAI, OK);
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
