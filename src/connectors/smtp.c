/*
 * smtp.c - e-mail through an SMTP server (libcurl smtp:// or smtps://,
 * STARTTLS when offered, AUTH with user_env/token_env). The message is
 * plain text in the escalation format; its Message-ID derives from the
 * idempotency key, so a resend after a crash carries the same id and mail
 * clients can fold the duplicate. Reply codes: 2xx sent, 4xx retry, 5xx
 * permanent.
 */
#include "connectors/connectors_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/banned.h"

/* A header value on one line: CR and LF would start a new header. */
static void line(struct sg_buf *b, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++)
		sg_buf_addc(b, *p == '\r' || *p == '\n' ? ' ' : *p);
}

static int valid_address(const char *a)
{
	const char *at = a ? strchr(a, '@') : NULL;
	if (!at || at == a || !at[1] || strlen(a) > 254)
		return 0;
	for (const char *p = a; *p; p++)
		if (*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == '"' || *p == 0x7f)
			return 0;
	return 1;
}

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *p = it->payload;
	const json_t *ctx = json_object_get(p, "context");
	const json_t *cust = json_object_get(ctx, "customer");
	const char *to = sg_conn_str(p, "email", it->channel_target);
	const char *from = sg_conn_cfg_str(c, "from", "sopgate@localhost");
	if (!valid_address(to))
		return sg_error_set(err, SG_EINVALID, "e-mail recipient '%s' is not an address",
				    to ? to : "");
	out->method = "SMTP";
	if (!(out->url = sg_conn_url(c, NULL, "%s", "")))
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	struct sg_buf m = SG_BUF_INIT, env = SG_BUF_INIT;
	sg_buf_addf(&env, "<%s>", from);
	out->mail_from = sg_buf_detach(&env, NULL);
	sg_buf_addf(&env, "<%s>", to);
	out->rcpt[out->nrcpt++] = sg_buf_detach(&env, NULL);
	out->username = c->user;
	out->password = c->token;

	char date[64], mid[SG_SHA256_HEX];
	time_t now = (time_t)(sg_now_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	sg_sha256_hex(it->idem_key, strlen(it->idem_key), mid);
	const char *owner = sg_conn_str(p, "owner", sg_conn_str(p, "to", ""));
	sg_buf_addf(&m, "Date: %s\r\nFrom: ", date);
	line(&m, from);
	sg_buf_adds(&m, "\r\nTo: ");
	line(&m, to);
	sg_buf_adds(&m, "\r\nSubject: [sopgate] ");
	line(&m, !strcmp(sg_conn_str(p, "kind", ""), "escalate") ? "Escalation" : "Notification");
	sg_buf_adds(&m, ": ticket ");
	line(&m, it->ticket_id);
	if (*owner) {
		sg_buf_adds(&m, " for ");
		line(&m, owner);
	}
	sg_buf_addf(&m, "\r\nMessage-ID: <%.32s@sopgate>\r\nMIME-Version: 1.0\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
		    "\r\n", mid);
	/* the body: lines starting with "." are doubled by libcurl (dot-stuffing) */
	sg_buf_addf(&m, "Support Escalation - Ticket #%s\r\n", it->ticket_id);
	sg_buf_addf(&m, "Customer: %s", sg_conn_str(cust, "name", sg_conn_str(cust, "id", "unknown")));
	const char *tier = sg_conn_str(cust, "tier", NULL);
	if (tier)
		sg_buf_addf(&m, " (%s, %.0fmo, $%.0f LTV)", tier,
			    json_number_value(json_object_get(cust, "tenure_months")),
			    json_number_value(json_object_get(cust, "ltv")));
	sg_buf_addf(&m, "\r\nIssue: %s\r\nAgent: %s\r\nRecommendation: %s\r\n",
		    sg_conn_str(ctx, "issue", ""), sg_conn_str(ctx, "finding", ""),
		    sg_conn_str(ctx, "recommendation", ""));
	const char *msg = sg_conn_str(p, "message", NULL);
	if (msg && *msg)
		sg_buf_addf(&m, "Note: %s\r\n", msg);
	const char *due = sg_conn_str(p, "due_at", NULL);
	if (due)
		sg_buf_addf(&m, "Respond by: %s\r\n", due);
	const char *console = sg_conn_cfg_str(c, "console_url", NULL);
	if (console)
		sg_buf_addf(&m, "Review: %s/#/tickets/%s\r\n", console, it->ticket_id);
	if (m.oom || !out->mail_from || !out->rcpt[0]) {
		sg_buf_release(&m);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	out->body = sg_buf_detach(&m, &out->body_len);
	return out->body ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

static void classify(struct sg_conn_result *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	(void)c;
	(void)it;
	memset(out, 0, sizeof(*out));
	out->retry_after_ms = -1;
	long code = resp->status;
	if (!resp->transport_error && !resp->timed_out && code >= 200 && code < 400) {
		out->outcome = SG_CONN_DONE;
		snprintf(out->reason, sizeof(out->reason), "SMTP %ld", code);
		return;
	}
	if (resp->timed_out || resp->transport_error || code < 500) {
		out->outcome = SG_CONN_RETRY;
		snprintf(out->reason, sizeof(out->reason), "SMTP %ld: %s", code,
			 resp->transport_msg ? resp->transport_msg : "temporary failure");
		return;
	}
	out->outcome = SG_CONN_FAIL;
	snprintf(out->reason, sizeof(out->reason), "SMTP %ld: %s", code,
		 resp->transport_msg ? resp->transport_msg : "rejected");
}

const struct sg_connector_ops sg_conn_smtp_ops = {
	.type = "smtp",
	.flags = SG_CONN_F_SMTP | SG_CONN_F_NEEDS_URL,
	.build = build,
	.classify = classify,
};
