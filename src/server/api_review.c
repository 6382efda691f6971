/*
 * api_review.c - the human side of the ticket API: onboarding reviewers
 * (GET /v1/me, POST /v1/users/{name}/onboarding), approve/edit/reject with
 * the approval rules and escalations, and the SLA breach tick.
 */
#include "server/api_int.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "decide/engine_int.h"
#include "scan/scan.h"
#include "server/metrics.h"
#include "core/banned.h"

/* ---- onboarding reviewers --------------------------------------------------- */

/* The peer review a decision waits for, into rv (rv->decision_id set);
 * mu_x is taken here and nothing else while it is held. */
int api_peer_load(struct sg_api *api, struct api_review *rv, struct sg_error *err)
{
	pthread_mutex_lock(&api->mu_x);
	int rc = sg_store_peer_review(api->xstore, rv->decision_id, &rv->pr, err);
	pthread_mutex_unlock(&api->mu_x);
	if (rc < 0)
		return rc;
	rv->peer = rc == 0;
	return 0;
}

json_t *api_peer_json(const struct api_review *rv)
{
	if (!rv->peer)
		return json_null();
	return json_pack("{s:s, s:s, s:o}", "first_approval_by", rv->pr.user, "reason",
			 rv->pr.reason, "created_at", api_iso_json(rv->pr.created_ms));
}

struct onboarding_check {
	int onboarding, needs_peer;
	char reason[200];
	const char *why;              /* metric label: first_tickets | random */
};

/* A uniform draw in [0, 1) from the system's randomness. */
static double draw(void)
{
	uint32_t r = 0;
	if (sg_random_bytes(&r, sizeof(r)) < 0)
		return 0; /* no randomness: err on the side of review */
	return (double)r / 4294967296.0;
}

/* The onboarding rules of the approve/edit flow (docs/server.md): an
 * onboarding reviewer's send needs a peer's second approval for their
 * first N sends, then for a random share; a ticket waiting for a peer
 * takes its second approval at step 2 from a different reviewer who is
 * not onboarding. mu_h held. */
static int onboarding_rules(struct sg_api *api, const struct sg_user *u, struct api_review *rv,
			    const char *action, int *step, struct onboarding_check *out,
			    struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	struct sg_store_onboarding st;
	int rc = sg_store_user_onboarding(api->hstore, u->name, &st, err);
	if (rc == -SG_ENOTFOUND) { /* a user only the session knows: no rule */
		sg_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	int reject = !strcmp(action, "reject");
	if (rv->peer && rv->a1 && !reject) {
		*step = 2;
		if (!strcmp(rv->pr.user, u->name))
			return sg_error_set(err, SG_EFORBIDDEN, "onboarding: the peer approval must "
					    "come from a different user than '%s'", rv->pr.user);
	}
	if (!st.onboarding || reject)
		return 0;
	if (*step == 2)
		return sg_error_set(err, SG_EFORBIDDEN, "onboarding: '%s' is an onboarding "
				    "reviewer and cannot give a second approval", u->name);
	pthread_mutex_lock(&api->mu_decide);
	double first = api->ce.policy->onboarding.peer_review_first;
	double share = api->ce.policy->onboarding.random_review_share;
	pthread_mutex_unlock(&api->mu_decide);
	out->onboarding = 1;
	long n = st.tickets + 1; /* this send */
	if ((double)n <= first) {
		out->needs_peer = 1;
		out->why = "first_tickets";
		snprintf(out->reason, sizeof(out->reason), "onboarding: send %ld of the first "
			 "%.0f, each needs a peer's approval", n, first);
	} else if (draw() < share) {
		out->needs_peer = 1;
		out->why = "random";
		snprintf(out->reason, sizeof(out->reason), "onboarding: drawn for peer review "
			 "(%.0f%% of sends after the first %.0f)", share * 100, first);
	} else {
		snprintf(out->reason, sizeof(out->reason), "onboarding: not drawn for peer "
			 "review (%.0f%% of sends after the first %.0f)", share * 100, first);
	}
	return 0;
}

int api_h_me(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
	     struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct sg_store_onboarding st = {0, 0};
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_user_onboarding(api->hstore, req->user->name, &st, err);
	pthread_mutex_unlock(&api->mu_h);
	if (rc == -SG_ENOTFOUND) {
		sg_error_clear(err);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&api->mu_decide);
	json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:f}", "user", req->user->name, "role",
			      sg_role_name(req->user->role), "onboarding", st.onboarding,
			      "onboarding_tickets", (json_int_t)st.tickets, "peer_review_first",
			      (json_int_t)api->ce.policy->onboarding.peer_review_first,
			      "random_review_share", api->ce.policy->onboarding.random_review_share);
	pthread_mutex_unlock(&api->mu_decide);
	rc = o ? sg_http_resp_json(resp, 200, o) : sg_error_set(err, SG_ENOMEM, "out of memory");
	json_decref(o);
	return rc;
}

