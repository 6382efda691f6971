/*
 * sop.c - the SOP workflow interpreter: triggers, lookups (over HTTP when
 * the policy's `lookups` section names the record kind, else through the
 * file connector, a folder of JSON records), if/then/else, and actions
 * queued for the outbox. Every executed step is cited in the decision's
 * sop_steps with the values it saw. A failed lookup follows the step's
 * on_error: by default the ticket is flagged for manual review and the
 * workflow goes on, as the reference SOP asks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "connectors/lookup.h"
#include "decide/engine_int.h"
#include "core/banned.h"

#define SG_MAX_SOP_DEPTH 8 /* nested if/then/else levels */

static const struct {
	const char *lookup, *folder;
} folders[] = {
	{"crm.account", "accounts"},
	{"crm.order", "orders"},
	{"tms.shipment", "shipments"},
	{"billing.transaction", "transactions"},
};

static void step(struct sg_decide_run *r, const char *sop, const char *name,
		 const char *kind, const char *detail, const char *status)
{
	struct sg_step s = {sop, name, ++r->sop_step_no, kind, detail, status};
	sg_decision_add_step(r->d, &s);
}

/* A key may only name a record file: no path separators or dot-files. */
static int safe_key(const char *k)
{
	if (!k[0] || k[0] == '.' || strlen(k) > 100)
		return 0;
	for (const char *p = k; *p; p++)
		if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20)
			return 0;
	return 1;
}

/* A record file, parsed once per engine and kept while its modification
 * time stays the same. Returns a new reference, or NULL. */
static json_t *load_record(struct sg_engine *e, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	long long mtime = (long long)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	json_t *rec = NULL;
	pthread_mutex_lock(&e->records_lock);
	for (size_t i = 0; i < e->nrecords; i++)
		if (!strcmp(e->records[i].path, path)) {
			if (e->records[i].mtime_ns == mtime)
				rec = json_incref(e->records[i].record);
			break;
		}
	pthread_mutex_unlock(&e->records_lock);
	if (rec)
		return rec;
	json_error_t je;
	rec = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!rec || !json_is_object(rec)) {
		json_decref(rec);
		return NULL;
	}
	char *copy = sg_strdup(path);
	if (!copy)
		return rec;
	pthread_mutex_lock(&e->records_lock);
	size_t slot = e->nrecords;
	for (size_t i = 0; i < e->nrecords; i++)
		if (!strcmp(e->records[i].path, path))
			slot = i;
	if (slot == e->nrecords && e->nrecords == SG_RECORD_CACHE)
		slot = e->next_evict++ % SG_RECORD_CACHE; /* full: replace in turn */
	if (slot < e->nrecords) {
		sg_free(e->records[slot].path);
		json_decref(e->records[slot].record);
	} else {
		e->nrecords++;
	}
	e->records[slot].path = copy;
	e->records[slot].record = json_incref(rec);
	e->records[slot].mtime_ns = mtime;
	pthread_mutex_unlock(&e->records_lock);
	return rec;
}

/* A failed lookup: cited, then the step's on_error. Returns 1 when the
 * workflow must stop. */
static int lookup_failed(struct sg_decide_run *r, const char *sop, const char *name,
			 const struct sg_pnode *s, const char *what)
{
	const char *on_error = sg_pnode_str(s, "on_error", "review");
	int review = strcmp(on_error, "continue") != 0;
	if (review)
		r->sop_review = 1;
	step(r, sop, name, "lookup",
	     sg_arena_printf(&r->arena, "%s%s", what,
			     !review ? "; on_error continue" :
			     !strcmp(on_error, "stop") ? "; flagged for manual review, workflow stopped"
						       : "; flagged for manual review"),
	     "error");
	return !strcmp(on_error, "stop");
}

/* Cites a bound record: every mapped field of an HTTP lookup, or a few
 * scalar fields of a file record. */
