/*
 * pipeline.c - one ticket event through the policy: scan, classify, tier,
 * band, SOP workflows, gate, escalation, and the decision object. Each rule
 * that fires adds a reason citing its policy line and the values it saw.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/id.h"
#include "decide/engine_int.h"
#include "draft/backend.h"
#include "draft/draft.h"
#include "core/banned.h"

static const char *where(struct sg_decide_run *r, const char *file, unsigned line)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	return sg_arena_printf(&r->arena, "%s:%u", slash ? slash + 1 : (file ? file : "?"), line);
}

static void reason(struct sg_decide_run *r, const char *rule, const char *file,
		   unsigned line, const char *detail)
{
	sg_decision_add_reason(r->d, rule, file ? where(r, file, line) : NULL, detail);
}

/* Scanner types hit, as a list the resolver hands to expressions, and the
 * guardrail fields of the decision. */
static int collect_types(struct sg_decide_run *r, const struct sg_scan_result *res,
			 const char ***out, size_t *n)
{
	*n = 0;
	*out = sg_arena_calloc(&r->arena, res->ntypes + 1, sizeof(char *));
	if (!*out)
		return -SG_ENOMEM;
	for (size_t i = 0; i < res->ntypes; i++)
		(*out)[(*n)++] = res->types[i];
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sg_scan_finding *f = &res->findings[i];
		int t = sg_scan_type_from_name(f->type);
		const char *set = t >= 0 ? r->e->set_of_type[t] : "custom";
		/* a custom type that is only flagged (an order number, a privacy
		 * request) routes through conditions but is no guardrail hit */
		if (t < 0 && f->action == SG_SCAN_FLAG)
			continue;
		sg_decision_add_type(r->d, set ? set : "custom");
		r->d->guardrail_triggered = 1;
		if (f->action == SG_SCAN_BLOCK)
			r->d->guardrail_action = "blocked";
		else if (f->action == SG_SCAN_MASK && strcmp(r->d->guardrail_action, "blocked"))
			r->d->guardrail_action = "masked";
	}
	return 0;
}

/* A guardrail hit other than masked personal data. */
static int risk_hit(const struct sg_decision *d)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (strcmp(d->guardrail_types[i], "pii"))
			return 1;
	return 0;
}

static int scan_input(struct sg_decide_run *r, const char *text, size_t len,
		      struct sg_scan_input *in, struct sg_error *err)
{
	struct sg_scan_result *res;
	const struct sg_customer *c = &r->t->customer;
	in->customer_name = c->name;
	in->customer_email = c->email;
	in->customer_phone = c->phone;
	int rc = sg_scan_run(r->scan, SG_SCAN_INPUT, text, len, in, &res, err);
	if (rc < 0)
		return rc;
	r->masked = sg_arena_strndup(&r->arena, res->masked, res->masked_len);
	if (!r->masked || collect_types(r, res, &r->in_types, &r->n_in_types) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	/* the input's PII values, for the PII_ECHO check of the draft */
	const char **vals = sg_arena_calloc(&r->arena, res->nfindings + 1, sizeof(char *));
	if (!vals)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	size_t nv = 0;
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sg_scan_finding *f = &res->findings[i];
		int t = sg_scan_type_from_name(f->type);
		if (t >= 0 && t <= SG_T_SECRET && f->end > f->start)
			vals[nv++] = sg_arena_strndup(&r->arena, text + f->start, f->end - f->start);
	}
	in->pii_values = vals;
	in->npii_values = nv;
	if (res->blocked)
		reason(r, "guardrails.input", NULL, 0,
		       sg_arena_printf(&r->arena, "input blocked by the scanner (%s)",
				       res->ntypes ? res->types[0] : "limit"));
	return 0;
}