/* POST /v1/users/{name}/onboarding {"onboarding": false} graduates a
 * reviewer (true starts onboarding again); role lead or above. */
int api_h_onboarding(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *name = sg_http_param(req, "name");
	json_t *body = NULL;
	int on = 0;
	int rc = sg_http_json_body(&body, req, err);
	if (rc < 0)
		return rc;
	if ((rc = sg_json_bool(body, "onboarding", "onboarding", 1, &on, err)) == 0) {
		pthread_mutex_lock(&api->mu_h);
		rc = sg_store_user_onboarding_set(api->hstore, req->user->name, name, on, err);
		pthread_mutex_unlock(&api->mu_h);
	}
	json_decref(body);
	if (rc < 0)
		return rc;
	json_t *o = json_pack("{s:s, s:b}", "user", name, "onboarding", on);
	rc = o ? sg_http_resp_json(resp, 200, o) : sg_error_set(err, SG_ENOMEM, "out of memory");
	json_decref(o);
	return rc;
}

/* ---- approve / edit / reject ---------------------------------------------- */

/* A line diff: common leading and trailing lines kept out, the changed
 * middle as "-old" and "+new" lines under one "@@" header. */
static void line_diff(struct sg_buf *b, const char *a, const char *n)
{
	const char *la[512], *lb[512];
	size_t na = 0, nb = 0;
	for (const char *p = a; na < 512;) {
		la[na++] = p;
		p = strchr(p, '\n');
		if (!p) break;
		p++;
	}
	for (const char *p = n; nb < 512;) {
		lb[nb++] = p;
		p = strchr(p, '\n');
		if (!p) break;
		p++;
	}
#define LINE_LEN(s) (strchr((s), '\n') ? (size_t)(strchr((s), '\n') - (s)) : strlen(s))
#define LINE_EQ(x, y) (LINE_LEN(x) == LINE_LEN(y) && !memcmp((x), (y), LINE_LEN(x)))
	size_t pre = 0, suf = 0;
	while (pre < na && pre < nb && LINE_EQ(la[pre], lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       LINE_EQ(la[na - 1 - suf], lb[nb - 1 - suf]))
		suf++;
	sg_buf_addf(b, "@@ -%zu,%zu +%zu,%zu @@\n", pre + 1, na - pre - suf, pre + 1,
		    nb - pre - suf);
	for (size_t i = pre; i < na - suf; i++) {
		sg_buf_addc(b, '-');
		sg_buf_add(b, la[i], LINE_LEN(la[i]));
		sg_buf_addc(b, '\n');
	}
	for (size_t i = pre; i < nb - suf; i++) {
		sg_buf_addc(b, '+');
		sg_buf_add(b, lb[i], LINE_LEN(lb[i]));
		sg_buf_addc(b, '\n');
	}
#undef LINE_EQ
#undef LINE_LEN
}

/* Opens a level-n escalation with its audit record, in one transaction;
 * mu_h held. */
/* Opens an escalation and its audit record inside the open transaction. */
static int escalate_in_tx(struct sg_api *api, const char *ticket, int level, const char *owner,
			  const char *channel, const char *reason, int sla_min,
			  const char *actor, char id[SG_ID_LEN], struct sg_error *err)
{
	int rc;
	int64_t due = sg_now_ms() + (int64_t)sla_min * 60000;
	if ((rc = sg_store_escalation_open(api->hstore, ticket, level, owner, channel, reason,
					   due, id, err)) == 0) {
		struct sg_audit_record r;
		memset(&r, 0, sizeof(r));
		snprintf(r.actor, sizeof(r.actor), "%s", actor);
		snprintf(r.action, sizeof(r.action), "escalate");
		snprintf(r.ticket_id, sizeof(r.ticket_id), "%s", ticket);
		json_t *b = json_pack("{s:s, s:i, s:s, s:s?, s:s, s:I}", "escalation_id", id,
				      "level", level, "owner", owner, "channel", channel,
				      "reason", reason, "due_ms", (json_int_t)due);
		char *body = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(b);
		if (!body) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		} else {
			r.body = body;
			rc = sg_store_audit_append(api->hstore, &r, err);
			sg_free(body);
		}
	}
	return rc;
}

