/*
 * api_webhook.c - POST /v1/webhooks/zendesk and /v1/webhooks/intercom:
 * the signing secrets from the environment, the signature checked over the
 * raw body, the payload mapped to a ticket and decided like POST /v1/tickets.
 */
#include "server/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/engine_int.h"
#include "server/metrics.h"
#include "server/webhook_map.h"
#include "server/webhook_sig.h"
#include "core/banned.h"

/* ---- POST /v1/webhooks/zendesk | intercom ---------------------------------- */

/* Reads the webhook secrets from the environment variables the serve flags
 * or the policy name (flags win); called at start and after a reload. */
void api_webhooks_configure(struct sg_api *api)
{
	pthread_mutex_lock(&api->mu_decide); /* the policy stays while we read it */
	const struct sg_policy *p = api->ce.policy;
	pthread_mutex_lock(&api->mu_wh);
	const char *zd = api->zd_env_flag[0] ? api->zd_env_flag
			 : p ? p->webhooks.zendesk_secret_env : NULL;
	const char *ic = api->ic_env_flag[0] ? api->ic_env_flag
			 : p ? p->webhooks.intercom_secret_env : NULL;
	const char *zv = zd ? getenv(zd) : NULL, *iv = ic ? getenv(ic) : NULL;
	snprintf(api->zd_env, sizeof(api->zd_env), "%s", zd ? zd : "");
	snprintf(api->ic_env, sizeof(api->ic_env), "%s", ic ? ic : "");
	snprintf(api->zd_secret, sizeof(api->zd_secret), "%s", zv ? zv : "");
	snprintf(api->ic_secret, sizeof(api->ic_secret), "%s", iv ? iv : "");
	api->zd_max_age_s = p && p->webhooks.zendesk_max_age_s > 0
				    ? p->webhooks.zendesk_max_age_s : SG_SIG_WINDOW_S;
	pthread_mutex_unlock(&api->mu_wh);
	pthread_mutex_unlock(&api->mu_decide);
}

static void webhook_count(struct sg_api *api, const char *vendor, const char *result)
{
	if (api->m_webhook) {
		const char *v[] = {vendor, result};
		sg_metric_inc(api->m_webhook, v);
	}
}

/* Verifies the signature over the raw body, maps the payload to a ticket
 * event and decides it as POST /v1/tickets does (idempotent on the vendor's
 * event id). 202 for events without a customer message. */
static int webhook(struct sg_api *api, const struct sg_http_req *req,
		   struct sg_http_resp *resp, int intercom, struct sg_error *err)
{
	const char *vendor = intercom ? "intercom" : "zendesk";
	char secret[API_SECRET_MAX], env[128], why[SG_WEBHOOK_WHY_MAX];
	double max_age;
	json_t *payload = NULL, *ev = NULL;
	int rc, status = 0;
	pthread_mutex_lock(&api->mu_wh);
	memcpy(secret, intercom ? api->ic_secret : api->zd_secret, sizeof(secret));
	memcpy(env, intercom ? api->ic_env : api->zd_env, sizeof(env));
	max_age = api->zd_max_age_s;
	pthread_mutex_unlock(&api->mu_wh);
	if (!secret[0]) {
		webhook_count(api, vendor, "not_configured");
		if (env[0])
			return sg_error_set(err, SG_ENOTFOUND, "webhook '%s' is not configured: "
					    "the environment variable %s is not set", vendor, env);
		return sg_error_set(err, SG_ENOTFOUND, "webhook '%s' is not configured: set "
				    "webhooks.%s.secret_env in the policy or --%s-secret-env",
				    vendor, vendor, vendor);
	}
	if (intercom)
		rc = sg_sig_intercom_verify(secret, sg_http_header(req, SG_SIG_INTERCOM_HEADER),
					    req->body, req->body_len, err);
	else
		rc = sg_sig_zendesk_verify(secret, sg_http_header(req, SG_SIG_ZENDESK_HEADER),
					   sg_http_header(req, SG_SIG_ZENDESK_TS_HEADER), req->body,
					   req->body_len, sg_now_ms() / 1000, (int64_t)max_age, err);
	memset(secret, 0, sizeof(secret));
	if (rc < 0) {
		webhook_count(api, vendor, "refused");
		return rc;
	}
	if ((rc = sg_http_json_body(&payload, req, err)) < 0) {
		webhook_count(api, vendor, "invalid");
		return rc;
	}
	rc = intercom ? sg_webhook_intercom_event(&ev, payload, why, err)
		      : sg_webhook_zendesk_event(&ev, payload, why, err);
	if (rc < 0) {
		webhook_count(api, vendor, "invalid");
	} else if (rc == 1) {
		webhook_count(api, vendor, "ignored");
		json_t *o = json_pack("{s:s, s:s}", "status", "ignored", "reason", why);
		rc = o ? sg_http_resp_json(resp, 202, o)
		       : sg_error_set(err, SG_ENOMEM, "out of memory");
		json_decref(o);
	} else if ((rc = api_ticket_json(api, ev, &status, &resp->body, err)) == 0) {
		resp->status = status;
		webhook_count(api, vendor, status == 201 ? "accepted" : "duplicate");
	} else {
		webhook_count(api, vendor, "invalid");
	}
	json_decref(ev);
	json_decref(payload);
	return rc;
}

int api_h_zendesk(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err)
{
	return webhook(ctx, req, resp, 0, err);
}

int api_h_intercom(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	return webhook(ctx, req, resp, 1, err);
}
