/*
 * fake_model_test.h - a fake model server for tests (libmicrohttpd on
 * 127.0.0.1, a free port): OpenAI chat completions (also Azure deployment
 * URLs) or the Anthropic Messages API. It checks the documented request
 * shapes (method, path, headers, JSON body), can answer 429 with
 * Retry-After, 5xx, hang or send malformed JSON, and records every header
 * and body byte it receives, so a test can search them for PII.
 * One server per test binary (the global fk).
 */
#ifndef SG_DRAFT_FAKE_MODEL_TEST_H
#define SG_DRAFT_FAKE_MODEL_TEST_H

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

enum flavor { OPENAI, AZURE, ANTHROPIC };
enum mode { OK, RATE_THEN_OK, QUOTA_429, SERVER_ERROR, BAD_REQUEST, HANG, MALFORMED };

struct fake {
	struct MHD_Daemon *d;
	unsigned short port;
	enum flavor flavor;
	enum mode mode;
	int failures_left;   /* RATE_THEN_OK: 429s before success */
	const char *reply;   /* completion text */
	const char *summary_reply; /* answer to the summarizer prompt; NULL: reply */
	const char *tag_reply;     /* answer to the sentiment/risk tagger prompt */
	const char *gap_reply;     /* answer to the knowledge-gap prompt */
	int in_tokens, out_tokens; /* usage reported; 0: the documented examples */
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

static inline enum MHD_Result record_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	sg_buf_addf(cls, "%s: %s\n", k, v);
	return MHD_YES;
}

/* 1 when needle occurs in data[0..len). */
static inline int fake_has(const char *data, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n && i + n <= len; i++)
		if (!memcmp(data + i, needle, n))
			return 1;
	return 0;
}

static inline const char *sv(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static inline void shape_error(const char *msg)
{
	fk.shape_errors++;
	snprintf(fk.shape_msg, sizeof(fk.shape_msg), "%s", msg);
}

static inline const char *hdr(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Checks the request against the documented shape; 0 when it matches. */
static inline int check_shape(struct MHD_Connection *c, const char *method, const char *url, json_t *j)
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

static inline enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
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

static inline enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
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
	const char *text = fk.reply;
	if (fk.summary_reply && cn->body.len && fake_has(cn->body.data, cn->body.len, "Summarize this ticket"))
		text = fk.summary_reply;
	if (fk.tag_reply && cn->body.len && fake_has(cn->body.data, cn->body.len, "Score the customer message"))
		text = fk.tag_reply;
	if (fk.gap_reply && cn->body.len && fake_has(cn->body.data, cn->body.len, "Compare the agent's reply"))
		text = fk.gap_reply;
	int in_t = fk.in_tokens ? fk.in_tokens : anth ? 120 : 44;
	int out_t = fk.out_tokens ? fk.out_tokens : anth ? 42 : 8;
	if (anth)
		resp = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s}],s:s,s:n,s:{s:i,s:i}}", "id", "msg_01ABC",
				 "type", "message", "role", "assistant", "model", "claude-test", "content",
				 "type", "text", "text", text, "stop_reason", "end_turn", "stop_sequence",
				 "usage", "input_tokens", in_t, "output_tokens", out_t);
	else
		resp = json_pack("{s:s,s:s,s:i,s:s,s:[{s:i,s:s,s:{s:s,s:s}}],s:{s:i,s:i,s:i}}", "id",
				 "chatcmpl-abc123", "object", "chat.completion", "created", 1714564800, "model",
				 "local-model", "choices", "index", 0, "finish_reason", "stop", "message", "role",
				 "assistant", "content", text, "usage", "prompt_tokens", in_t,
				 "completion_tokens", out_t, "total_tokens", in_t + out_t);
	char *s = json_dumps(resp, JSON_COMPACT);
	enum MHD_Result ret = answer(c, 200, s, NULL, NULL);
	sg_free(s);
	json_decref(resp);
	return ret;
}

static inline void completed(void *cls, struct MHD_Connection *c, void **con_cls,
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

static inline int fake_start(enum flavor f, enum mode m)
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
	if (!fk.d)
		return -1;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(fk.d, MHD_DAEMON_INFO_BIND_PORT);
	fk.port = info ? info->port : 0;
	return fk.port ? 0 : -1;
}

static inline void fake_stop(void)
{
	MHD_stop_daemon(fk.d);
	sg_buf_release(&fk.received);
	pthread_mutex_destroy(&fk.mu);
}

#endif
