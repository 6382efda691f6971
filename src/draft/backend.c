/*
 * backend.c - the model backends (builtin, openai, anthropic) behind one
 * ops table, and what wraps every call: retries with exponential backoff
 * and jitter honouring Retry-After, and a circuit breaker. Also the model
 * drafting path (retrieve, check approval and budget, call, charge).
 */
#include "draft/backend.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"
#include "core/limits.h"
#include "draft/draft_int.h"
#include "core/banned.h"

enum circuit { CLOSED, OPEN, HALF_OPEN };

struct sg_backend {
	const struct sg_backend_desc *desc;
	struct sg_backend_config cfg; /* strings below are owned copies */
	char *base_url, *key, *deployment, *api_version, *anthropic_version;
	pthread_mutex_t mu;
	enum circuit state;
	unsigned failures;
	uint64_t opened_ns;
	int trial; /* a half-open trial call is in flight */
};

void sg_backend_response_release(struct sg_backend_response *r)
{
	sg_free(r->text);
	sg_free(r->model);
	sg_free(r->finish);
	memset(r, 0, sizeof(*r));
}

/* The user message: the SOURCES block then the masked customer text. */
static void user_message(struct sg_buf *b, const struct sg_backend_request *req)
{
	sg_buf_adds(b, "SOURCES:\n");
	if (!req->sources || !req->sources->n)
		sg_buf_adds(b, "(none)\n");
	for (size_t i = 0; req->sources && i < req->sources->n; i++) {
		const struct sg_kb_hit *h = &req->sources->v[i];
		sg_buf_addf(b, "[kb:%s] %s (%s)\n%s\n\n", h->article_id, h->title, h->url, h->text);
	}
	sg_buf_addf(b, "\n%s:\n", req->input_label ? req->input_label : "CUSTOMER MESSAGE");
	sg_buf_adds(b, req->input ? sg_masked_str(req->input, NULL) : "");
	sg_buf_addc(b, '\n');
}

/* ---- builtin ---- */

static int builtin_complete(struct sg_backend *b, const struct sg_backend_request *req,
			    struct sg_backend_response *out, long *status,
			    long *retry_after, struct sg_error *err)
{
	(void)b;
	*status = 200;
	*retry_after = -1;
	const char *q = req->input ? sg_masked_str(req->input, NULL) : "";
	if (!req->sources || !req->sources->n) {
		out->text = sg_strdup(SG_DRAFT_ESCALATE);
	} else {
		struct sg_draft d;
		int rc = sg_draft_compose(&d, q, req->sources, NULL, NULL, err);
		if (rc)
			return rc;
		out->text = d.text;
		d.text = NULL;
		sg_draft_release(&d);
	}
	out->model = sg_strdup("builtin");
	if (!out->text || !out->model)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	out->input_tokens = (unsigned)sg_draft_word_count(q);
	out->output_tokens = (unsigned)sg_draft_word_count(out->text);
	return 0;
}

/* ---- HTTP ---- */

struct http {
	struct sg_buf body;
	long retry_after_ms;
	int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http *h = ud;
	if (h->body.len + size * n > SG_MAX_MODEL_RESPONSE_BYTES) {
		h->too_big = 1;
		return 0;
	}
	sg_buf_add(&h->body, p, size * n);
	return h->body.oom ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http *h = ud;
	size_t len = size * n;
	char line[256];
	if (len >= sizeof(line))
		return len;
	memcpy(line, p, len);
	line[len] = 0;
	char *colon = strchr(line, ':');
	if (!colon)
		return len;
	*colon = 0;
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	v[strcspn(v, "\r\n")] = 0;
	if (!strcasecmp(line, "retry-after-ms")) {
		char *end;
		double ms = strtod(v, &end);
		if (end != v && ms >= 0)
			h->retry_after_ms = (long)ms;
	} else if (!strcasecmp(line, "retry-after") && h->retry_after_ms < 0) {
		char *end;
		double s = strtod(v, &end);
		if (end != v && !*end && s >= 0) {
			h->retry_after_ms = (long)(s * 1000);
		} else {
			time_t t = curl_getdate(v, NULL);
			if (t > 0) {
				long ms = (long)(t * 1000 - sg_now_ms());
				h->retry_after_ms = ms > 0 ? ms : 0;
			}
		}
	}
	return len;
}