static int escalate(struct sg_api *api, const char *ticket, int level, const char *owner,
		    const char *channel, const char *reason, int sla_min, const char *actor,
		    char id[SG_ID_LEN], struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_begin(api->hstore, err)) < 0)
		return rc;
	rc = escalate_in_tx(api, ticket, level, owner, channel, reason, sla_min, actor, id, err);
	if (rc == 0)
		return sg_store_commit(api->hstore, err);
	struct sg_error e2 = SG_ERROR_INIT;
	sg_store_rollback(api->hstore, &e2);
	return rc;
}

int sg_api_human(struct sg_api *api, const char *id, const struct sg_user *u,
		 const char *action, const char *note, const char *text, json_t **out,
		 struct sg_error *err)
{
	json_t *o = NULL;
	struct api_review rv;
	struct sg_buf diff = SG_BUF_INIT;
	char *masked = NULL;
	char esc_id[SG_ID_LEN] = "";
	int rc, have_rv = 0;
	memset(&rv, 0, sizeof(rv));
	*out = NULL;

	pthread_mutex_lock(&api->mu_h);
	{
		struct sg_store *rs = sg_store_pool_get(api->rpool);
		rc = api_review_load(api, rs, id, &rv, err);
		sg_store_pool_put(api->rpool, rs);
	}
	have_rv = rc == 0;
	if (rc == 1) {
		rc = sg_error_set(err, SG_ENOTFOUND, "ticket '%.128s' not found", id);
		goto unlock;
	}
	if (rc < 0)
		goto unlock;
	const char *status = api_review_status(&rv);
	if (strcmp(status, "pending") && strcmp(status, "awaiting_second")) {
		rc = sg_error_set(err, SG_ECONFLICT, "ticket '%.128s' is %s (gate %s): nothing "
				  "to %s", id, status, rv.gate, action);
		goto unlock;
	}
	int step = 1;
	if (!strcmp(rv.gate, "senior_review") && !api_role_at_least(u, SG_ROLE_SPECIALIST)) {
		rc = sg_error_set(err, SG_EFORBIDDEN, "gate senior_review needs role specialist "
				  "or above; '%s' is %s", u->name, sg_role_name(u->role));
		goto unlock;
	}
	if (!strcmp(rv.gate, "two_step") && rv.a1 && strcmp(action, "reject")) {
		step = 2;
		if (!strcmp(rv.step1_user, u->name)) {
			rc = sg_error_set(err, SG_EFORBIDDEN, "two_step: the second approval must "
					  "come from a different user than '%s'", rv.step1_user);
			goto unlock;
		}
		if (!api_role_at_least(u, SG_ROLE_LEAD)) {
			rc = sg_error_set(err, SG_EFORBIDDEN, "two_step: the second approval needs "
					  "role lead or above; '%s' is %s", u->name,
					  sg_role_name(u->role));
			goto unlock;
		}
	}
	struct onboarding_check ob;
	if ((rc = onboarding_rules(api, u, &rv, action, &step, &ob, err)) < 0)
		goto unlock;
	if (text) {
		size_t ml = 0;
		pthread_mutex_lock(&api->mu_decide);
		rc = sg_scan_mask(&masked, &ml, api->scan, text, strlen(text), NULL, err);
		pthread_mutex_unlock(&api->mu_decide);
		if (rc < 0)
			goto unlock;
		line_diff(&diff, rv.draft ? rv.draft : "", masked);
		if (diff.oom) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto unlock;
		}
	}
	struct sg_human_action a;
	memset(&a, 0, sizeof(a));
	a.ticket_id = id;
	a.decision_id = rv.decision_id;
	a.user = u->name;
	a.role = sg_role_name(u->role);
	a.action = action;
	a.step = step;
	a.note = note;
	a.draft_text = masked;
	a.draft_diff = masked ? diff.data : NULL;
	a.onboarding = ob.onboarding;
	a.onboarding_reason = ob.reason[0] ? ob.reason : NULL;
	a.needs_peer = ob.needs_peer;
	if ((rc = sg_store_human_action(api->hstore, &a, err)) < 0)
		goto unlock;
	if (ob.needs_peer) {
		rv.peer = 1;
		snprintf(rv.pr.user, sizeof(rv.pr.user), "%s", u->name);
		snprintf(rv.pr.reason, sizeof(rv.pr.reason), "%s", ob.reason);
		rv.pr.created_ms = sg_now_ms();
		if (api->m_peer) {
			const char *v[] = {ob.why};
			sg_metric_inc(api->m_peer, v);
		}
	}
	if (!strcmp(action, "reject"))
		rv.rejects++;
	else if (step == 2)
		rv.a2++;
	else
		rv.a1++;
	if (!strcmp(action, "reject") && rv.rejects == 2) {
		json_t *e = json_object_get(rv.decision, "escalation");
		const char *owner = json_string_value(json_object_get(e, "owner"));
		const char *channel = json_string_value(json_object_get(e, "channel"));
		json_int_t sla = json_integer_value(json_object_get(e, "sla_minutes"));
		if ((rc = escalate(api, id, 1, owner ? owner : "lead", channel,
				   "draft rejected twice", sla > 0 ? (int)sla : API_DEFAULT_SLA_MIN,
				   u->name, esc_id, err)) < 0)
			goto unlock;
	}
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "ticket_id", id, "decision_id",
		      rv.decision_id, "action", action, "step", step, "user", u->name,
		      "status", api_review_status(&rv));
	if (o && masked) {
		json_object_set_new(o, "draft_version", json_integer(a.draft_version));
		json_object_set_new(o, "draft", json_string(masked));
		json_object_set_new(o, "diff", json_string(diff.data));
	}
	if (o && *esc_id)
		json_object_set_new(o, "escalation_id", json_string(esc_id));
	if (o && ob.reason[0])
		json_object_set_new(o, "onboarding", json_pack("{s:b, s:s}", "peer_review_required",
							       ob.needs_peer, "reason", ob.reason));
	if (api->m_human) {
		const char *v[] = {action};
		sg_metric_inc(api->m_human, v);
	}