static int scan_draft(struct sg_decide_run *r, struct sg_scan_input *in,
		      struct sg_error *err)
{
	struct sg_scan_result *res;
	const char *draft = r->t->draft_text;
	in->allow_urls = r->e->allow_urls;
	in->nallow_urls = r->e->nallow;
	int rc = sg_scan_run(r->scan, SG_SCAN_OUTPUT, draft, strlen(draft), in, &res, err);
	if (rc < 0)
		return rc;
	r->draft_masked = sg_arena_strndup(&r->arena, res->masked, res->masked_len);
	if (!r->draft_masked || collect_types(r, res, &r->out_types, &r->n_out_types) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (res->blocked)
		reason(r, "guardrails.output", NULL, 0,
		       sg_arena_printf(&r->arena, "draft blocked by the scanner (%s)",
				       res->ntypes ? res->types[0] : "limit"));
	return 0;
}

/* Budgets: AI sessions per UTC day, counted by the engine once per
 * decision (before the first model call, or when the AI drafts). Over
 * budget the AI falls back to the policy's on_exceeded mode, says so in
 * the reasons and in the log. */
static int budget_ok(struct sg_decide_run *r)
{
	struct sg_engine *e = r->e;
	double cap = e->policy->budgets.max_sessions_per_day;
	if (r->session)
		return r->session > 0;
	r->session = 1;
	if (cap <= 0)
		return 1;
	long day = (long)(r->now_ms / 86400000);
	int ok;
	pthread_mutex_lock(&e->budget_lock);
	if (e->budget_day != day) {
		e->budget_day = day;
		e->sessions_today = 0;
	}
	ok = e->sessions_today < cap;
	if (ok)
		e->sessions_today += 1;
	pthread_mutex_unlock(&e->budget_lock);
	if (!ok) {
		const char *detail = sg_arena_printf(
			&r->arena, "%.0f AI sessions today: the budget is used up, %s", cap,
			e->policy->budgets.on_exceeded ? e->policy->budgets.on_exceeded : "summarize_only");
		reason(r, "budgets.max_sessions_per_day", NULL, 0, detail);
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
	if (!budget_ok(r))
		return 0;
	const char *session = r->t->id ? r->t->id : "-";
	if (sg_budget_check(r->e->budget, session, r->now_ms, &e) == 0)
		return 1;
	const char *mode = r->e->policy->budgets.on_exceeded ? r->e->policy->budgets.on_exceeded
							      : "summarize_only";
	const char *detail = sg_arena_printf(&r->arena, "%s; no model call for %s, %s", e.msg, task, mode);
	reason(r, "budgets.max_tokens_per_session", NULL, 0, detail);
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
	reason(r, sg_arena_printf(&r->arena, "%s.backend", task_names[task]), NULL, 0,
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
	reason(r, "draft.knowledge_gap", NULL, 0,
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
static void model_tags(struct sg_decide_run *r, const json_t *given, const char *text, size_t len,
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
	reason(r, "tag.model", NULL, 0,
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
static int generate_draft(struct sg_decide_run *r, struct sg_scan_input *in,
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
		reason(r, "draft.escalate", NULL, 0,
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
	if (!r->draft_masked || collect_types(r, res, &r->out_types, &r->n_out_types) < 0) {
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
		reason(r, "draft.knowledge_gap", NULL, 0,
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
		reason(r, tm->backend ? "draft.backend" : "draft.error", NULL, 0,
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
static void summarize(struct sg_decide_run *r, const char *text, size_t len, int no_model)
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

/* Worth drafting: confident enough, not a high-risk intent, AI not off. */
static int may_draft(const struct sg_decide_run *r, const json_t *given)
{
	const struct sg_policy *p = r->e->policy;
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	const json_t *gk = given ? json_object_get(given, "kill_switch") : NULL;
	return r->c.intent_confidence >= p->th.classifier_min &&
	       r->c.intent_confidence >= p->th.summarize_below && !p->kill_switch &&
	       !json_is_true(gk) && !(it && it->tier == SG_TIER_HIGH);
}

static void apply_given(struct sg_classification *c, const json_t *given,
			const struct sg_policy *p)
{
	const json_t *v;
	if (!given)
		return;
	if ((v = json_object_get(given, "intent")) && json_is_string(v)) {
		const struct sg_policy_intent *it = sg_policy_intent(p, json_string_value(v));
		c->intent = it ? it->name : "unknown";
	}
	if ((v = json_object_get(given, "intent_confidence")) && json_is_number(v))
		c->intent_confidence = json_number_value(v);
	if ((v = json_object_get(given, "sentiment")) && json_is_string(v)) {
		const char *s = json_string_value(v);
		c->sentiment = !strcmp(s, "negative")   ? SG_SENTIMENT_NEGATIVE
			       : !strcmp(s, "positive") ? SG_SENTIMENT_POSITIVE
							: SG_SENTIMENT_NEUTRAL;
	}
	if ((v = json_object_get(given, "sentiment_confidence")) && json_is_number(v))
		c->sentiment_confidence = json_number_value(v);
	if ((v = json_object_get(given, "frustration")) && json_is_number(v))
		c->frustration = (int)json_number_value(v);
	if ((v = json_object_get(given, "churn_risk")) && json_is_number(v))
		c->churn_risk = (int)json_number_value(v);
	if ((v = json_object_get(given, "escalation_likelihood")) && json_is_number(v))
		c->escalation_likelihood = (int)json_number_value(v);
	if ((v = json_object_get(given, "urgency")) && json_is_string(v)) {
		const char *u = json_string_value(v);
		if (u[0] == 'P' && u[1] >= '0' && u[1] <= '3' && !u[2])
			c->urgency = u[1] - '0';
	}
	if ((v = json_object_get(given, "language")) && json_is_string(v))
		snprintf(c->language, sizeof(c->language), "%s", json_string_value(v));
}

static int classify(struct sg_decide_run *r, const json_t *given, struct sg_error *err)
{
	struct sg_classification *c = &r->c;
	const struct sg_ticket *t = r->t;
	memset(c, 0, sizeof(*c));
	c->intent = "unknown";
	c->urgency = 3;
	c->sentiment = SG_SENTIMENT_NEUTRAL;
	snprintf(c->language, sizeof(c->language), "und");
	if (r->e->intent) {
		struct sg_classify_input in = {0};
		in.text = r->masked; /* the classifier sees masked text only */
		in.len = strlen(r->masked);
		in.tier = t->customer.tier;
		in.priority = t->priority;
		in.history_turns = (unsigned)t->nhistory;
		for (size_t i = 0; i < t->nhistory; i++)
			in.customer_turns += !strcmp(t->history[i].role, "customer");
		in.vip = t->customer.vip;
		int rc = sg_classify_ticket(c, r->e->intent, r->cls, &in, err);
		if (rc < 0)
			return rc;
	}
	apply_given(c, given, r->e->policy);
	/* the loop trigger: the same intent answered by the AI, drafts rejected
	 * in a row (counted from the most recent turn back) */
	int rejected_run = 1;
	for (size_t i = t->nhistory; i-- > 0;) {
		const struct sg_turn *h = &t->history[i];
		if (strcmp(h->role, "ai"))
			continue;
		if (h->intent && c->intent && !strcmp(h->intent, c->intent))
			r->same_intent_ai_turns++;
		if (rejected_run && h->rejected)
			r->rejected_drafts++;
		else
			rejected_run = 0;
	}
	return 0;
}

static enum sg_tier tier_of(struct sg_decide_run *r)
{
	const struct sg_policy *p = r->e->policy;
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	enum sg_tier tier = it && it->tier != SG_TIER_NONE ? it->tier : SG_TIER_MEDIUM;
	if (it)
		reason(r, sg_arena_printf(&r->arena, "intents.%s", it->name), it->node->file,
		       it->node->line,
		       sg_arena_printf(&r->arena, "intent = %s (%.2f) is tier %s", it->name,
				       r->c.intent_confidence, sg_tier_name(tier)));
	r->d->risk_tier = sg_tier_name(tier);
	for (size_t i = 0; i < p->n_risk; i++) {
		const struct sg_policy_rule *rule = &p->risk[i];
		const char *cite;
		if (!sg_decide_eval(r, rule->when, &cite))
			continue;
		reason(r, rule->name, rule->file, rule->line,
		       rule->reason ? sg_arena_printf(&r->arena, "%s: %s", rule->reason, cite) : cite);
		if (rule->tier > tier) {
			tier = rule->tier;
			r->d->risk_tier = sg_tier_name(tier);
		}
	}
	return tier;
}

static const char *band_of(const struct sg_decide_run *r)
{
	const struct sg_policy_thresholds *th = &r->e->policy->th;
	const struct sg_classification *c = &r->c;
	if (c->intent_confidence >= th->band_high_intent &&
	    c->sentiment_confidence >= th->band_high_sentiment)
		return "high";
	if (c->intent_confidence >= th->band_medium_intent ||
	    (c->sentiment == SG_SENTIMENT_NEGATIVE &&
	     c->sentiment_confidence >= th->band_medium_negative_sentiment))
		return "medium";
	return "low";
}

static int name_in(const char *name, const char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && name && !strcmp(names[i], name))
			return 1;
	return 0;
}

static int rule_sets_hit(const struct sg_decision *d, const struct sg_policy_rule *rule)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (name_in(d->guardrail_types[i], rule->names, rule->n_names))
			return 1;
	return 0;
}

struct gate_state {
	enum sg_gate gate;
	int fired;                /* gate/never rules that fired */
	int send_blocked;
	const char *channel;      /* senior review channel */
	double sla_seconds;
	const char *queue;
	int no_respond;           /* no grant to reply on the queue */
};

static void raise_gate(struct gate_state *g, enum sg_gate to)
{
	if (to > g->gate)
		g->gate = to;
}

static void gate_rules(struct sg_decide_run *r, struct gate_state *g)
{
	const struct sg_policy *p = r->e->policy;
	for (size_t i = 0; i < p->n_gates; i++) {
		const struct sg_policy_rule *rule = &p->gates[i];
		const char *cite = NULL;
		int by_set = rule->n_names && rule_sets_hit(r->d, rule);
		if (!by_set && !sg_decide_eval(r, rule->when, &cite))
			continue;
		if (by_set && !cite)
			cite = sg_arena_printf(&r->arena, "guardrail rule set hit (%s)",
					       rule->names[0]);
		reason(r, rule->name, rule->file, rule->line,
		       rule->reason ? sg_arena_printf(&r->arena, "%s: %s", rule->reason, cite) : cite);
		g->fired++;
		if (rule->gate >= g->gate && rule->channel) {
			g->channel = rule->channel;
			g->sla_seconds = rule->sla_seconds;
		}
		if (rule->queue)
			g->queue = rule->queue;
		raise_gate(g, rule->gate);
	}
	for (size_t i = 0; i < p->n_never; i++) {
		const struct sg_policy_rule *rule = &p->never[i];
		const char *cite = NULL;
		int by_intent = rule->n_names && name_in(r->c.intent, rule->names, rule->n_names);
		if (by_intent)
			cite = sg_arena_printf(&r->arena, "intent = %s", r->c.intent);
		else if (!sg_decide_eval(r, rule->when, &cite))
			continue;
		reason(r, rule->name, rule->file, rule->line,
		       rule->reason ? sg_arena_printf(&r->arena, "%s: %s", rule->reason, cite) : cite);
		g->fired++;
		raise_gate(g, rule->gate);
		const struct sg_pnode *block = sg_pnode_get(rule->node, "block");
		for (size_t k = 0; block && k < block->n; k++)
			if (block->items[k]->text && !strcmp(block->items[k]->text, "send"))
				g->send_blocked = 1;
	}
}

static const struct sg_policy_rule *escalate(struct sg_decide_run *r, const char **cite)
{
	const struct sg_policy *p = r->e->policy;
	for (size_t i = 0; i < p->n_escalations; i++) {
		const struct sg_policy_rule *rule = &p->escalations[i];
		if (sg_decide_eval(r, rule->when, cite))
			return rule;
	}
	return NULL;
}

static int auto_send_ok(struct sg_decide_run *r, const struct gate_state *g,
			enum sg_tier tier, const char **why)
{
	const struct sg_policy *p = r->e->policy;
	const struct sg_pnode *as = sg_pnode_get(sg_policy_section(p, "gates"), "auto_send");
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	const struct sg_pnode *plans = sg_pnode_get(as, "plans");
	const char *tierc = r->t->customer.tier;
	int plan_ok = !plans;
	for (size_t i = 0; plans && i < plans->n; i++)
		if (tierc && plans->items[i]->text && !strcmp(plans->items[i]->text, tierc))
			plan_ok = 1;
	if (!as)
		return 0;
	if (r->c.intent_confidence <= p->th.auto_send_min)
		return 0;
	if (!plan_ok || tier != SG_TIER_LOW || strcmp(r->d->confidence_band, "high"))
		return 0;
	if (sg_pnode_bool(as, "require_preapproved", 1) && !(it && it->auto_send))
		return 0;
	if (sg_pnode_bool(as, "require_no_triggers", 1) &&
	    (g->fired || r->d->escalated || risk_hit(r->d) ||
	     !strcmp(r->d->guardrail_action, "blocked")))
		return 0;
	*why = sg_arena_printf(&r->arena,
			       "intent_confidence = %.2f > %.2f; customer.tier = %s; intent %s "
			       "pre-approved; nothing triggered",
			       r->c.intent_confidence, p->th.auto_send_min, tierc, r->c.intent);
	return 1;
}

/* A grant target ending in a star matches any rest ("queue/tier-1"). */
static int target_matches(const char *pattern, const char *target)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		return !strncmp(pattern, target, n - 1);
	return !strcmp(pattern, target);
}

static const struct sg_policy_permission *grant_for(const struct sg_policy *p,
						     const char *resource, const char *action,
						     const char *target)
{
	for (size_t i = 0; i < p->n_permissions; i++) {
		const struct sg_policy_permission *g = &p->permissions[i];
		if (g->resource && g->action && g->target && !strcmp(g->resource, resource) &&
		    !strcmp(g->action, action) && target_matches(g->target, target))
			return g;
	}
	return NULL;
}

/* What the AI agent may do (policy `permissions`): replying on the routed
 * queue needs `tickets:respond on queue/<queue>`; refunds need
 * `billing:refund`, account deletion `crm:delete`. An action without a
 * grant is left to a human; a grant with requires_approval needs one.
 * Without a permissions section nothing is restricted here. */
static void permissions(struct sg_decide_run *r, struct gate_state *g, const char *queue)
{
	const struct sg_policy *p = r->e->policy;
	if (!p->n_permissions)
		return;
	const char *target = sg_arena_printf(&r->arena, "queue/%s", queue ? queue : "");
	if (target && !grant_for(p, "tickets", "respond", target)) {
		reason(r, "permissions", NULL, 0,
		       sg_arena_printf(&r->arena, "no grant tickets:respond on %s: the AI may not reply there", target));
		raise_gate(g, SG_GATE_AGENT_REVIEW);
		g->no_respond = 1;
		g->fired++;
	}
	const char *cust = sg_arena_printf(&r->arena, "customers/%s",
					   r->t->customer.id ? r->t->customer.id : "unknown");
	const json_t *amt = sg_ticket_fact(r->t, "refund_amount");
	static const struct {
		const char *intent, *resource, *action;
	} needs[] = {{"get_refund", "billing", "refund"}, {"delete_account", "crm", "delete"}};
	for (size_t i = 0; cust && i < sizeof(needs) / sizeof(needs[0]); i++) {
		int wanted = !strcmp(r->c.intent, needs[i].intent) ||
			     (!strcmp(needs[i].action, "refund") && json_is_number(amt) &&
			      json_number_value(amt) > 0);
		if (!wanted)
			continue;
		const struct sg_policy_permission *gr =
			grant_for(p, needs[i].resource, needs[i].action, cust);
		if (!gr) {
			reason(r, "permissions", NULL, 0,
			       sg_arena_printf(&r->arena, "no grant %s:%s on %s: a human acts",
					       needs[i].resource, needs[i].action, cust));
			raise_gate(g, SG_GATE_AGENT_REVIEW);
			g->fired++;
		} else if (gr->requires_approval) {
			reason(r, "permissions", gr->node ? gr->node->file : NULL,
			       gr->node ? gr->node->line : 0,
			       sg_arena_printf(&r->arena, "%s:%s on %s requires approval%s%s",
					       needs[i].resource, needs[i].action, gr->target,
					       gr->approval_channel ? " in " : "",
					       gr->approval_channel ? gr->approval_channel : ""));
			raise_gate(g, SG_GATE_AGENT_REVIEW);
			g->fired++;
		}
	}
}

static const char *next_action(enum sg_gate g)
{
	static const char *const names[] = {
		"send_reply", "agent_review_draft", "agent_edit_with_checklist",
		"two_step_approval", "senior_review", "human_handles",
	};
	return g < SG_GATE__COUNT ? names[g] : "human_handles";
}

/* model_name and prompt_template_version of every decision: what wrote
 * the draft or the summary, else the model the policy names for the task
 * of the AI mode (an agent's own draft, no knowledge base). */
static void prompt_fields(struct sg_decide_run *r)
{
	if (r->d->model_name && r->d->prompt_template_version)
		return;
	enum sg_task_id t = !strcmp(r->d->ai_mode, "draft_reply") ? SG_TASK_DRAFT : SG_TASK_SUMMARIZE;
	r->d->model_name = r->e->tasks[t].model_name;
	r->d->prompt_template_version = r->e->tasks[t].prompt_version;
}

int sg_decide(struct sg_decision *out, struct sg_decide_run *r,
	      const struct sg_ticket *t, const json_t *given, struct sg_error *err)
{
	const struct sg_policy *p = r->e->policy;
	struct sg_scan_input in;
	struct gate_state g = {SG_GATE_AUTO_SEND, 0, 0, NULL, 0, NULL, 0};
	const char *cite = NULL;
	size_t len;
	int rc;

	sg_decide__reset(r);
	memset(out, 0, sizeof(*out));
	memset(&in, 0, sizeof(in));
	r->t = t;
	r->d = out;
	r->masked = r->draft_masked = NULL;
	r->in_types = r->out_types = NULL;
	r->n_in_types = r->n_out_types = 0;
	r->same_intent_ai_turns = r->rejected_drafts = 0;
	r->sop_queue = NULL;
	r->sop_review = 0;
	r->generated = r->unsupported = r->draft_failed = 0;
	r->session = r->budget_exceeded = 0;
	r->sop_step_no = 0;
	r->now_ms = sg_now_ms();
	r->actions = json_array();
	if (!r->actions)
		return sg_error_set(err, SG_ENOMEM, "out of memory");

	char *trace = sg_arena_alloc(&r->arena, SG_ID_LEN);
	char *now = sg_arena_alloc(&r->arena, 25);
	if (!trace || !now || sg_id_new(trace) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	sg_time_iso(r->now_ms, now);
	out->helpdesk_ticket_id = t->id;
	out->event_id = t->event_id;
	out->customer_id = t->customer.id;
	out->channel = t->channel;
	out->ai_trace_id = trace;
	out->created_at = now;
	out->policy_version = p->version;
	out->guardrail_policy_version = r->e->scan_version;
	out->guardrail_action = "allowed";
	out->risk_tier = "low";
	out->confidence_band = "low";

	/* 1. scan the input; everything after sees masked text only */
	const char *text = sg_ticket_text(t, &r->arena, &len);
	if (!text)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if ((rc = scan_input(r, text, len, &in, err)) < 0)
		return rc;
	out->masked_text = r->masked;
	/* 2. classify (and the tagger model, when the policy names one) */
	if ((rc = classify(r, given, err)) < 0)
		return rc;
	model_tags(r, given, text, len, &in);
	out->intent = r->c.intent;
	out->intent_confidence = r->c.intent_confidence;
	out->urgency = sg_urgency_name(r->c.urgency);
	out->sentiment = sg_sentiment_name(r->c.sentiment);
	out->sentiment_confidence = r->c.sentiment_confidence;
	out->frustration = r->c.frustration;
	out->churn_risk = r->c.churn_risk;
	out->escalation_likelihood = r->c.escalation_likelihood;
	out->language = sg_arena_strdup(&r->arena, r->c.language);
	out->language_confidence = r->c.language_confidence;
	/* 3. an existing draft goes through the output scan; without one, and
	 * when the AI may draft at all, the built-in drafter writes one */
	if (t->draft_text && (rc = scan_draft(r, &in, err)) < 0)
		return rc;
	if (!t->draft_text && r->kb && may_draft(r, given) &&
	    (rc = generate_draft(r, &in, text, len, err)) < 0)
		return rc;
	if (r->draft_masked) {
		out->draft_text = r->draft_masked;
		for (size_t i = 0; i < t->ndraft_sources && i < SG_DECISION_MAX_SOURCES; i++)
			out->draft_sources[out->ndraft_sources++] = t->draft_sources[i];
	}
	/* 4. tier and band */
	enum sg_tier tier = tier_of(r);
	out->confidence_band = band_of(r);
	/* 5. SOP workflows */
	sg_decide_sops(r);
	if (r->sop_review) {
		reason(r, "sops.on_error", NULL, 0, "an SOP step failed: flagged for manual review");
		g.fired++;
	}
	/* 6. the gate: the tier's default, raised by gate rules and the never list */
	const struct sg_pnode *gates = sg_policy_section(p, "gates");
	int base = sg_gate_parse(sg_pnode_str(sg_pnode_get(gates, "by_tier"), sg_tier_name(tier),
					      sg_pnode_str(gates, "default", "agent_review")));
	g.gate = base < 0 ? SG_GATE_AGENT_REVIEW : (enum sg_gate)base;
	gate_rules(r, &g);
	if (r->sop_review)
		raise_gate(&g, SG_GATE_AGENT_REVIEW);
	/* 7. escalation matrix: the first row that matches */
	const struct sg_policy_rule *esc = escalate(r, &cite);
	if (esc) {
		out->escalated = 1;
		out->escalation_reason = esc->reason ? esc->reason : esc->name;
		out->escalation_trigger_type = esc->trigger_type ? esc->trigger_type : "rule";
		out->escalation.owner = esc->owner;
		out->escalation.channel = esc->channel;
		out->escalation.sla_minutes = (int)(esc->sla_seconds / 60);
		out->escalation.rule = esc->name;
		reason(r, esc->name, esc->file, esc->line, cite);
		raise_gate(&g, SG_GATE_AGENT_REVIEW);
		char *due = sg_arena_alloc(&r->arena, 25);
		if (due) {
			sg_time_iso(r->now_ms + (int64_t)(esc->sla_seconds * 1000), due);
			out->follow_up_due_at = due;
		}
		json_t *a = json_pack("{s:s, s:s?, s:s?, s:i, s:s?}", "kind", "escalate", "owner",
				      esc->owner, "channel", esc->channel, "sla_minutes",
				      out->escalation.sla_minutes, "due_at", out->follow_up_due_at);
		if (a)
			json_array_append_new(r->actions, a);
	}
	/* 8. below the classifier's minimum a human triages */
	int triage = r->c.intent_confidence < p->th.classifier_min;
	if (triage) {
		reason(r, "classifier-min-confidence", NULL, 0,
		       sg_arena_printf(&r->arena, "intent_confidence = %.2f < %.2f",
				       r->c.intent_confidence, p->th.classifier_min));
		raise_gate(&g, SG_GATE_HUMAN_ONLY);
	}
	/* 9. where it goes, and whether the AI may act there */
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	if (triage)
		out->routed_queue = r->e->triage_queue;
	else if (esc && esc->queue)
		out->routed_queue = esc->queue;
	else if (r->sop_queue)
		out->routed_queue = r->sop_queue;
	else if (g.queue)
		out->routed_queue = g.queue;
	else if (it && it->queue)
		out->routed_queue = it->queue;
	else
		out->routed_queue = r->e->triage_queue;
	permissions(r, &g, out->routed_queue);
	if (r->unsupported || (r->generated && !strncmp(r->draft_masked, "ESCALATE", 8)))
		raise_gate(&g, SG_GATE_AGENT_REVIEW), g.fired++;
	/* 10. auto-send only when every condition holds */
	const char *why = NULL;
	if (g.gate <= SG_GATE_AGENT_REVIEW && !triage && auto_send_ok(r, &g, tier, &why)) {
		if (sg_engine_qa_paused(r->e, r->c.intent)) {
			raise_gate(&g, SG_GATE_AGENT_REVIEW);
			reason(r, "qa.pause", NULL, 0,
			       sg_arena_printf(&r->arena, "auto-send for intent %s is paused by "
					       "the QA loop until a human lifts it", r->c.intent));
		} else {
			g.gate = SG_GATE_AUTO_SEND;
			reason(r, "gates.auto_send", NULL, 0, why);
		}
	}
	/* 11. what the AI may do */
	out->ai_mode = "draft_reply";
	if (tier == SG_TIER_HIGH || g.gate == SG_GATE_HUMAN_ONLY || triage ||
	    r->c.intent_confidence < p->th.summarize_below || !strcmp(out->confidence_band, "low"))
		out->ai_mode = "summarize_only";
	const json_t *gk = given ? json_object_get(given, "kill_switch") : NULL;
	if (!strcmp(out->ai_mode, "draft_reply") && !budget_ok(r)) {
		const char *m = p->budgets.on_exceeded ? p->budgets.on_exceeded : "summarize_only";
		out->ai_mode = "summarize_only";
		if (!strcmp(m, "human_only"))
			raise_gate(&g, SG_GATE_HUMAN_ONLY);
		if (g.gate == SG_GATE_AUTO_SEND)
			g.gate = SG_GATE_AGENT_REVIEW;
	}
	if (p->kill_switch || json_is_true(gk)) {
		out->ai_mode = "summarize_only";
		reason(r, "kill-switch", NULL, 0, "the kill switch forces summarize-only");
		if (g.gate == SG_GATE_AUTO_SEND)
			g.gate = SG_GATE_AGENT_REVIEW;
	}
	if (r->draft_failed && !strcmp(out->ai_mode, "draft_reply"))
		out->ai_mode = "summarize_only";
	if (g.gate == SG_GATE_AUTO_SEND && !strcmp(out->ai_mode, "summarize_only"))
		g.gate = SG_GATE_AGENT_REVIEW;
	if (r->generated && strcmp(out->ai_mode, "draft_reply")) {
		r->draft_masked = NULL; /* drafted, but the AI may only summarize */
		out->draft_text = NULL;
		out->ndraft_sources = 0;
		out->model_name = out->prompt_template_version = NULL;
	}
	if (r->budget_exceeded && p->budgets.on_exceeded && !strcmp(p->budgets.on_exceeded, "human_only"))
		raise_gate(&g, SG_GATE_HUMAN_ONLY);
	out->ai_used = 1;
	if (!strcmp(out->ai_mode, "summarize_only"))
		summarize(r, text, len, p->kill_switch || json_is_true(gk));
	out->gate = sg_gate_name(g.gate);
	out->approval_required = g.gate != SG_GATE_AUTO_SEND;
	out->approval_outcome = out->approval_required ? "pending" : "not_required";
	out->ai_draft_sent = g.gate == SG_GATE_AUTO_SEND && r->draft_masked && !g.send_blocked &&
			     strcmp(out->guardrail_action, "blocked");
	if (g.send_blocked && strcmp(out->guardrail_action, "blocked"))
		out->guardrail_action = "blocked";
	if (g.fired)
		out->guardrail_triggered = out->guardrail_triggered || g.send_blocked;
	if (!out->escalated && g.gate == SG_GATE_SENIOR_REVIEW && g.channel) {
		out->escalation.channel = g.channel;
		out->escalation.sla_minutes = (int)(g.sla_seconds / 60);
	}
	out->next_action = next_action(g.gate);
	out->resolution_code = out->escalated ? "escalated"
			       : g.gate == SG_GATE_AUTO_SEND ? "ai_reply"
							     : "pending_human";
	out->csat_requested = out->ai_draft_sent;
	prompt_fields(r);
	return 0;
}