static const char *cite_record(struct sg_decide_run *r, const char *head, const char *as,
			       json_t *rec, int all)
{
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_adds(&b, head);
	const char *k;
	json_t *val;
	int shown = 0;
	json_object_foreach(rec, k, val) {
		if (shown >= (all ? 16 : 4) || (!all && (!strcmp(k, "id") || !strcmp(k, "name"))))
			continue;
		if (json_is_string(val))
			sg_buf_addf(&b, "; %s.%s = %s", as, k, json_string_value(val));
		else if (json_is_number(val))
			sg_buf_addf(&b, "; %s.%s = %g", as, k, json_number_value(val));
		else if (json_is_boolean(val))
			sg_buf_addf(&b, "; %s.%s = %s", as, k, json_is_true(val) ? "true" : "false");
		else if (all && json_is_null(val))
			sg_buf_addf(&b, "; %s.%s = null", as, k);
		else
			continue;
		shown++;
	}
	const char *out = sg_arena_strndup(&r->arena, b.data, b.len);
	sg_buf_release(&b);
	return out;
}

/* Returns 1 when the workflow must stop (on_error: stop). */
static int lookup(struct sg_decide_run *r, const char *sop, const struct sg_pnode *s)
{
	const char *name = sg_pnode_str(s, "name", "lookup");
	const char *what = sg_pnode_str(s, "lookup", "");
	const char *as = sg_pnode_str(s, "as", what);
	const struct sg_pnode *key = sg_pnode_get(s, "key");
	const char *via = NULL;
	const struct sg_pnode *remote = sg_lookup_connector(r->e->policy, what, &via);
	const char *folder = NULL;
	char keybuf[128] = "", path[PATH_MAX + 256];
	struct sg_value v;
	json_t *rec = NULL;

	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
		if (!strcmp(folders[i].lookup, what))
			folder = folders[i].folder;
	if (key && key->expr && sg_expr_eval(key->expr, sg_decide_resolve, r, NULL, &v) == 0) {
		if (v.type == SG_V_STR)
			snprintf(keybuf, sizeof(keybuf), "%.*s", (int)v.len, v.str);
		else if (v.type == SG_V_NUM)
			snprintf(keybuf, sizeof(keybuf), "%.0f", v.num);
	}
	const char *keysrc = key ? sg_expr_source(key->expr) : "?";
	if (remote ? !keybuf[0] : (!folder || !safe_key(keybuf)))
		return lookup_failed(r, sop, name, s,
				     sg_arena_printf(&r->arena, "%s: no usable key (%s is %s)", what,
						     keysrc, keybuf[0] ? "not a record key" : "absent"));
	if (r->nbind >= SG_MAX_BINDINGS)
		return lookup_failed(r, sop, name, s,
				     sg_arena_printf(&r->arena, "%s %s = %s: over %d records in one decision",
						     what, keysrc, keybuf, SG_MAX_BINDINGS));
	if (remote) {
		struct sg_error e = SG_ERROR_INIT;
		if (sg_lookup_run(&rec, r->e->policy, what, keybuf, &e) < 0)
			return lookup_failed(r, sop, name, s,
					     sg_arena_printf(&r->arena, "%s %s = %s: %s", what, keysrc,
							     keybuf, e.msg));
	} else {
		snprintf(path, sizeof(path), "%s/%s/%s.json", r->e->records_dir, folder, keybuf);
		if (!(rec = load_record(r->e, path)))
			return lookup_failed(r, sop, name, s,
					     sg_arena_printf(&r->arena, "%s %s = %s: not found", what,
							     keysrc, keybuf));
	}
	r->bind[r->nbind].name = sg_arena_strdup(&r->arena, as);
	r->bind[r->nbind].record = rec;
	r->nbind++;
	/* cite the fields so the audit shows what the step saw */
	step(r, sop, name, "lookup",
	     cite_record(r, sg_arena_printf(&r->arena, "%s %s = %s%s", what, keysrc, keybuf,
					    remote ? sg_arena_printf(&r->arena, " (%s)", via)
						   : ""),
			 as, rec, remote != NULL),
	     "ok");
	return 0;
}

/* A fact safe to copy into an outside system: numbers, booleans and
 * identifier-like strings holding a letter (never a bare digit run, which
 * could be a card or account number, nor free text that could carry PII). */