unlock:
	pthread_mutex_unlock(&api->mu_h);
	if (rc == 0 && !o)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
	if (rc == 0) {
		*out = o;
		o = NULL;
	}
	json_decref(o);
	if (have_rv)
		api_review_release(&rv);
	sg_buf_release(&diff);
	sg_free(masked);
	return rc;
}


static int human(struct sg_api *api, const struct sg_http_req *req,
		 struct sg_http_resp *resp, const char *action, struct sg_error *err)
{
	const char *id = sg_http_param(req, "id");
	const char *note = NULL, *text = NULL;
	json_t *body = NULL, *o = NULL;
	int rc;

	if (req->body_len) {
		if ((rc = sg_http_json_body(&body, req, err)) < 0)
			return rc;
		if ((rc = sg_json_str(body, "note", "note", 0, &note, err)) < 0 ||
		    (rc = sg_json_str(body, "text", "text", !strcmp(action, "edit"), &text,
				      err)) < 0)
			goto cleanup;
		if (note && strlen(note) > API_NOTE_MAX) {
			rc = sg_error_set(err, SG_ELIMIT, "field 'note': over %d bytes", API_NOTE_MAX);
			goto cleanup;
		}
		if (text && strlen(text) > API_EDIT_MAX) {
			rc = sg_error_set(err, SG_ELIMIT, "field 'text': over %d bytes", API_EDIT_MAX);
			goto cleanup;
		}
	} else if (!strcmp(action, "edit")) {
		return sg_error_set(err, SG_EINVALID, "field 'text': required");
	}
	if ((rc = sg_api_human(api, id, req->user, action, note, text, &o, err)) == 0)
		rc = sg_http_resp_json(resp, 200, o);
cleanup:
	json_decref(o);
	json_decref(body);
	return rc;
}

