/*
 * webhook_sig.c - HMAC signature checks for Zendesk, Intercom and Slack
 * webhooks, over the raw request body. The expected value is computed and
 * compared in constant time; timestamps are checked against a caller clock.
 */
#include "server/webhook_sig.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/hash.h"
#include "core/id.h"
#include "core/banned.h"

/* HMAC over the concatenation of up to three parts, without copying them. */
static int hmac3(const EVP_MD *md, const char *secret, const void *a,
		 size_t alen, const void *b, size_t blen, const void *c,
		 size_t clen, unsigned char *out, unsigned *outlen)
{
	int ok = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!ctx)
		goto cleanup;
	OSSL_PARAM params[2];
	params[0] = OSSL_PARAM_construct_utf8_string(
		"digest", (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	/* An empty key is legal HMAC; OpenSSL wants a non-NULL pointer. */
	static const unsigned char nokey[1];
	size_t klen = strlen(secret);
	if (!EVP_MAC_init(ctx, klen ? (const unsigned char *)secret : nokey,
			  klen, params))
		goto cleanup;
	if ((alen && !EVP_MAC_update(ctx, a, alen)) ||
	    (blen && !EVP_MAC_update(ctx, b, blen)) ||
	    (clen && !EVP_MAC_update(ctx, c, clen)))
		goto cleanup;
	size_t n = 0;
	if (!EVP_MAC_final(ctx, out, &n, EVP_MAX_MD_SIZE))
		goto cleanup;
	*outlen = (unsigned)n;
	ok = 1;
cleanup:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -SG_EINTERNAL;
}

/* Compares the expected string with the received header in constant time
 * over the expected length (the length itself is public). */
static int same(const char *expected, const char *got)
{
	size_t n = strlen(expected);
	if (strlen(got) != n)
		return 0;
	return sg_ct_equal(expected, got, n);
}

/* Unix seconds: digits only, no sign, bounded length. */
static int parse_unix(const char *s, int64_t *out)
{
	if (!*s || strlen(s) > 12)
		return -1;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

static int check_window(int64_t ts, int64_t now_s, int64_t window_s,
			const char *hdr, struct sg_error *err)
{
	int64_t d = now_s - ts;
	if (d < 0)
		d = -d;
	if (d > window_s)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': timestamp is %lld s away from "
				    "now (window %lld s)",
				    hdr, (long long)d, (long long)window_s);
	return 0;
}

int sg_sig_zendesk_sign(char out[SG_SIG_MAX], const char *secret,
			const char *ts, const void *body, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int rc = hmac3(EVP_sha256(), secret, ts, strlen(ts), body, len, NULL,
		       0, mac, &n);
	if (rc)
		return rc;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n); /* 44 + NUL */
	return 0;
}

int sg_sig_intercom_sign(char out[SG_SIG_MAX], const char *secret,
			 const void *body, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int rc = hmac3(EVP_sha1(), secret, body, len, NULL, 0, NULL, 0, mac,
		       &n);
	if (rc)
		return rc;
	memcpy(out, "sha1=", 5);
	sg_hex(mac, n, out + 5);
	return 0;
}

int sg_sig_slack_sign(char out[SG_SIG_MAX], const char *secret,
		      const char *ts, const void *body, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	size_t tl = strlen(ts);
	if (tl > 32)
		return -SG_EINVALID;
	char pre[40];
	memcpy(pre, "v0:", 3);
	memcpy(pre + 3, ts, tl);
	pre[3 + tl] = ':';
	int rc = hmac3(EVP_sha256(), secret, pre, tl + 4, body, len, NULL, 0,
		       mac, &n);
	if (rc)
		return rc;
	memcpy(out, "v0=", 3);
	sg_hex(mac, n, out + 3);
	return 0;
}

int sg_sig_zendesk_verify(const char *secret, const char *sig_header,
			  const char *ts_header, const void *body, size_t len,
			  int64_t now_s, int64_t window_s, struct sg_error *err)
{
	if (!sig_header || !*sig_header)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': missing", SG_SIG_ZENDESK_HEADER);
	if (!ts_header || !*ts_header)
		return sg_error_set(err, SG_EUNAUTHORIZED, "header '%s': missing",
				    SG_SIG_ZENDESK_TS_HEADER);
	if (strlen(ts_header) > 40)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': too long",
				    SG_SIG_ZENDESK_TS_HEADER);
	int64_t ts;
	int64_t ms;
	if (sg_time_parse_iso(ts_header, &ms) == 0)
		ts = ms / 1000;
	else if (parse_unix(ts_header, &ts) != 0)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': expected an ISO-8601 UTC time",
				    SG_SIG_ZENDESK_TS_HEADER);
	int rc = check_window(ts, now_s, window_s, SG_SIG_ZENDESK_TS_HEADER,
			      err);
	if (rc)
		return rc;
	char want[SG_SIG_MAX];
	if (sg_sig_zendesk_sign(want, secret, ts_header, body, len))
		return sg_error_set(err, SG_EINTERNAL, "hmac failed");
	if (!same(want, sig_header))
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': signature mismatch",
				    SG_SIG_ZENDESK_HEADER);
	return 0;
}

int sg_sig_intercom_verify(const char *secret, const char *sig_header,
			   const void *body, size_t len, struct sg_error *err)
{
	if (!sig_header || !*sig_header)
		return sg_error_set(err, SG_EUNAUTHORIZED, "header '%s': missing",
				    SG_SIG_INTERCOM_HEADER);
	if (strncmp(sig_header, "sha1=", 5) != 0)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': expected 'sha1=<hex>'",
				    SG_SIG_INTERCOM_HEADER);
	char want[SG_SIG_MAX];
	if (sg_sig_intercom_sign(want, secret, body, len))
		return sg_error_set(err, SG_EINTERNAL, "hmac failed");
	if (!same(want, sig_header))
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': signature mismatch",
				    SG_SIG_INTERCOM_HEADER);
	return 0;
}

int sg_sig_slack_verify(const char *secret, const char *sig_header,
			const char *ts_header, const void *body, size_t len,
			int64_t now_s, int64_t window_s, struct sg_error *err)
{
	if (!sig_header || !*sig_header)
		return sg_error_set(err, SG_EUNAUTHORIZED, "header '%s': missing",
				    SG_SIG_SLACK_HEADER);
	if (!ts_header || !*ts_header)
		return sg_error_set(err, SG_EUNAUTHORIZED, "header '%s': missing",
				    SG_SIG_SLACK_TS_HEADER);
	int64_t ts;
	if (parse_unix(ts_header, &ts) != 0)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': expected Unix seconds",
				    SG_SIG_SLACK_TS_HEADER);
	int rc = check_window(ts, now_s, window_s, SG_SIG_SLACK_TS_HEADER, err);
	if (rc)
		return rc;
	if (strncmp(sig_header, "v0=", 3) != 0)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': expected 'v0=<hex>'",
				    SG_SIG_SLACK_HEADER);
	char want[SG_SIG_MAX];
	if (sg_sig_slack_sign(want, secret, ts_header, body, len))
		return sg_error_set(err, SG_EINTERNAL, "hmac failed");
	if (!same(want, sig_header))
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "header '%s': signature mismatch",
				    SG_SIG_SLACK_HEADER);
	return 0;
}