static int safe_fact(json_t *v)
{
	if (json_is_number(v) || json_is_boolean(v))
		return 1;
	const char *s = json_string_value(v);
	int letter = 0;
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (const char *p = s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			letter = 1;
		else if (!(*p >= '0' && *p <= '9') && *p != '-' && *p != '_' && *p != '.')
			return 0;
	}
	return letter;
}

/* The case as an issue tracker should see it: the ticket, customer, the
 * classification, safe facts and every SOP step cited so far. Masked
 * text only: no raw body, name or e-mail. */
static json_t *case_context(struct sg_decide_run *r, const char *sop, const char *step_name)
{
	json_t *c = json_object(), *facts = json_object(), *steps = json_array();
	const char *k;
	json_t *v;
	json_object_set_new(c, "ticket_id", json_string(r->t->id));
	json_object_set_new(c, "sop", json_string(sop));
	json_object_set_new(c, "step", json_string(step_name));
	if (r->t->customer.id)
		json_object_set_new(c, "customer_id", json_string(r->t->customer.id));
	if (r->t->customer.tier)
		json_object_set_new(c, "customer_tier", json_string(r->t->customer.tier));
	if (r->c.intent)
		json_object_set_new(c, "intent", json_string(r->c.intent));
	json_object_set_new(c, "urgency", json_string(sg_urgency_name(r->c.urgency)));
	json_object_foreach(r->t->facts, k, v)
		if (safe_fact(v))
			json_object_set(facts, k, v);
	json_object_set_new(c, "facts", facts);
	for (size_t i = 0; i < r->d->nsteps; i++)
		json_array_append_new(steps, json_pack("{s:i, s:s, s:s, s:s}", "index",
						       r->d->steps[i].index, "name",
						       r->d->steps[i].name ? r->d->steps[i].name : "",
						       "detail", r->d->steps[i].detail ? r->d->steps[i].detail : "",
						       "status", r->d->steps[i].status ? r->d->steps[i].status : ""));
	json_object_set_new(c, "steps", steps);
	if (r->masked) {
		size_t n = strlen(r->masked);
		if (n > 1000) /* cut on a character boundary */
			for (n = 1000; n && ((unsigned char)r->masked[n] & 0xC0) == 0x80; n--)
				;
		json_object_set_new(c, "text", json_stringn(r->masked, n));
	}
	return c;
}

static void action(struct sg_decide_run *r, const char *sop, const struct sg_pnode *s)
{
	const char *name = sg_pnode_str(s, "name", "action");
	const char *kind = sg_pnode_str(s, "action", "");
	json_t *a = json_object();
	const char *detail;

	json_object_set_new(a, "kind", json_string(kind));
	json_object_set_new(a, "sop", json_string(sop));
	json_object_set_new(a, "step", json_string(name));
	if (!strcmp(kind, "create_issue")) {
		const char *summary = sg_decide_template(r, sg_pnode_str(s, "summary", ""));
		const char *project = sg_pnode_str(s, "project", "");
		const char *prio = sg_pnode_str(s, "priority", NULL);
		static const char *const by_urgency[] = {"Highest", "High", "Medium", "Low"};
		if (!prio)
			prio = by_urgency[r->c.urgency >= 0 && r->c.urgency <= 3 ? r->c.urgency : 2];
		const char *channel = sg_pnode_str(s, "channel", NULL);
		if (channel) /* the tracker: routes the action to its connector */
			json_object_set_new(a, "channel", json_string(channel));
		json_object_set_new(a, "project", json_string(project));
		json_object_set_new(a, "summary", json_string(summary));
		json_object_set_new(a, "priority", json_string(prio));
		json_object_set_new(a, "issue_type", json_string(sg_pnode_str(s, "issue_type", "Task")));
		json_object_set_new(a, "context", case_context(r, sop, name));
		detail = sg_arena_printf(&r->arena, "create issue in %s (priority %s): %s", project,
					 prio, summary);
	} else if (!strcmp(kind, "notify") || !strcmp(kind, "escalate")) {
		const char *to = sg_pnode_str(s, "to", "");
		const char *channel = sg_pnode_str(s, "channel", "");
		const char *msg = sg_decide_template(r, sg_pnode_str(s, "message", ""));
		double within = sg_pnode_num(s, "within", 0);
		char due[25] = "";
		if (within > 0)
			sg_time_iso(r->now_ms + (int64_t)(within * 1000), due);
		json_object_set_new(a, "to", json_string(to));
		json_object_set_new(a, "channel", json_string(channel));
		json_object_set_new(a, "message", json_string(msg));
		if (due[0])
			json_object_set_new(a, "due_at", json_string(due));
		detail = due[0] ? sg_arena_printf(&r->arena, "notify %s via %s within %.0f min (due %s)",
						  to, channel, within / 60, due)
				: sg_arena_printf(&r->arena, "notify %s via %s", to, channel);
	} else if (!strcmp(kind, "assign")) {
		const char *q = sg_pnode_str(s, "queue", "");
		r->sop_queue = sg_arena_strdup(&r->arena, q);
		json_object_set_new(a, "queue", json_string(q));
		detail = sg_arena_printf(&r->arena, "assign to queue %s", q);
	} else if (!strcmp(kind, "reply")) {
		const char *tmpl = sg_pnode_str(s, "template", "");
		json_object_set_new(a, "template", json_string(tmpl));
		detail = sg_arena_printf(&r->arena, "reply with template %s (subject to the gate)", tmpl);
	} else if (!strcmp(kind, "set_field")) {
		const char *field = sg_pnode_str(s, "field", "");
		const char *value = sg_decide_template(r, sg_pnode_str(s, "value", ""));
		json_object_set_new(a, "field", json_string(field));
		json_object_set_new(a, "value", json_string(value));
		detail = sg_arena_printf(&r->arena, "set %s = %s", field, value);
	} else {
		detail = sg_arena_printf(&r->arena, "unknown action '%s'", kind);
	}
	json_array_append_new(r->actions, a);
	step(r, sop, name, kind, detail, "ok");
}

