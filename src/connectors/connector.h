/*
 * connector.h - the connector interface: how sopgate talks to one outside
 * API (HubSpot, Zendesk, Intercom, PagerDuty, Slack, SMTP, signed webhooks,
 * and the lookup connectors Salesforce, Jira, plain HTTP).
 *
 * A connector is an ops table (struct sg_connector_ops, one per `type`)
 * plus the configuration the policy gives it under `connectors.<name>`
 * (struct sg_conn_config) and the secrets read from the environment
 * variables that configuration names. The ops never do I/O: `build` turns
 * an outbox item into a request (method, URL, headers, body) and `classify`
 * turns the response into done / retry (after N ms) / permanent failure.
 * The outbox worker (outbox/outbox.h) owns the transport (libcurl multi),
 * the store and the retry policy, so every connector is testable without a
 * network and every transport concern lives in one place.
 *
 * Ownership: a struct sg_connectors borrows the policy it was built from
 * (config strings point into the policy's arena); free the set before the
 * policy. Requests own their strings (sg_conn_request_release frees them).
 * Responses are borrowed for the duration of the classify call.
 */
#ifndef SG_CONNECTORS_CONNECTOR_H
#define SG_CONNECTORS_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"

struct sg_policy;
struct sg_pnode;

#define SG_CONN_MAX_HEADERS 16 /* headers one request may carry */
#define SG_CONN_MAX_RCPT 16    /* SMTP recipients of one message */
#define SG_CONN_MAX 64         /* connectors one policy may define */

/* What the policy says about one connector (`connectors.<name>`). The
 * strings point into the policy; `node` holds the type-specific keys
 * (properties, custom_fields, admin_id, ...). */
struct sg_conn_config {
	const char *name;          /* the key under connectors: */
	const char *type;          /* "hubspot", "zendesk", ... */
	const char *base_url;      /* no trailing slash; NULL: the vendor default */
	const char *token_env, *user_env, *secret_env; /* variable names, may be NULL */
	int64_t timeout_ms;        /* whole request; default 10000 */
	int64_t connect_timeout_ms; /* default 5000 */
	int max_attempts;          /* 0: outbox.max_attempts */
	int record;                /* every decision goes to this connector */
	unsigned actions;          /* SG_CONN_ACT_* taken when no channel names one */
	const struct sg_pnode *node;
};

/* Action kinds (bits of sg_conn_config.actions). */
#define SG_CONN_ACT_CREATE_ISSUE 0x01u
#define SG_CONN_ACT_NOTIFY 0x02u
#define SG_CONN_ACT_ESCALATE 0x04u
#define SG_CONN_ACT_REPLY 0x08u
#define SG_CONN_ACT_SET_FIELD 0x10u

struct sg_connector {
	const struct sg_connector_ops *ops;
	struct sg_conn_config cfg;
	char *token, *user, *secret; /* from the environment (heap), may be NULL */
	void *priv;                  /* the ops' own parsed state (init/release) */
};

/* One outbox item as a connector sees it (all borrowed). */
struct sg_conn_item {
	const char *id;            /* outbox id */
	const char *ticket_id;
	const char *kind;          /* "notify", "escalate", "create_issue",
	                              "reply", "set_field", "record" */
	const char *channel;       /* the policy channel named by the action, or NULL */
	const char *channel_target; /* that channel's `target` ("#refunds"), or NULL */
	const json_t *payload;     /* the action's JSON object (parsed once) */
	const char *idem_key;      /* stable across retries and restarts */
	int attempts;              /* 1 on the first delivery */
};

/* A request to send. method is a static string ("GET", "POST", "PUT",
 * "PATCH"; "SMTP" for mail, where url is smtp://host:port and body the
 * RFC 5322 message). Everything else is heap, freed by _release. */
struct sg_conn_request {
	const char *method;
	char *url;
	char *headers[SG_CONN_MAX_HEADERS]; /* "Name: value" */
	size_t nheaders;
	char *body;
	size_t body_len;
	int64_t timeout_ms, connect_timeout_ms; /* filled from the config by default */
	/* SMTP */
	char *mail_from;
	char *rcpt[SG_CONN_MAX_RCPT];
	size_t nrcpt;
	/* HTTP basic auth or SMTP AUTH; borrowed from the connector */
	const char *username, *password;
};

