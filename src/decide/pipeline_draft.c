/*
 * pipeline_draft.c - the model side of a decision: AI-session and token
 * budgets, calls to the model the policy names for a task, the draft on the
 * knowledge base with its output scan and knowledge-gap checks, the
 * sentiment/risk tagger, and the summary for summarize-only tickets.
 */
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "decide/engine_int.h"
#include "draft/backend.h"
#include "draft/draft.h"
#include "core/banned.h"

/* The day's sessions through the engine's session_take hook (a count
 * shared by processes): 1 counted, 0 used up, -1 when there is no hook or
 * it failed (the failure is logged; the caller counts in memory). */
static int shared_session(struct sg_decide_run *r, double cap)
{
	struct sg_engine *e = r->e;
	if (!e->session_take)
		return -1;
	long limit = (long)cap;
	if (limit < cap)
		limit++; /* a fractional cap allows what the in-memory count allows */
	time_t secs = (time_t)(r->now_ms / 1000);
	struct tm tm;
	char day[16];
	if (!gmtime_r(&secs, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d", &tm))
		return -1;
	struct sg_error err = SG_ERROR_INIT;
	int rc = e->session_take(e->session_ctx, day, limit, &err);
	if (rc >= 0)
		return rc == 0;
	sg_decide_log(r, "budgets.max_sessions_per_day: the shared count is unavailable, "
		      "counting in this process: %s", err.msg[0] ? err.msg : "error");
	return -1;
}

/* Budgets: AI sessions per UTC day, counted once per decision (before the
 * first model call, or when the AI drafts) through the engine's
 * session_take hook when it has one, else by the engine. Over budget the
 * AI falls back to the policy's on_exceeded mode, says so in the reasons
 * and in the log. */
int sg_decide_budget_ok(struct sg_decide_run *r)
{
	struct sg_engine *e = r->e;
	double cap = e->policy->budgets.max_sessions_per_day;
	if (r->session)
		return r->session > 0;
	r->session = 1;
	if (cap <= 0)
		return 1;
	int ok = shared_session(r, cap);
	if (ok >= 0)
		goto counted;
	long day = (long)(r->now_ms / 86400000);
	pthread_mutex_lock(&e->budget_lock);
	if (e->budget_day != day) {
		e->budget_day = day;
		e->sessions_today = 0;
	}
	ok = e->sessions_today < cap;
	if (ok)
		e->sessions_today += 1;
	pthread_mutex_unlock(&e->budget_lock);
counted:
	if (!ok) {
		const char *detail = sg_arena_printf(
			&r->arena, "%.0f AI sessions today: the budget is used up, %s", cap,
			e->policy->budgets.on_exceeded ? e->policy->budgets.on_exceeded : "summarize_only");
		sg_decide_reason(r, "budgets.max_sessions_per_day", NULL, 0, detail);
		sg_decide_log(r, "budgets.max_sessions_per_day: %s", detail ? detail : "used up");
		r->session = -1;
		r->budget_exceeded = 1;
	}
	return ok;
}

/* Before a model call for this ticket: the day's sessions and the
 * session's tokens (from the backends' usage figures). */
static int model_budget_ok(struct sg_decide_run *r, const char *task)
{
	struct sg_error e = SG_ERROR_INIT;
	if (!sg_decide_budget_ok(r))
		return 0;
	const char *session = r->t->id ? r->t->id : "-";
	if (sg_budget_check(r->e->budget, session, r->now_ms, &e) == 0)
		return 1;
	const char *mode = r->e->policy->budgets.on_exceeded ? r->e->policy->budgets.on_exceeded
							      : "summarize_only";
	const char *detail = sg_arena_printf(&r->arena, "%s; no model call for %s, %s", e.msg, task, mode);
	sg_decide_reason(r, "budgets.max_tokens_per_session", NULL, 0, detail);
	sg_decide_log(r, "budgets.max_tokens_per_session: %s", detail ? detail : e.msg);
	r->budget_exceeded = 1;
	return 0;
}

static const char *const task_names[SG_TASK__COUNT] = {"draft", "summarize", "tag", "knowledge_gap"};

/* Says in the decision and the log that the model of a task failed and
 * what was done instead. */
static void model_failed(struct sg_decide_run *r, enum sg_task_id task, const char *fallback,
			 const char *why)
{
	const char *model = r->e->tasks[task].model_name;
	sg_decide_reason(r, sg_arena_printf(&r->arena, "%s.backend", task_names[task]), NULL, 0,
	       sg_arena_printf(&r->arena, "model '%s' failed, %s: %s", model, fallback, why));
	sg_decide_log(r, "%s model '%s' failed, %s: %s", task_names[task], model, fallback, why);
}

/* One call for a task to the model the policy names: approval checked,
 * budget checked and charged; a failure is reported with model_failed.
 * 0, or -1 (out is empty). */
static int model_call(struct sg_decide_run *r, enum sg_task_id task,
		      const struct sg_kb_hits *sources, const struct sg_masked_text *input,
		      const char *input_label, int json, const char *fallback,
		      struct sg_backend_response *out)
{
	const struct sg_task_model *tm = &r->e->tasks[task];
	struct sg_error e = SG_ERROR_INIT;
	memset(out, 0, sizeof(*out));
	if (sg_draft_model_check(r->e->approvals, r->e->napprovals, task_names[task], tm->model_name,
				 &e) < 0)
		goto failed;
	if (!model_budget_ok(r, task_names[task]))
		return -1;
	struct sg_backend_request req = {tm->model_name, tm->prompt, sources, input,
					 tm->max_tokens ? tm->max_tokens : 512, 0.2, json, input_label};
	if (sg_backend_complete(tm->backend, &req, out, &e) < 0)
		goto failed;
	sg_budget_charge(r->e->budget, r->t->id ? r->t->id : "-", r->now_ms,
			 (uint64_t)out->input_tokens + out->output_tokens);
	return 0;
failed:
	model_failed(r, task, fallback, e.msg);
	return -1;
}

/* The first name for the greeting; it never goes to a model. */
static void first_name(char *out, size_t size, const char *name)
{
	out[0] = 0;
	if (name) {
		size_t n = strcspn(name, " \t");
		if (n && n < size)
			snprintf(out, size, "%.*s", (int)n, name);
	}
}

/* The draft task: the model the policy names for it (masked text only,
 * approval checked, budget charged), else the built-in drafter. 0, or
 * the reason for summarize-only in derr (*failed set). */
static int draft_with(struct sg_decide_run *r, struct sg_draft *dr,
		      const struct sg_draft_request *req, int *over_budget, struct sg_error *derr)
{
	const struct sg_task_model *tm = &r->e->tasks[SG_TASK_DRAFT];
	*over_budget = 0;
	if (!tm->backend)
		return sg_draft_builtin(dr, r->kb, req, derr);
	if (!model_budget_ok(r, "draft")) {
		*over_budget = 1;
		return -SG_ELIMIT;
	}
	struct sg_draft_request mreq = *req;
	mreq.max_tokens = tm->max_tokens;
	int rc = sg_draft_model(dr, tm->backend, tm->model_name, tm->prompt, r->kb, &mreq,
				r->e->approvals, r->e->napprovals, r->e->budget,
				r->t->id ? r->t->id : "-", derr);
	if (rc < 0)
		sg_decide_log(r, "draft model '%s' failed, summarize only: %s", tm->model_name, derr->msg);
	return rc;
}

/* The knowledge-gap detector the policy names, after the built-in check:
 * the masked draft and the cited articles go to the model, which answers
 * "OK" or lists the unsupported claims (then the draft needs review). */
static void model_gap(struct sg_decide_run *r, const struct sg_draft *dr, const struct sg_scan_input *in)
{
	static const char fallback[] = "built-in check only";
	struct sg_kb_hits hits = {0};
	struct sg_masked_text *m = NULL;
	struct sg_backend_response resp;
	struct sg_error e = SG_ERROR_INIT;
	memset(&resp, 0, sizeof(resp));
	hits.v = sg_calloc(dr->nsources, sizeof(*hits.v));
	if (!hits.v) {
		sg_error_set(&e, SG_ENOMEM, "out of memory");
		goto failed;
	}
	for (size_t i = 0; i < dr->nsources; i++) {
		const char *id = !strncmp(dr->sources[i], "kb:", 3) ? dr->sources[i] + 3 : dr->sources[i];
		struct sg_kb_hit *h = &hits.v[hits.n];
		if (sg_kb_article_text(r->kb, id, &h->text, &e) < 0)
			goto failed;
		hits.n++;
		h->article_id = sg_strdup(id);
		h->title = sg_strdup("");
		h->url = sg_strdup("");
		h->heading = sg_strdup("");
		if (!h->article_id || !h->title || !h->url || !h->heading) {
			sg_error_set(&e, SG_ENOMEM, "out of memory");
			goto failed;
		}
	}
	if (sg_masked_new(&m, r->scan, dr->text, strlen(dr->text), in, &e) < 0)
		goto failed;
	if (model_call(r, SG_TASK_GAP, &hits, m, "REPLY", 0, fallback, &resp) < 0)
		goto cleanup;
	const char *claim;
	size_t clen;
	int listed = sg_draft_parse_gap(&claim, &clen, resp.text, &e);
	if (listed < 0)
		goto failed;
	if (!listed)
		goto cleanup;
	sg_decision_add_type(r->d, "unsupported_claim");
	r->d->guardrail_triggered = 1;
	r->unsupported = 1;
	sg_decide_reason(r, "draft.knowledge_gap", NULL, 0,
	       sg_arena_printf(&r->arena, "model '%s' lists claims no cited article supports: %.*s",
			       r->e->tasks[SG_TASK_GAP].model_name, (int)(clen > 200 ? 200 : clen), claim));
	goto cleanup;
failed:
	model_failed(r, SG_TASK_GAP, fallback, e.msg);
cleanup:
	sg_backend_response_release(&resp);
	sg_masked_free(m);
	sg_kb_hits_release(&hits);
}

/* The sentiment/risk tagger the policy names: frustration, churn risk and
 * escalation likelihood 0-10 as strict JSON from the masked message, in
 * place of the classifier's signals. Not under the kill switch, nor when a
 * test pins the signals. */
void sg_decide_model_tags(struct sg_decide_run *r, const json_t *given, const char *text, size_t len,
			  const struct sg_scan_input *in)
{
	static const char fallback[] = "classifier signals kept";
	struct sg_masked_text *m = NULL;
	struct sg_backend_response resp;
	struct sg_error e = SG_ERROR_INIT;
	int v[3];
	memset(&resp, 0, sizeof(resp));
	if (!r->e->tasks[SG_TASK_TAG].backend || r->e->policy->kill_switch ||
	    (given && (json_is_true(json_object_get(given, "kill_switch")) ||
		       json_object_get(given, "frustration"))))
		return;
	if (sg_masked_new(&m, r->scan, text, len, in, &e) < 0)
		goto failed;
	if (model_call(r, SG_TASK_TAG, NULL, m, NULL, 1, fallback, &resp) < 0)
		goto cleanup;
	if (sg_draft_parse_tags(v, resp.text, &e) < 0)
		goto failed;
	r->c.frustration = v[0];
	r->c.churn_risk = v[1];
	r->c.escalation_likelihood = v[2];
	sg_decide_reason(r, "tag.model", NULL, 0,
	       sg_arena_printf(&r->arena, "frustration %d, churn_risk %d, escalation_likelihood %d from model '%s' (%s)",
			       v[0], v[1], v[2], r->e->tasks[SG_TASK_TAG].model_name,
			       r->e->tasks[SG_TASK_TAG].prompt_version));
	goto cleanup;
failed:
	model_failed(r, SG_TASK_TAG, fallback, e.msg);
cleanup:
	sg_backend_response_release(&resp);
	sg_masked_free(m);
}

/* The draft on the knowledge base: a reply grounded in approved articles,
 * by the model the policy names for the draft task or the built-in
 * drafter, scanned like any draft and checked for claims no cited passage
 * supports. Any failure leaves the ticket without a draft (summarize only)
 * and says why. */
int sg_decide_generate_draft(struct sg_decide_run *r, struct sg_scan_input *in,
			     const char *text, size_t len, struct sg_error *err)
{
	struct sg_masked_text *m = NULL;
	struct sg_draft dr;
	struct sg_error derr = SG_ERROR_INIT;
	char first[64];
	int over_budget = 0;
	memset(&dr, 0, sizeof(dr));
	first_name(first, sizeof(first), r->t->customer.name);
	struct sg_draft_request req = {0};
	if (sg_masked_new(&m, r->scan, text, len, in, &derr) < 0)
		goto failed;
	req.ticket = m;
	req.intent = r->c.intent;
	req.first_name = first[0] ? first : NULL;
	if (draft_with(r, &dr, &req, &over_budget, &derr) < 0)
		goto failed;
	r->d->model_name = sg_arena_strdup(&r->arena, dr.model_name ? dr.model_name : "builtin");
	r->d->prompt_template_version = sg_arena_strdup(
		&r->arena, dr.prompt_template_version ? dr.prompt_template_version : "builtin.v1");
	if (dr.escalate) {
		r->draft_masked = sg_arena_strdup(&r->arena, dr.text);
		r->generated = 1;
		sg_decide_reason(r, "draft.escalate", NULL, 0,
		       "no approved article answers this ticket: the drafter wrote ESCALATE: insufficient context");
		goto done;
	}
	/* the draft goes through the output scan like an agent's draft */
	struct sg_scan_result *res;
	in->allow_urls = r->e->allow_urls;
	in->nallow_urls = r->e->nallow;
	int rc = sg_scan_run(r->scan, SG_SCAN_OUTPUT, dr.text, strlen(dr.text), in, &res, err);
	if (rc < 0)
		goto out;
	r->draft_masked = sg_arena_strndup(&r->arena, res->masked, res->masked_len);
	if (!r->draft_masked || sg_decide_collect_types(r, res, &r->out_types, &r->n_out_types) < 0) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto out;
	}
	r->generated = 1;
	for (size_t i = 0; i < dr.nsources && r->d->ndraft_sources < SG_DECISION_MAX_SOURCES; i++)
		r->d->draft_sources[r->d->ndraft_sources++] = sg_arena_strdup(&r->arena, dr.sources[i]);
	struct sg_gap_report gap;
	memset(&gap, 0, sizeof(gap));
	if (sg_draft_gap_check(&gap, r->kb, dr.text, (const char *const *)dr.sources, dr.nsources,
			       &derr) == 0 && gap.n) {
		sg_decision_add_type(r->d, "unsupported_claim");
		r->d->guardrail_triggered = 1;
		r->unsupported = 1;
		sg_decide_reason(r, "draft.knowledge_gap", NULL, 0,
		       sg_arena_printf(&r->arena, "%zu claim(s) not supported by a cited passage (missing: %s)",
				       gap.n, gap.claims[0].missing ? gap.claims[0].missing : "?"));
	}
	sg_gap_report_release(&gap);
	if (r->e->tasks[SG_TASK_GAP].backend && dr.nsources)
		model_gap(r, &dr, in);
done:
	rc = 0;
out:
	sg_draft_release(&dr);
	sg_masked_free(m);
	return rc;
failed:
	if (!over_budget) {
		const struct sg_task_model *tm = &r->e->tasks[SG_TASK_DRAFT];
		sg_decide_reason(r, tm->backend ? "draft.backend" : "draft.error", NULL, 0,
		       tm->backend ? sg_arena_printf(&r->arena, "model '%s' failed, summarize only: %s",
						     tm->model_name, derr.msg)
				   : sg_arena_printf(&r->arena, "drafting failed, summarize only: %s", derr.msg));
	}
	r->draft_failed = 1;
	sg_draft_release(&dr);
	sg_masked_free(m);
	return 0;
}

/* The summary by the model the policy names for the summarize task: the
 * thread is masked as one text (the only thing sent), the answer must have
 * the three sections, and placeholders are shown as [PII]. 0, or -1 with
 * the reason given (the built-in summary is used then). */
static int model_summary(struct sg_decide_run *r, const struct sg_scan_input *in,
			 const char *text, size_t len, size_t first)
{
	const struct sg_task_model *tm = &r->e->tasks[SG_TASK_SUMMARIZE];
	static const char fallback[] = "built-in summary instead";
	struct sg_buf thread = SG_BUF_INIT;
	struct sg_masked_text *m = NULL;
	struct sg_backend_response resp;
	struct sg_error e = SG_ERROR_INIT;
	char *tagged = NULL;
	int rc = -1;
	memset(&resp, 0, sizeof(resp));
	for (size_t i = first; i < r->t->nhistory; i++)
		if (r->t->history[i].text)
			sg_buf_addf(&thread, "%s: %s\n", r->t->history[i].role, r->t->history[i].text);
	sg_buf_adds(&thread, "customer: ");
	sg_buf_add(&thread, text, len);
	if (thread.oom) {
		sg_error_set(&e, SG_ENOMEM, "out of memory");
		goto failed;
	}
	if (sg_masked_new(&m, r->scan, thread.data, thread.len, in, &e) < 0)
		goto failed;
	if (model_call(r, SG_TASK_SUMMARIZE, NULL, m, "THREAD", 0, fallback, &resp) < 0)
		goto cleanup;
	if (!strstr(resp.text, "Customer issue:")) {
		sg_error_set(&e, SG_EBACKEND, "the answer lacks the three sections (no 'Customer issue:')");
		goto failed;
	}
	if (sg_draft_pii_tags(&tagged, resp.text, &e) < 0)
		goto failed;
	r->d->summary = sg_arena_strdup(&r->arena, tagged);
	r->d->model_name = tm->model_name;
	r->d->prompt_template_version = tm->prompt_version;
	rc = 0;
	goto cleanup;
failed:
	model_failed(r, SG_TASK_SUMMARIZE, fallback, e.msg);
cleanup:
	sg_free(tagged);
	sg_backend_response_release(&resp);
	sg_masked_free(m);
	sg_buf_release(&thread);
	return rc;
}

/* The summary for the human (summarize-only tickets): customer issue,
 * actions taken, outstanding questions, with every PII value as [PII]. Each
 * text is masked by the scanner before the summarizer sees it. A model
 * summarizes when the policy names one (not under the kill switch nor over
 * budget); otherwise, or when it fails, the built-in summarizer does. */
#define SUMMARY_TURNS 8
void sg_decide_summarize(struct sg_decide_run *r, const char *text, size_t len, int no_model)
{
	struct sg_masked_text *m[SUMMARY_TURNS + 1] = {0};
	struct sg_summary_msg msgs[SUMMARY_TURNS + 1];
	struct sg_scan_input in;
	struct sg_error err = SG_ERROR_INIT;
	size_t n = 0, first = r->t->nhistory > SUMMARY_TURNS ? r->t->nhistory - SUMMARY_TURNS : 0;
	memset(&in, 0, sizeof(in));
	in.customer_name = r->t->customer.name;
	in.customer_email = r->t->customer.email;
	in.customer_phone = r->t->customer.phone;
	if (r->e->tasks[SG_TASK_SUMMARIZE].backend && !no_model && !r->budget_exceeded &&
	    model_summary(r, &in, text, len, first) == 0)
		return;
	r->d->model_name = "builtin";
	r->d->prompt_template_version = "builtin.v1";
	for (size_t i = first; i < r->t->nhistory; i++) {
		const struct sg_turn *h = &r->t->history[i];
		if (!h->text || sg_masked_new(&m[n], r->scan, h->text, strlen(h->text), &in, &err) < 0)
			continue;
		msgs[n].role = h->role;
		msgs[n].text = m[n];
		n++;
	}
	if (sg_masked_new(&m[n], r->scan, text, len, &in, &err) == 0) {
		msgs[n].role = "customer";
		msgs[n].text = m[n];
		n++;
	}
	char *s = NULL;
	if (n && sg_draft_summarize(&s, msgs, n, &err) == 0 && s)
		r->d->summary = sg_arena_strdup(&r->arena, s);
	sg_free(s);
	for (size_t i = 0; i <= SUMMARY_TURNS; i++)
		sg_masked_free(m[i]);
}
