/*
 * api_int.h - shared by the ticket API's own files (api.c, api_ticket.c,
 * api_view.c, api_review.c, api_webhook.c, api_shadow.c): struct sg_api,
 * the review state of a ticket, and the helpers and handlers one file
 * defines and another uses.
 */
#ifndef SG_SERVER_API_INT_H
#define SG_SERVER_API_INT_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cli/engine_setup.h"
#include "core/error.h"
#include "core/id.h"
#include "core/limits.h"
#include "server/api.h"
#include "server/qa_api.h"
#include "server/server.h"
#include "server/shadow.h"
#include "store/store.h"

struct sg_decide_run;
struct sg_metric;
struct sg_scan_ctx;
struct sg_ticket;

#define API_NROUTES 17
#define API_SECRET_MAX 256       /* bytes of a webhook signing secret */
#define API_QUEUE_MAX 500        /* rows a queue answer lists */
#define API_DEFAULT_SLA_MIN 60   /* escalation SLA when the decision has none */
#define API_BREACH_MAX_LEVEL 3   /* a breach escalates up to this level */
#define API_EDIT_MAX 20000       /* bytes of an edited draft */
#define API_NOTE_MAX 2000
#define API_MAX_SLOTS 16         /* decisions running at once, at most */
#define API_READERS 4            /* connections serving the read views */


struct shadow_batch;

struct sg_api {
	char policy_path[PATH_MAX], kb_db[PATH_MAX];
	char worker[48], worker_review[64]; /* audit chains and lease owner */
	char worker_peer[64];               /* the peer-review reader's name */
	int no_classifier;

	pthread_mutex_t mu_decide;   /* the engine, its run and scan ctx */
	struct sg_cli_engine ce;
	struct sg_scan_ctx *scan;
	void (*log)(void *ctx, const char *line); /* the engine's lines; NULL: stderr */
	void *log_ctx;

	/* the live engine's AI sessions per day, counted in the store so that
	 * restarts and other processes on the database share the count; a
	 * leaf lock (taken while deciding, nothing taken under it) */
	pthread_mutex_t mu_b;
	struct sg_store *bstore;

	/* POST /v1/tickets decides in parallel: the engine is read-only once
	 * built, and each slot holds a run (the per-thread state) of it under
	 * its own lock. A reload takes every slot (after mu_decide) to swap. */
	struct decide_slot {
		pthread_mutex_t mu;
		struct sg_decide_run *run;
	} slots[API_MAX_SLOTS];
	unsigned nslots;
	_Atomic unsigned next_slot;

	pthread_mutex_t mu_stats;    /* group-commit counters already reported */
	struct sg_store_batch_stats seen;
	struct sg_metric *m_commits, *m_bwrites;

	struct sg_store *wstore;     /* owned by the group committer */
	struct sg_store_batcher *batch;

	pthread_mutex_t mu_h;        /* hstore: human actions, auth, SLA */
	struct sg_store *hstore;

	struct sg_store_pool *rpool;  /* read views, one connection per reader */

	struct sg_route routes[API_NROUTES + SG_QA_API_NROUTES];
	size_t nroutes;
	struct sg_qa_api *qa;        /* the QA loop's routes (qa_api.c) */
	char worker_qa[64];
	struct sg_metric *m_decisions, *m_guard, *m_queue, *m_breach, *m_latency,
		*m_human, *m_reload;

	/* webhooks: secrets read from the environment at start and reload */
	pthread_mutex_t mu_wh;
	char zd_env_flag[128], ic_env_flag[128];  /* serve flags; "" = the policy's */
	char zd_env[128], ic_env[128];            /* the variables in use */
	char zd_secret[API_SECRET_MAX], ic_secret[API_SECRET_MAX];
	double zd_max_age_s;
	struct sg_metric *m_webhook;

	/* shadow policy: its own engine under mu_shadow (never taken with
	 * mu_decide held), and the diffs waiting for their write */
	pthread_mutex_t mu_shadow;
	int shadow_on;                 /* read on the hot path without the lock */
	struct sg_cli_engine shadow;   /* .policy NULL: none */
	char shadow_path[PATH_MAX], shadow_by[SG_USER_NAME_MAX];
	char shadow_version[65], shadow_last[65];
	int64_t shadow_since;
	struct shadow_batch *spend;
	struct sg_metric *m_shadow_eval, *m_shadow_diff, *m_shadow_fields, *m_shadow_drop;