void sg_conn_request_init(struct sg_conn_request *r);
void sg_conn_request_release(struct sg_conn_request *r);
/* Adds "Name: value" (printf style); -SG_ELIMIT past SG_CONN_MAX_HEADERS. */
int sg_conn_request_header(struct sg_conn_request *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Takes a JSON value (decref'd here) as the body, compact, and sets
 * Content-Type: application/json. */
int sg_conn_request_json(struct sg_conn_request *r, json_t *body, struct sg_error *err);
/* Returns base (or def when base is NULL) + path as a heap string. */
char *sg_conn_url(const struct sg_connector *c, const char *def_base, const char *path_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What came back. For SMTP, status is the last reply code (250 ok). */
struct sg_conn_response {
	long status;               /* 0 when no response arrived */
	int transport_error;       /* connect failure, reset, DNS... (retryable) */
	int timed_out;             /* the timeout hit (retryable) */
	const char *transport_msg; /* libcurl's message, or NULL */
	const char *body;          /* NUL-terminated, may be "" */
	size_t body_len;
	const char *retry_after;   /* Retry-After value, NULL when absent */
	const char *ratelimit_reset; /* X-RateLimit-Reset value, NULL when absent */
	int64_t now_ms;            /* wall clock when it arrived */
};

enum sg_conn_outcome {
	SG_CONN_DONE,  /* delivered (or already delivered: a vendor dedup hit) */
	SG_CONN_RETRY, /* try again later */
	SG_CONN_FAIL   /* permanent: retrying cannot help; dead letter at once */
};

struct sg_conn_result {
	enum sg_conn_outcome outcome;
	int64_t retry_after_ms;    /* RETRY: the delay the vendor asked for, -1: backoff */
	char reason[256];          /* for the operator: "HTTP 400: Event object is invalid" */
	char external_id[128];     /* the vendor's id of what was made (Slack ts, Jira key), may be "" */
};

/* Flags of a connector type. */
#define SG_CONN_F_VENDOR_DEDUP 0x1u /* the vendor dedups on a key we send in the
                                       body (PagerDuty dedup_key): no Idempotency-Key */
#define SG_CONN_F_SMTP 0x2u         /* the request is mail, not HTTP */
#define SG_CONN_F_NEEDS_TOKEN 0x4u  /* `token_env` is required */
#define SG_CONN_F_NEEDS_SECRET 0x8u /* `secret_env` is required */
#define SG_CONN_F_NEEDS_URL 0x10u   /* `base_url` is required (no vendor default) */

struct sg_connector_ops {
	const char *type;          /* the policy's `type:` */
	unsigned flags;            /* SG_CONN_F_* */
	/* Parses type-specific keys of c->cfg.node into c->priv; NULL: none.
	 * Errors name the connector and the key. */
	int (*init)(struct sg_connector *c, struct sg_error *err);
	void (*release)(struct sg_connector *c);
	/* Builds the request that delivers `it`. A payload that can never be
	 * delivered returns -SG_EINVALID (the action goes to the dead letters
	 * with the message). NULL: the connector does not deliver actions. */
	int (*build)(struct sg_conn_request *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, struct sg_error *err);
	/* Classifies the response; NULL: sg_conn_classify_http. */
	void (*classify)(struct sg_conn_result *out, const struct sg_connector *c,
			 const struct sg_conn_item *it, const struct sg_conn_response *resp);
	/* Lookups for SOP `lookup:` steps (record kind "crm.account", key).
	 * NULL when the connector has none. lookup_parse returns the record
	 * as a JSON object (new reference) or an error naming what failed. */
	int (*lookup_build)(struct sg_conn_request *out, const struct sg_connector *c,
			    const char *record_kind, const char *key, struct sg_error *err);
	int (*lookup_parse)(json_t **out, const struct sg_connector *c,
			    const char *record_kind, const struct sg_conn_response *resp,
			    struct sg_error *err);
};

/* What the outbox worker sends for `it`: ops->build, then what every
 * delivery carries: `Idempotency-Key: <idem_key>` (unless the vendor
 * dedups on its own key, SG_CONN_F_VENDOR_DEDUP), `User-Agent: sopgate`,
 * and the connector's timeouts. *out is released on failure. */
int sg_conn_build(struct sg_conn_request *out, const struct sg_connector *c,
		  const struct sg_conn_item *it, struct sg_error *err);
/* ops->classify, or the generic one. */
void sg_conn_classify(struct sg_conn_result *out, const struct sg_connector *c,
		      const struct sg_conn_item *it, const struct sg_conn_response *resp);

/* The generic HTTP classification every connector starts from:
 * 2xx done; 408, 409, 425, 429 and 5xx retry (Retry-After honoured, in
 * seconds or as an HTTP-date, capped by the caller); any other 4xx fails
 * for good; a transport error or a timeout retries. */
void sg_conn_classify_http(struct sg_conn_result *out, const struct sg_conn_response *resp);
/* Parses a Retry-After value (delta seconds or an IMF-fixdate) relative to
 * now_ms; returns the delay in ms (0 for a date in the past) or -1 when
 * the value is neither. */
int64_t sg_conn_retry_after_ms(const char *value, int64_t now_ms);

/* The connector types built in (registry.c); NULL when unknown. */
const struct sg_connector_ops *sg_connector_ops_find(const char *type);

/* ---- the set a policy defines ----------------------------------------- */

struct sg_connectors {
	struct sg_connector *v;
	size_t n;
	const struct sg_policy *policy; /* borrowed: channels are read from it */
	/* outbox: settings (defaults filled in) */
	int max_attempts;
	int64_t backoff_ms, max_backoff_ms, lease_ms, poll_ms;
	int concurrency;
};

/* Builds every connector of p, reading the secrets from the environment.
 * An unknown type, a missing required variable (named in the message) or
 * a bad type-specific key is an error. A policy without `connectors:`
 * gives an empty set. *out is NULL on failure; free with
 * sg_connectors_free (before the policy). */
int sg_connectors_build(struct sg_connectors **out, const struct sg_policy *p,
			struct sg_error *err);
void sg_connectors_free(struct sg_connectors *cs);
const struct sg_connector *sg_connectors_find(const struct sg_connectors *cs,
					      const char *name);

/* Where an outbox action goes. Fills it->channel / it->channel_target
 * from the payload's "channel" and returns the connector, or NULL with
 * *why set ("no connector for channel 'slack-refunds' (kind slack)"), or
 * NULL with *why NULL for actions with nothing to deliver (`assign`: the
 * queue is already on the decision). Routing, in order: the payload's
 * "connector"; the channel's `connector`; the only connector whose type
 * fits the channel's kind; a connector listing the action in `actions`. */
const struct sg_connector *sg_connectors_route(const struct sg_connectors *cs,
					       struct sg_conn_item *it,
					       const char **why);

/* The "record" actions for one decision: for every connector of p with
 * `record: true`, appends {"kind":"record","connector":NAME,"decision":D}
 * to actions (D is a reference to decision). Called by whoever writes the
 * decision, so the actions land in the same transaction. Needs only the
 * policy (no secrets). */
int sg_connectors_record_actions(const struct sg_policy *p, json_t *decision,
				 json_t *actions, struct sg_error *err);

#endif
