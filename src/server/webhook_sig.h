/*
 * webhook_sig.h - signature checks for inbound webhooks (Zendesk, Intercom,
 * Slack). Pure functions over the raw body and header values: no I/O, the
 * clock is a parameter, comparisons are constant-time. See
 * docs/internals/server.md for the three schemes.
 */
#ifndef SG_SERVER_WEBHOOK_SIG_H
#define SG_SERVER_WEBHOOK_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SG_SIG_ZENDESK_HEADER    "X-Zendesk-Webhook-Signature"
#define SG_SIG_ZENDESK_TS_HEADER "X-Zendesk-Webhook-Signature-Timestamp"
#define SG_SIG_INTERCOM_HEADER   "X-Hub-Signature"
#define SG_SIG_SLACK_HEADER      "X-Slack-Signature"
#define SG_SIG_SLACK_TS_HEADER   "X-Slack-Request-Timestamp"

/* Replay window for timestamped schemes (Slack documents 5 minutes; Zendesk
 * leaves it to us and we use the same). */
#define SG_SIG_WINDOW_S 300

/*
 * Each verifier returns 0 when the signature is valid, or -SG_EUNAUTHORIZED
 * with a message naming the problem (missing header, malformed timestamp,
 * timestamp outside the window, signature mismatch). Header values may be
 * NULL (missing). `now_s` is the current Unix time in seconds; `window_s` the
 * accepted distance between it and the signed timestamp, either direction.
 */

/* base64(HMAC-SHA256(secret, timestamp + body)); timestamp is ISO-8601 UTC
 * ("2024-05-01T12:00:00Z"), or Unix seconds, and is hashed as received. */
int sg_sig_zendesk_verify(const char *secret, const char *sig_header,
			  const char *ts_header, const void *body, size_t len,
			  int64_t now_s, int64_t window_s, struct sg_error *err);

/* "sha1=" + hex(HMAC-SHA1(secret, body)); no timestamp in this scheme. */
int sg_sig_intercom_verify(const char *secret, const char *sig_header,
			   const void *body, size_t len, struct sg_error *err);

/* "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)), ts in Unix
 * seconds. */
int sg_sig_slack_verify(const char *secret, const char *sig_header,
			const char *ts_header, const void *body, size_t len,
			int64_t now_s, int64_t window_s, struct sg_error *err);

/* The header values the verifiers expect, for signing fakes and tests.
 * out must hold SG_SIG_MAX bytes; 0 or -SG_EINVALID/-SG_ENOMEM. */
#define SG_SIG_MAX 96
int sg_sig_zendesk_sign(char out[SG_SIG_MAX], const char *secret,
			const char *ts, const void *body, size_t len);
int sg_sig_intercom_sign(char out[SG_SIG_MAX], const char *secret,
			 const void *body, size_t len);
int sg_sig_slack_sign(char out[SG_SIG_MAX], const char *secret,
		      const char *ts, const void *body, size_t len);

#endif