	/* onboarding reviewers: peer reviews are read through their own
	 * connection, taken last (after mu_h and a read connection), never
	 * holding another */
	pthread_mutex_t mu_x;
	struct sg_store *xstore;
	struct sg_metric *m_peer;
};

/* The review state of a ticket's latest decision, from its approvals. */
struct api_review {
	char decision_id[SG_ID_LEN];
	char gate[32];
	int approval_required;
	int a1, a2, rejects;
	char step1_user[SG_USER_NAME_MAX];
	json_t *decision;             /* owned */
	char *draft;                  /* latest draft text, heap or NULL */
	int peer;                     /* an onboarding reviewer's approval waits for a peer */
	struct sg_store_peer_review pr;
};

/* The review queue's filters (GET /v1/queue; all NULL and -1: none). */
struct api_queue_filter {
	const char *queue, *gate, *tier;
	double due_within_min; /* < 0: no filter */
};

/* Route handlers take the struct sg_api as ctx (sg_api_new lists them). */

/* api.c */
int64_t api_mono_ns(void);
/* A JSON column: parsed, or as a string when it is not JSON. */
json_t *api_col_json(const struct sg_store_row *r, int i);
json_t *api_col_str(const struct sg_store_row *r, int i);
json_t *api_iso_json(int64_t ms);
int api_role_at_least(const struct sg_user *u, enum sg_role r);
const char *api_review_status(const struct api_review *rv);
void api_review_release(struct api_review *rv);
/* Loads the review state from rs. 1 when the ticket is unknown. */
int api_review_load(struct sg_api *api, struct sg_store *rs, const char *ticket,
		    struct api_review *rv, struct sg_error *err);
/* Takes a free slot, or waits for one (the one after the last taken). */
struct decide_slot *api_slot_take(struct sg_api *api);
/* The engine learns the categories the QA loop paused now. */
void api_qa_pauses_changed(void *ctx);

/* api_ticket.c */
int api_ticket_json(struct sg_api *api, json_t *event, int *status,
		    struct sg_buf *out, struct sg_error *err);
int api_h_post_ticket(void *ctx, const struct sg_http_req *req,
		      struct sg_http_resp *resp, struct sg_error *err);

/* api_view.c */
/* Builds the review queue: latest decisions needing approval and not yet
 * approved or escalated. */
int api_queue_list(struct sg_api *api, struct sg_store *rs, const struct api_queue_filter *f,
		   json_t *items, struct sg_error *err);
int api_h_queue(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		struct sg_error *err);
int api_h_ticket(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		 struct sg_error *err);
int api_h_audit(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		struct sg_error *err);
/* Outbound actions for leads and admins: the counts by state and the
 * actions in one state (default dead: the dead letters to act on). */
int api_h_outbox(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		 struct sg_error *err);

/* api_review.c */
/* The peer review a decision waits for, into rv (rv->decision_id set);
 * mu_x is taken here and nothing else while it is held. */
int api_peer_load(struct sg_api *api, struct api_review *rv, struct sg_error *err);
json_t *api_peer_json(const struct api_review *rv);
int api_h_me(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
	     struct sg_error *err);
/* POST /v1/users/{name}/onboarding {"onboarding": false} graduates a
 * reviewer (true starts onboarding again); role lead or above. */
int api_h_onboarding(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err);
int api_h_approve(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err);
int api_h_edit(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
	       struct sg_error *err);
int api_h_reject(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		 struct sg_error *err);

/* api_webhook.c */
/* Reads the webhook secrets from the environment variables the serve flags
 * or the policy name (flags win); called at start and after a reload. */
void api_webhooks_configure(struct sg_api *api);
int api_h_zendesk(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err);
int api_h_intercom(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err);

/* api_shadow.c */
void api_shadow_batch_free(struct shadow_batch *b);
/* Decides the ticket again under the shadow policy and queues what
 * differs; the live decision, its write and the outbox are done already
 * and never see this. */
void api_shadow_eval(struct sg_api *api, const struct sg_ticket *t,
		     const struct sg_shadow_view *live, const char *live_version);
/* Writes the diffs evaluated so far (once a second, and before a read). */
int api_shadow_flush(struct sg_api *api, struct sg_error *err);
/* Sets (path) or clears (NULL) the shadow policy, audited as actor. A
 * policy with errors is refused and the previous shadow stays. */
int api_shadow_set(struct sg_api *api, const char *path, const char *actor,
		   struct sg_error *err);
int api_h_shadow_get(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err);
int api_h_shadow_set(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err);
int api_h_shadow_clear(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		       struct sg_error *err);

#endif