/* The error text of a non-2xx body in any of the documented shapes. */
static void error_text(char *out, size_t size, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *msg = NULL;
	if (j) {
		json_t *e = json_object_get(j, "error");
		if (json_is_object(e))
			msg = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(e))
			msg = json_string_value(e);
		if (!msg)
			msg = json_string_value(json_object_get(j, "message"));
	}
	if (!msg)
		msg = len ? "(no error message)" : "(empty body)";
	size_t n = strlen(msg);
	if (n > size - 1)
		n = size - 1;
	memcpy(out, msg, n);
	out[n] = 0;
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	json_decref(j);
}

static int http_post(struct sg_backend *b, const char *url, struct curl_slist *hdr,
		     const char *payload, struct http *h, long *status,
		     struct sg_error *err)
{
	CURL *c = curl_easy_init();
	if (!c)
		return sg_error_set(err, SG_ENOMEM, "unable to start an HTTP request");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, b->cfg.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, b->cfg.timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cc = curl_easy_perform(c);
	int rc = 0;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		rc = sg_error_set(err, SG_ETIMEOUT, "%s backend: no answer within %ld ms",
				  b->desc->name, b->cfg.timeout_ms);
	else if (h->too_big)
		rc = sg_error_set(err, SG_EBACKEND, "%s backend: response over %u bytes",
				  b->desc->name, SG_MAX_MODEL_RESPONSE_BYTES);
	else if (cc != CURLE_OK)
		rc = sg_error_set(err, SG_EBACKEND, "%s backend: %s", b->desc->name,
				  curl_easy_strerror(cc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	return rc;
}

static int status_error(struct sg_backend *b, long status, const struct http *h,
			struct sg_error *err)
{
	char msg[160];
	error_text(msg, sizeof(msg), h->body.data, h->body.len);
	/* quota and spend-limit stops are not transient: never retried */
	if (status == 429 && h->body.len &&
	    (strstr(h->body.data, "insufficient_quota") || strstr(h->body.data, "enforced_spend_limit_reached")))
		return sg_error_set(err, SG_ELIMIT, "%s backend: HTTP 429: quota or spend limit reached: %s",
				    b->desc->name, msg);
	int code = status == 401 ? SG_EUNAUTHORIZED : status == 403 ? SG_EFORBIDDEN :
		   status == 429 ? SG_ERATE : status == 408 ? SG_ETIMEOUT :
		   status >= 500 ? SG_EBACKEND : SG_EINVALID;
	return sg_error_set(err, code, "%s backend: HTTP %ld: %s", b->desc->name, status, msg);
}

static char *dup_json_str(const json_t *v)
{
	return json_is_string(v) ? sg_strdup(json_string_value(v)) : NULL;
}

static unsigned json_uint(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (unsigned)json_integer_value(v) : 0;
}

static int post_json(struct sg_backend *b, const char *url, struct curl_slist *hdr,
		     json_t *body, struct http *h, long *status, long *retry_after,
		     struct sg_error *err)
{
	char *payload = json_dumps(body, JSON_COMPACT);
	if (!payload)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	h->retry_after_ms = -1;
	int rc = http_post(b, url, hdr, payload, h, status, err);
	sg_free(payload); /* jansson allocates with sg_malloc (sg_json_init) */
	*retry_after = h->retry_after_ms;
	if (!rc && (*status < 200 || *status > 299))
		rc = status_error(b, *status, h, err);
	return rc;
}

/* ---- answers ---- */

static int parse_openai(struct sg_backend_response *out, json_t *resp, int json,
			struct sg_error *err)
{
	json_t *choice = json_array_get(json_object_get(resp, "choices"), 0);
	json_t *content = json_object_get(json_object_get(choice, "message"), "content");
	if (!json_is_string(content))
		return sg_error_set(err, SG_EBACKEND,
				    "openai backend: malformed response (no choices[0].message.content string)");
	out->text = dup_json_str(content);
	out->model = dup_json_str(json_object_get(resp, "model"));
	out->finish = dup_json_str(json_object_get(choice, "finish_reason"));
	json_t *u = json_object_get(resp, "usage");
	out->input_tokens = json_uint(json_object_get(u, "prompt_tokens"));
	out->output_tokens = json_uint(json_object_get(u, "completion_tokens"));
	if (!out->text)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (out->finish && !strcmp(out->finish, "length") && json)
		return sg_error_set(err, SG_EBACKEND, "openai backend: answer cut at max_tokens (finish_reason length)");
	return 0;
}

static int parse_anthropic(struct sg_backend_response *out, json_t *resp, struct sg_error *err)
{
	struct sg_buf text = SG_BUF_INIT;
	json_t *content = json_object_get(resp, "content");
	if (!json_is_array(content))
		return sg_error_set(err, SG_EBACKEND, "anthropic backend: malformed response (no content array)");
	size_t i;
	json_t *blk;
	int any = 0;
	json_array_foreach(content, i, blk) {
		const char *t = json_string_value(json_object_get(blk, "text"));
		const char *ty = json_string_value(json_object_get(blk, "type"));
		if (t && ty && !strcmp(ty, "text")) {
			sg_buf_adds(&text, t);
			any = 1;
		}
	}
	if (!any)
		return sg_error_set(err, SG_EBACKEND, "anthropic backend: malformed response (no text block)");
	int oom = text.oom;
	out->text = text.len ? sg_buf_detach(&text, NULL) : sg_strdup("");
	sg_buf_release(&text);
	out->model = dup_json_str(json_object_get(resp, "model"));
	out->finish = dup_json_str(json_object_get(resp, "stop_reason"));
	json_t *u = json_object_get(resp, "usage");
	out->input_tokens = json_uint(json_object_get(u, "input_tokens"));
	out->output_tokens = json_uint(json_object_get(u, "output_tokens"));
	if (!out->text || oom)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

int sg_backend_parse(struct sg_backend_response *out, const char *backend, const char *body,
		     size_t len, int json, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	json_t *resp = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
	int rc;
	if (!json_is_object(resp))
		rc = sg_error_set(err, SG_EBACKEND, "%s backend: malformed response (not a JSON object)", backend);
	else if (!strcmp(backend, "anthropic"))
		rc = parse_anthropic(out, resp, err);
	else
		rc = parse_openai(out, resp, json, err);
	json_decref(resp);
	if (rc)
		sg_backend_response_release(out);
	return rc;
}

static int openai_complete(struct sg_backend *b, const struct sg_backend_request *req,
			   struct sg_backend_response *out, long *status,
			   long *retry_after, struct sg_error *err)
{
	struct sg_buf url = SG_BUF_INIT, user = SG_BUF_INIT, auth = SG_BUF_INIT;
	struct http h = {SG_BUF_INIT, -1, 0};
	struct curl_slist *hdr = NULL;
	json_t *body = NULL;
	int rc = 0;
	if (b->deployment)
		sg_buf_addf(&url, "%s/openai/deployments/%s/chat/completions?api-version=%s",
			    b->base_url, b->deployment, b->api_version);
	else
		sg_buf_addf(&url, "%s/v1/chat/completions", b->base_url);
	user_message(&user, req);
	if (b->deployment)
		sg_buf_addf(&auth, "api-key: %s", b->key ? b->key : "");
	else
		sg_buf_addf(&auth, "Authorization: Bearer %s", b->key ? b->key : "none");
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = hdr ? curl_slist_append(hdr, auth.data) : NULL;
	hdr = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
	body = json_pack("{s:f,s:i,s:[{s:s,s:s},{s:s,s:s}]}", "temperature", req->temperature,
			 "max_tokens", req->max_tokens ? (int)req->max_tokens : 512, "messages",
			 "role", "system", "content", sg_prompt_text(req->prompt),
			 "role", "user", "content", user.data ? user.data : "");
	if (!hdr || !body || url.oom || user.oom || auth.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!b->deployment)
		json_object_set_new(body, "model", json_string(req->model));
	if (req->json)
		json_object_set_new(body, "response_format", json_pack("{s:s}", "type", "json_object"));
	rc = post_json(b, url.data, hdr, body, &h, status, retry_after, err);
	if (rc)
		goto cleanup;
	rc = sg_backend_parse(out, "openai", h.body.data, h.body.len, req->json, err);
cleanup:
	json_decref(body);
	curl_slist_free_all(hdr);
	sg_buf_release(&url);
	sg_buf_release(&user);
	sg_buf_release(&auth);
	sg_buf_release(&h.body);
	return rc;
}

static int anthropic_complete(struct sg_backend *b, const struct sg_backend_request *req,
			      struct sg_backend_response *out, long *status,
			      long *retry_after, struct sg_error *err)
{
	struct sg_buf url = SG_BUF_INIT, user = SG_BUF_INIT, key = SG_BUF_INIT, ver = SG_BUF_INIT;
	struct http h = {SG_BUF_INIT, -1, 0};
	struct curl_slist *hdr = NULL;
	json_t *body = NULL;
	int rc = 0;
	sg_buf_addf(&url, "%s/v1/messages", b->base_url);
	user_message(&user, req);
	sg_buf_addf(&key, "x-api-key: %s", b->key ? b->key : "");
	sg_buf_addf(&ver, "anthropic-version: %s", b->anthropic_version);
	hdr = curl_slist_append(hdr, "content-type: application/json");
	hdr = hdr ? curl_slist_append(hdr, key.data) : NULL;
	hdr = hdr ? curl_slist_append(hdr, ver.data) : NULL;
	hdr = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
	body = json_pack("{s:s,s:i,s:s,s:f,s:[{s:s,s:s}]}", "model", req->model,
			 "max_tokens", req->max_tokens ? (int)req->max_tokens : 512,
			 "system", sg_prompt_text(req->prompt), "temperature", req->temperature,
			 "messages", "role", "user", "content", user.data ? user.data : "");
	if (!hdr || !body || url.oom || user.oom || key.oom || ver.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = post_json(b, url.data, hdr, body, &h, status, retry_after, err);
	if (rc)
		goto cleanup;
	rc = sg_backend_parse(out, "anthropic", h.body.data, h.body.len, req->json, err);
cleanup:
	json_decref(body);
	curl_slist_free_all(hdr);
	sg_buf_release(&url);
	sg_buf_release(&user);
	sg_buf_release(&key);
	sg_buf_release(&ver);
	sg_buf_release(&h.body);
	return rc;
}

static const struct sg_backend_ops builtin_ops = {builtin_complete};
static const struct sg_backend_ops openai_ops = {openai_complete};
static const struct sg_backend_ops anthropic_ops = {anthropic_complete};

static const struct sg_backend_desc builtin_desc = {"builtin", 0, &builtin_ops};
static const struct sg_backend_desc openai_desc = {"openai", SG_BACKEND_REMOTE, &openai_ops};
static const struct sg_backend_desc anthropic_desc = {
	"anthropic", SG_BACKEND_REMOTE | SG_BACKEND_NEEDS_KEY, &anthropic_ops};

static const struct sg_backend_desc *const backends[] = {
	&builtin_desc, &openai_desc, &anthropic_desc, NULL,
};

const struct sg_backend_desc *const *sg_backend_list(void)
{
	return backends;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void sg_backend_free(struct sg_backend *b)
{
	if (!b)
		return;
	sg_free(b->base_url);
	if (b->key) {
		memset(b->key, 0, strlen(b->key));
		sg_free(b->key);
	}
	sg_free(b->deployment);
	sg_free(b->api_version);
	sg_free(b->anthropic_version);
	pthread_mutex_destroy(&b->mu);
	sg_free(b);
}

int sg_backend_new(struct sg_backend **out, const struct sg_backend_config *cfg,
		   struct sg_error *err)
{
	*out = NULL;
	const struct sg_backend_desc *d = NULL;
	const char *name = cfg->backend ? cfg->backend : "builtin";
	for (size_t i = 0; backends[i]; i++)
		if (!strcmp(backends[i]->name, name))
			d = backends[i];
	if (!d)
		return sg_error_set(err, SG_EINVALID,
				    "unknown model backend '%.40s' (expected builtin, openai or anthropic)", name);
	struct sg_backend *b = sg_calloc(1, sizeof(*b));
	if (!b)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	pthread_mutex_init(&b->mu, NULL);
	b->desc = d;
	b->cfg = *cfg;
	int rc = 0;
#define DEF(f, v) if (b->cfg.f <= 0) b->cfg.f = (v)
	DEF(connect_timeout_ms, 2000);
	DEF(timeout_ms, 30000);
	DEF(backoff_base_ms, 200);
	DEF(backoff_max_ms, 5000);
	DEF(retry_after_max_ms, 10000);
	DEF(breaker_failures, 5);
	DEF(breaker_cooldown_ms, 30000);
#undef DEF
	if (d->flags & SG_BACKEND_REMOTE) {
		if (!cfg->base_url || (strncmp(cfg->base_url, "http://", 7) && strncmp(cfg->base_url, "https://", 8))) {
			rc = sg_error_set(err, SG_EINVALID, "%s backend: base_url must be an http(s) URL", d->name);
			goto cleanup;
		}
		size_t n = strlen(cfg->base_url);
		while (n && cfg->base_url[n - 1] == '/')
			n--;
		/* "http://host:8080/v1" as servers print it: the path is added below */
		if (n > 3 && !strncmp(cfg->base_url + n - 3, "/v1", 3))
			n -= 3;
		b->base_url = sg_strndup(cfg->base_url, n);
		/* the key comes from the environment, the config only names the variable */
		if (cfg->api_key_env && *cfg->api_key_env) {
			const char *k = getenv(cfg->api_key_env);
			if (!k || !*k) {
				rc = sg_error_set(err, SG_EINVALID,
						  "%s backend: environment variable '%.64s' (api_key_env) is not set",
						  d->name, cfg->api_key_env);
				goto cleanup;
			}
			b->key = sg_strdup(k);
			if (!b->key) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
		} else if ((d->flags & SG_BACKEND_NEEDS_KEY) || cfg->azure_deployment) {
			rc = sg_error_set(err, SG_EINVALID, "%s backend: api_key_env must name the environment variable holding the key",
					  d->name);
			goto cleanup;
		}
		if (cfg->azure_deployment) {
			if (!cfg->azure_api_version || !*cfg->azure_api_version) {
				rc = sg_error_set(err, SG_EINVALID, "openai backend: an Azure deployment needs azure_api_version");
				goto cleanup;
			}
			char *esc = curl_easy_escape(NULL, cfg->azure_deployment, 0);
			char *ver = curl_easy_escape(NULL, cfg->azure_api_version, 0);
			b->deployment = esc ? sg_strdup(esc) : NULL;
			b->api_version = ver ? sg_strdup(ver) : NULL;
			curl_free(esc);
			curl_free(ver);
			if (!b->deployment || !b->api_version) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
		}
		b->anthropic_version = sg_strdup(cfg->anthropic_version ? cfg->anthropic_version : "2023-06-01");
		if (!b->base_url || !b->anthropic_version) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		pthread_once(&curl_once, curl_init);
	}
	/* the struct copy must not keep pointers into the caller's strings */
	b->cfg.base_url = b->base_url;
	b->cfg.api_key_env = NULL;
	b->cfg.azure_deployment = b->deployment;
	b->cfg.azure_api_version = b->api_version;
	b->cfg.anthropic_version = b->anthropic_version;
	b->cfg.backend = d->name;
	*out = b;
	b = NULL;
cleanup:
	sg_backend_free(b);
	return rc;
}

const char *sg_backend_name(const struct sg_backend *b)
{
	return b->desc->name;
}

const char *sg_backend_circuit(struct sg_backend *b)
{
	pthread_mutex_lock(&b->mu);
	enum circuit s = b->state;
	if (s == OPEN && sg_mono_ns() - b->opened_ns >= (uint64_t)b->cfg.breaker_cooldown_ms * 1000000u)
		s = HALF_OPEN;
	pthread_mutex_unlock(&b->mu);
	return s == CLOSED ? "closed" : s == OPEN ? "open" : "half-open";
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int retryable(int rc, long status)
{
	if (rc == -SG_ENOMEM || (rc == -SG_EINVALID && status == 0))
		return 0;
	if (status == 0)
		return rc == -SG_ETIMEOUT || rc == -SG_EBACKEND; /* transport */
	if (status == 429)
		return rc == -SG_ERATE; /* not a quota stop (SG_ELIMIT) */
	if (status >= 500 || status == 408 || status == 409)
		return 1;
	return 0;
}

int sg_backend_complete(struct sg_backend *b, const struct sg_backend_request *req,
			struct sg_backend_response *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!req->prompt || !req->model)
		return sg_error_set(err, SG_EINVALID, "model request needs a prompt and a model");
	pthread_mutex_lock(&b->mu);
	if (b->state == OPEN) {
		uint64_t cool = (uint64_t)b->cfg.breaker_cooldown_ms * 1000000u;
		if (sg_mono_ns() - b->opened_ns < cool || b->trial) {
			pthread_mutex_unlock(&b->mu);
			return sg_error_set(err, SG_EBACKEND,
					    "%s backend: circuit open after %u consecutive failures; not calling the model",
					    b->desc->name, b->failures);
		}
		b->state = HALF_OPEN;
	}
	int trial = 0;
	if (b->state == HALF_OPEN) {
		if (b->trial) {
			pthread_mutex_unlock(&b->mu);
			return sg_error_set(err, SG_EBACKEND, "%s backend: circuit half-open, a trial call is in flight",
					    b->desc->name);
		}
		b->trial = trial = 1;
	}
	pthread_mutex_unlock(&b->mu);

	int rc = 0;
	unsigned attempts = 0;
	for (unsigned a = 0;; a++) {
		struct sg_error e = SG_ERROR_INIT;
		long status = 0, retry_after = -1;
		attempts++;
		sg_backend_response_release(out);
		rc = b->desc->ops->complete(b, req, out, &status, &retry_after, &e);
		if (!rc)
			break;
		if (a >= b->cfg.max_retries || trial || !retryable(rc, status)) {
			sg_backend_response_release(out);
			if (attempts > 1)
				sg_error_set(err, -rc, "%s (after %u attempts)", e.msg, attempts);
			else
				sg_error_set(err, -rc, "%s", e.msg);
			break;
		}
		long delay;
		if (retry_after >= 0) {
			delay = retry_after < b->cfg.retry_after_max_ms ? retry_after : b->cfg.retry_after_max_ms;
		} else {
			delay = b->cfg.backoff_base_ms;
			for (unsigned k = 0; k < a && delay < b->cfg.backoff_max_ms; k++)
				delay *= 2;
			if (delay > b->cfg.backoff_max_ms)
				delay = b->cfg.backoff_max_ms;
			uint32_t r = 0;
			sg_random_bytes(&r, sizeof(r));
			delay = delay / 2 + (long)(r % (uint32_t)(delay / 2 + 1)); /* jitter */
		}
		sleep_ms(delay);
	}
	out->attempts = attempts;
	pthread_mutex_lock(&b->mu);
	if (trial)
		b->trial = 0;
	if (!rc) {
		b->failures = 0;
		b->state = CLOSED;
	} else {
		b->failures++;
		if (b->state == HALF_OPEN || b->failures >= b->cfg.breaker_failures) {
			b->state = OPEN;
			b->opened_ns = sg_mono_ns();
		}
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

/* ---- drafting with a model ---- */

int sg_draft_model(struct sg_draft *out, struct sg_backend *b, const char *model,
		   const struct sg_prompt *prompt, struct sg_kb *kb,
		   const struct sg_draft_request *req,
		   const struct sg_model_approval *approvals, size_t napprovals,
		   struct sg_budget *budget, const char *session,
		   struct sg_error *err)
{
	struct sg_buf query = SG_BUF_INIT, text = SG_BUF_INIT;
	struct sg_kb_hits hits = {0};
	struct sg_backend_response resp = {0};
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (approvals && (rc = sg_draft_model_check(approvals, napprovals, "draft", model, err)))
		return rc;
	sg_buf_adds(&query, sg_masked_str(req->ticket, NULL));
	if (req->intent) {
		sg_buf_addc(&query, ' ');
		for (const char *p = req->intent; *p; p++)
			sg_buf_addc(&query, *p == '_' ? ' ' : *p);
	}
	if (query.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = sg_kb_search(kb, query.data, req->k ? req->k : 5, 0, &hits, err)))
		goto cleanup;
	double min = req->min_score > 0 ? req->min_score : SG_DRAFT_MIN_SCORE;
	out->top_score = hits.n ? hits.v[0].score : 0;
	if (!sg_draft_relevant(&hits, query.data, min)) {
		out->escalate = 1;
		sg_buf_adds(&text, SG_DRAFT_ESCALATE);
	} else {
		if (budget && (rc = sg_budget_check(budget, session ? session : "-", sg_now_ms(), err)))
			goto cleanup;
		struct sg_backend_request r = {model, prompt, &hits, req->ticket,
					      req->max_tokens ? req->max_tokens : 512, 0.2, 0, NULL};
		if ((rc = sg_backend_complete(b, &r, &resp, err)))
			goto cleanup;
		if (budget)
			sg_budget_charge(budget, session ? session : "-", sg_now_ms(),
					 (uint64_t)resp.input_tokens + resp.output_tokens);
		out->input_tokens = resp.input_tokens;
		out->output_tokens = resp.output_tokens;
		const char *t = resp.text;
		while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')
			t++;
		/* a reply cut at max_tokens or an empty one is no draft */
		if (!*t) {
			rc = sg_error_set(err, SG_EBACKEND, "%s backend: the model returned an empty answer",
					  sg_backend_name(b));
			goto cleanup;
		}
		if (resp.finish && (!strcmp(resp.finish, "length") || !strcmp(resp.finish, "max_tokens"))) {
			rc = sg_error_set(err, SG_EBACKEND, "%s backend: the answer was cut at max_tokens (%s)",
					  sg_backend_name(b), resp.finish);
			goto cleanup;
		}
		if (!strncmp(t, "ESCALATE", 8)) {
			out->escalate = 1;
			sg_buf_adds(&text, SG_DRAFT_ESCALATE);
		} else {
			/* the name is added here; the model only saw {{first_name}} */
			const char *name = req->first_name && *req->first_name ? req->first_name : NULL;
			for (const char *p = t; *p;) {
				if (!strncmp(p, " {{first_name}}", 15)) {
					if (name)
						sg_buf_addf(&text, " %s", name);
					p += 15;
				} else if (!strncmp(p, "{{first_name}}", 14)) {
					sg_buf_adds(&text, name ? name : "");
					p += 14;
				} else
					sg_buf_addc(&text, *p++);
			}
			out->sources = sg_calloc(hits.n, sizeof(*out->sources));
			if (!out->sources) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
			for (size_t i = 0; i < hits.n; i++) {
				int dup = 0;
				for (size_t j = 0; j < i && !dup; j++)
					dup = !strcmp(hits.v[i].article_id, hits.v[j].article_id);
				if (dup)
					continue;
				struct sg_buf s = SG_BUF_INIT;
				sg_buf_addf(&s, "kb:%s", hits.v[i].article_id);
				if (s.oom) {
					rc = sg_error_set(err, SG_ENOMEM, "out of memory");
					goto cleanup;
				}
				out->sources[out->nsources++] = sg_buf_detach(&s, NULL);
			}
		}
	}
	out->text = text.len ? sg_buf_detach(&text, NULL) : sg_strdup("");
	out->model_name = sg_strdup(model);
	out->prompt_template_version = sg_strdup(sg_prompt_version(prompt));
	if (!out->text || !out->model_name || !out->prompt_template_version || text.oom)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
cleanup:
	if (rc)
		sg_draft_release(out);
	sg_backend_response_release(&resp);
	sg_kb_hits_release(&hits);
	sg_buf_release(&query);
	sg_buf_release(&text);
	return rc;
}