int api_h_approve(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err)
{
	return human(ctx, req, resp, "approve", err);
}

int api_h_edit(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
	       struct sg_error *err)
{
	return human(ctx, req, resp, "edit", err);
}

int api_h_reject(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		 struct sg_error *err)
{
	return human(ctx, req, resp, "reject", err);
}

/* ---- SLA --------------------------------------------------------------- */

int sg_api_sla_tick(struct sg_api *api, struct sg_error *err)
{
	struct sg_store_escalation *due = NULL;
	size_t n = 0;
	int rc, breached = 0;
	if ((rc = api_shadow_flush(api, err)) < 0)
		return rc;
	pthread_mutex_lock(&api->mu_h);
	rc = sg_store_escalation_claim_due(api->hstore, api->worker, sg_now_ms(), 60000, 32, &due,
					   &n, err);
	/* The breach and the next level's escalation commit together: a
	 * worker killed in between leaves neither, and the lease expires so
	 * another worker fires the timer (once). */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((rc = sg_store_begin(api->hstore, err)) < 0)
			break;
		rc = sg_store_escalation_close(api->hstore, due[i].id, api->worker, "breached", err);
		if (rc == 0 && due[i].level < API_BREACH_MAX_LEVEL) {
			char id[SG_ID_LEN];
			char reason[96];
			snprintf(reason, sizeof(reason), "SLA breach at level %d", due[i].level);
			rc = escalate_in_tx(api, due[i].ticket_id, due[i].level + 1, "lead",
					    due[i].channel[0] ? due[i].channel : NULL, reason,
					    API_DEFAULT_SLA_MIN, "sla", id, err);
		}
		if (rc == 0)
			rc = sg_store_commit(api->hstore, err);
		if (rc < 0) {
			sg_store_rollback(api->hstore, NULL);
			break;
		}
		breached++;
		if (api->m_breach) {
			char lv[16];
			snprintf(lv, sizeof(lv), "%d", due[i].level);
			const char *v[] = {lv};
			sg_metric_inc(api->m_breach, v);
		}
	}
	pthread_mutex_unlock(&api->mu_h);
	sg_free(due);
	/* pauses opened or lifted by another process sharing the store, and
	 * the week that ended sampled once */
	api_qa_pauses_changed(api);
	if (api->qa) {
		struct sg_error qerr = SG_ERROR_INIT;
		if (sg_qa_api_tick(api->qa, sg_now_ms(), &qerr) < 0)
			fprintf(stderr, "sopgate serve: QA sample: %s\n", qerr.msg);
	}
	return rc < 0 ? rc : breached;
}
