/*
 * backend.h - model backends behind one ops table: `builtin` (no model),
 * `openai` (chat completions: OpenAI, llama.cpp server, vLLM, Ollama, Azure
 * OpenAI) and `anthropic` (Messages API).
 *
 * A request carries only a prompt template (a versioned file), KB passages
 * and masked text: there is no field for free text, so unmasked ticket
 * text cannot reach a model. sg_backend_complete adds retries (exponential
 * backoff with jitter, Retry-After honoured up to a cap, no retry on 4xx
 * except 408/409/429) and a circuit breaker (open after N consecutive
 * failed calls, one trial call after a cool-down).
 */
#ifndef SG_DRAFT_BACKEND_H
#define SG_DRAFT_BACKEND_H

#include <stddef.h>

#include "core/error.h"
#include "draft/draft.h"
#include "kb/kb.h"

struct sg_backend_request {
	const char *model;                  /* model (Azure: ignored, deployment in URL) */
	const struct sg_prompt *prompt;     /* system prompt */
	const struct sg_kb_hits *sources;   /* SOURCES block, may be NULL */
	const struct sg_masked_text *input; /* the customer text, masked */
	unsigned max_tokens;                /* 0: 512 */
	double temperature;
	int json;                           /* ask for a JSON object */
	const char *input_label;            /* heading of the masked text; NULL:
					     * "CUSTOMER MESSAGE" */
};

struct sg_backend_response {
	char *text;                /* the completion */
	char *model;               /* model the server reports, may be NULL */
	char *finish;              /* finish/stop reason, may be NULL */
	unsigned input_tokens, output_tokens;
	unsigned attempts;         /* HTTP attempts made */
};

void sg_backend_response_release(struct sg_backend_response *r);

struct sg_backend;

enum sg_backend_flags {
	SG_BACKEND_REMOTE = 1 << 0, /* calls over the network */
	SG_BACKEND_NEEDS_KEY = 1 << 1,
};

struct sg_backend_ops {
	/* one attempt; *http_status is set when an HTTP answer came back and
	 * *retry_after_ms when it carried Retry-After (else -1) */
	int (*complete)(struct sg_backend *b, const struct sg_backend_request *req,
			struct sg_backend_response *out, long *http_status,
			long *retry_after_ms, struct sg_error *err);
};

struct sg_backend_desc {
	const char *name;
	unsigned flags;                    /* enum sg_backend_flags */
	const struct sg_backend_ops *ops;
};

/* The registered backends, in a NULL-terminated array. */
const struct sg_backend_desc *const *sg_backend_list(void);

struct sg_backend_config {
	const char *backend;      /* "builtin", "openai", "anthropic" */
	const char *base_url;     /* openai: "http://127.0.0.1:8080" (the /v1/chat/completions
				   * path is added); Azure: "https://R.openai.azure.com" */
	const char *api_key_env;  /* NAME of the environment variable holding the key */
	const char *azure_deployment; /* set: Azure deployment URL + api-key header */
	const char *azure_api_version; /* Azure: required with a deployment */
	const char *anthropic_version; /* NULL: "2023-06-01" */
	long connect_timeout_ms;  /* 0: 2000 */
	long timeout_ms;          /* total per attempt; 0: 30000 */
	unsigned max_retries;     /* extra attempts after the first */
	long backoff_base_ms;     /* 0: 200 */
	long backoff_max_ms;      /* 0: 5000 */
	long retry_after_max_ms;  /* Retry-After cap; 0: 10000 */
	unsigned breaker_failures; /* consecutive failed calls that open it; 0: 5 */
	long breaker_cooldown_ms; /* 0: 30000 */
};

#define SG_BACKEND_CONFIG_INIT {"builtin", NULL, NULL, NULL, NULL, NULL, 0, 0, 2, 0, 0, 0, 0, 0}

/* Builds a backend. The API key is read from the environment variable
 * named by api_key_env now; a missing variable is an error naming it.
 * *out freed with sg_backend_free. */
int sg_backend_new(struct sg_backend **out, const struct sg_backend_config *cfg,
		   struct sg_error *err);
void sg_backend_free(struct sg_backend *b);
const char *sg_backend_name(const struct sg_backend *b);

/* One completion with retries and the circuit breaker. On failure out is
 * empty and the error says why: -SG_EBACKEND (5xx, malformed answer,
 * circuit open), -SG_ETIMEOUT, -SG_ERATE (429 after retries), -SG_EFORBIDDEN
 * / -SG_EUNAUTHORIZED / -SG_EINVALID (4xx). The caller falls back to
 * summarize-only and says so. Thread-safe. */
int sg_backend_complete(struct sg_backend *b, const struct sg_backend_request *req,
			struct sg_backend_response *out, struct sg_error *err);

/* Parses a 2xx answer body of backend ("openai" or "anthropic": the
 * documented response shapes) into out: the text (anthropic: the text
 * blocks joined), the model, the finish reason and the usage figures. A
 * body that is not that shape is -SG_EBACKEND naming what is missing;
 * json: an openai answer cut at max_tokens is an error. out released with
 * sg_backend_response_release (empty on failure). */
int sg_backend_parse(struct sg_backend_response *out, const char *backend, const char *body,
		     size_t len, int json, struct sg_error *err);

/* Circuit state: "closed", "open", "half-open". */
const char *sg_backend_circuit(struct sg_backend *b);

/* Drafts a reply with a model: retrieves passages (SG_DRAFT_ESCALATE below
 * the threshold, without calling the model), checks the model is approved
 * for "draft" and the budget, calls the backend with the reply-drafter
 * prompt, charges the usage and cites the retrieved articles. budget and
 * approvals may be NULL (no limit / no check). */
int sg_draft_model(struct sg_draft *out, struct sg_backend *b, const char *model,
		   const struct sg_prompt *prompt, struct sg_kb *kb,
		   const struct sg_draft_request *req,
		   const struct sg_model_approval *approvals, size_t napprovals,
		   struct sg_budget *budget, const char *session,
		   struct sg_error *err);

#endif