/* Returns 1 when a step stopped the workflow. */
static int run_steps(struct sg_decide_run *r, const char *sop,
		     const struct sg_pnode *steps, int depth)
{
	if (!steps || steps->kind != SG_PN_LIST || depth > SG_MAX_SOP_DEPTH)
		return 0;
	for (size_t i = 0; i < steps->n; i++) {
		const struct sg_pnode *s = steps->items[i];
		const struct sg_pnode *cond = sg_pnode_get(s, "if");
		if (sg_pnode_get(s, "lookup")) {
			if (lookup(r, sop, s))
				return 1;
		} else if (cond) {
			const char *cite = NULL;
			struct sg_expr_trace tr = {.n = 0};
			struct sg_value v;
			int yes = 0;
			if (cond->expr && sg_expr_eval(cond->expr, sg_decide_resolve, r, &tr, &v) == 0)
				yes = sg_value_truthy(&v);
			struct sg_buf b = SG_BUF_INIT;
			sg_trace_format(&b, &tr);
			cite = sg_arena_printf(&r->arena, "%s -> %s", b.len ? b.data : sg_expr_source(cond->expr),
					       yes ? "then" : "else");
			sg_buf_release(&b);
			step(r, sop, sg_pnode_str(s, "name", "if"), "if", cite, "ok");
			if (run_steps(r, sop, sg_pnode_get(s, yes ? "then" : "else"), depth + 1))
				return 1;
		} else if (sg_pnode_get(s, "action")) {
			action(r, sop, s);
		}
	}
	return 0;
}

void sg_decide_sops(struct sg_decide_run *r)
{
	const struct sg_pnode *sops = r->e->policy->sops;
	if (!sops || sops->kind != SG_PN_MAP)
		return;
	for (size_t i = 0; i < sops->n; i++) {
		const struct sg_pnode *sop = sops->items[i];
		const struct sg_pnode *trig = sg_pnode_get(sop, "trigger");
		const char *cite = NULL;
		if (!trig || !sg_decide_eval(r, trig->expr, &cite))
			continue;
		sg_decision_add_reason(r->d, sg_arena_printf(&r->arena, "sops.%s", sops->keys[i]),
				       sg_arena_printf(&r->arena, "%s:%u", trig->file, trig->line),
				       cite);
		run_steps(r, sops->keys[i], sg_pnode_get(sop, "steps"), 0);
	}
}
