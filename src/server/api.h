/*
 * api.h - the ticket API of `sopgate serve`: the route handlers that join
 * the decision engine, the store and the HTTP server (tickets, the review
 * queue, human approvals, audit, policy reload, metrics). docs/server.md
 * documents the endpoints.
 */
#ifndef SG_SERVER_API_H
#define SG_SERVER_API_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"
#include "server/server.h"

struct sg_api;
struct sg_policy;

struct sg_api_options {
	const char *policy_path;  /* required */
	const char *store_url;    /* "sqlite:FILE" or "postgres://..." */
	int no_classifier;        /* tests: build the engine without the model */
	const char *kb_db;        /* knowledge base to draft from, or NULL */
	/* webhooks: names of the environment variables holding the signing
	 * secrets; NULL: the policy's webhooks.<vendor>.secret_env */
	const char *zendesk_secret_env, *intercom_secret_env;
	const char *shadow_path;  /* a shadow policy to evaluate beside the live one */
	/* names this process's audit chains (NAME, NAME-review) and leases;
	 * NULL: "serve" on SQLite, "serve-HOST-PID" on PostgreSQL, so
	 * several processes on one database never share a chain */
	const char *worker;
};

/* Loads the policy (refused when it has errors), builds the engine, opens
 * the store (a group committer for ticket writes, a second connection for
 * human actions and sessions, a read-only one for queries). */
int sg_api_new(struct sg_api **out, const struct sg_api_options *o,
	       struct sg_error *err);
void sg_api_free(struct sg_api *api); /* NULL is fine */

/* The routes to hand to sg_server_start (they point into api). */
const struct sg_route *sg_api_routes(struct sg_api *api, size_t *n);
/* Token verification and sessions backed by the store. */
struct sg_auth_ops sg_api_auth(struct sg_api *api);
/* Registers the API's metric families in reg (call once, after start). */
int sg_api_metrics(struct sg_api *api, struct sg_metrics *reg, struct sg_error *err);

/* Reloads the policy from its path: on any problem the old one stays and
 * err says why. */
int sg_api_reload(struct sg_api *api, struct sg_error *err);

/* Decides and stores one ticket event given as JSON text, as
 * POST /v1/tickets does: *status is 201 (new) or 200 (a retry), out gets the
 * decision JSON. */
int sg_api_ticket(struct sg_api *api, const char *json, size_t len, int *status,
		  struct sg_buf *out, struct sg_error *err);

/* Records a human action on a ticket's latest decision exactly as
 * POST /v1/tickets/{id}/approve|edit|reject does: the gate's rules (two_step
 * needs a second, different user of role lead or above; senior_review a
 * specialist), the approval row, its audit record, the escalation after a
 * second rejection. action is "approve", "edit" or "reject"; note and text
 * (edit) may be NULL. *out is the answer object the console gets (caller
 * decrefs). -SG_ENOTFOUND, -SG_ECONFLICT (nothing to act on),
 * -SG_EFORBIDDEN (the rules refuse this user) or a store error. */
int sg_api_human(struct sg_api *api, const char *ticket_id, const struct sg_user *user,
		 const char *action, const char *note, const char *text, json_t **out,
		 struct sg_error *err);

/* A user of the store by name, with its role; -SG_ENOTFOUND when absent. */
int sg_api_user(struct sg_api *api, const char *name, struct sg_user *out, struct sg_error *err);

/* Calls fn with the policy in force (a reload waits until fn returns);
 * returns what fn returns. fn must not keep pointers into the policy. */
int sg_api_with_policy(struct sg_api *api, int (*fn)(const struct sg_policy *p, void *ctx),
		       void *ctx);

/* Moves due escalations (SLA breach) to the next level, with an audit
 * record each; returns how many breached, or a negative SG_E... */
int sg_api_sla_tick(struct sg_api *api, struct sg_error *err);

#endif
