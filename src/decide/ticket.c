/*
 * ticket.c - parsing and checking ticket events (input contract v1).
 */
#include "decide/ticket.h"

#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

static const char *const channels[] = {"email", "chat", "in_app", "social", "voice", NULL};
static const char *const tiers[] = {"free", "starter", "paid", "premium", "enterprise", NULL};
static const char *const priorities[] = {"P0", "P1", "P2", "P3", NULL};
static const char *const roles[] = {"customer", "ai", "agent", NULL};

static int one_of(const char *v, const char *const *set, const char *path,
		  struct sg_error *err)
{
	for (int i = 0; set[i]; i++)
		if (!strcmp(v, set[i]))
			return 0;
	char list[160] = "";
	size_t n = 0;
	for (int i = 0; set[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", set[i]);
	return sg_error_set(err, SG_EINVALID, "field '%s': '%.60s' is not one of %s",
			    path, v, list);
}

static int parse_customer(struct sg_customer *c, json_t *obj, struct sg_error *err)
{
	int rc;
	c->present = 1;
	if ((rc = sg_json_str(obj, "id", "customer.id", 0, &c->id, err)) < 0 ||
	    (rc = sg_json_str(obj, "name", "customer.name", 0, &c->name, err)) < 0 ||
	    (rc = sg_json_str(obj, "email", "customer.email", 0, &c->email, err)) < 0 ||
	    (rc = sg_json_str(obj, "phone", "customer.phone", 0, &c->phone, err)) < 0 ||
	    (rc = sg_json_str(obj, "tier", "customer.tier", 0, &c->tier, err)) < 0 ||
	    (rc = sg_json_num(obj, "tenure_months", "customer.tenure_months", 0,
			      &c->tenure_months, err)) < 0 ||
	    (rc = sg_json_num(obj, "ltv", "customer.ltv", 0, &c->ltv, err)) < 0 ||
	    (rc = sg_json_num(obj, "contract_value", "customer.contract_value", 0,
			      &c->contract_value, err)) < 0 ||
	    (rc = sg_json_bool(obj, "vip", "customer.vip", 0, &c->vip, err)) < 0)
		return rc;
	if (c->tier && (rc = one_of(c->tier, tiers, "customer.tier", err)) < 0)
		return rc;
	if (c->ltv < 0)
		return sg_error_set(err, SG_EINVALID, "field 'customer.ltv': must not be negative");
	return 0;
}

static int parse_history(struct sg_ticket *t, json_t *arr, struct sg_arena *arena,
			 struct sg_error *err)
{
	size_t n = json_array_size(arr), skip = 0;
	if (n > SG_TICKET_MAX_HISTORY)
		skip = n - SG_TICKET_MAX_HISTORY; /* keep the most recent turns */
	t->history = sg_arena_calloc(arena, n - skip + 1, sizeof(*t->history));
	if (!t->history)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	for (size_t i = skip; i < n; i++) {
		json_t *turn = json_array_get(arr, i);
		char path[48];
		int rc;
		struct sg_turn *h = &t->history[t->nhistory];
		if (!json_is_object(turn))
			return sg_error_set(err, SG_EINVALID,
					    "field 'history[%zu]': expected an object, got %s", i,
					    sg_json_type_name(turn));
		snprintf(path, sizeof(path), "history[%zu].role", i);
		if ((rc = sg_json_str(turn, "role", path, 1, &h->role, err)) < 0 ||
		    (rc = one_of(h->role, roles, path, err)) < 0)
			return rc;
		snprintf(path, sizeof(path), "history[%zu].text", i);
		if ((rc = sg_json_str(turn, "text", path, 0, &h->text, err)) < 0)
			return rc;
		snprintf(path, sizeof(path), "history[%zu].intent", i);
		if ((rc = sg_json_str(turn, "intent", path, 0, &h->intent, err)) < 0)
			return rc;
		snprintf(path, sizeof(path), "history[%zu].rejected", i);
		if ((rc = sg_json_bool(turn, "rejected", path, 0, &h->rejected, err)) < 0)
			return rc;
		t->nhistory++;
	}
	return 0;
}

static int parse_draft(struct sg_ticket *t, json_t *d, struct sg_arena *arena,
		       struct sg_error *err)
{
	int rc;
	json_t *src = NULL;
	if ((rc = sg_json_str(d, "text", "draft.text", 1, &t->draft_text, err)) < 0 ||
	    (rc = sg_json_arr(d, "sources", "draft.sources", 0, &src, err)) < 0)
		return rc;
	if (!src)
		return 0;
	size_t n = json_array_size(src);
	t->draft_sources = sg_arena_calloc(arena, n + 1, sizeof(char *));
	if (!t->draft_sources)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(src, i);
		if (!json_is_string(s))
			return sg_error_set(err, SG_EINVALID,
					    "field 'draft.sources[%zu]': expected a string, got %s",
					    i, sg_json_type_name(s));
		t->draft_sources[t->ndraft_sources++] = json_string_value(s);
	}
	return 0;
}

int sg_ticket_from_json(struct sg_ticket *out, json_t *event,
			struct sg_arena *arena, struct sg_error *err)
{
	int rc;
	json_t *obj;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(event))
		return sg_error_set(err, SG_EINVALID, "ticket event: expected an object, got %s",
				    sg_json_type_name(event));
	out->json = json_incref(event);
	if ((rc = sg_json_str(event, "id", NULL, 1, &out->id, err)) < 0 ||
	    (rc = sg_json_str(event, "event_id", NULL, 0, &out->event_id, err)) < 0 ||
	    (rc = sg_json_str(event, "channel", NULL, 0, &out->channel, err)) < 0 ||
	    (rc = sg_json_str(event, "subject", NULL, 0, &out->subject, err)) < 0 ||
	    (rc = sg_json_str(event, "body", NULL, 1, &out->body, err)) < 0 ||
	    (rc = sg_json_str(event, "priority", NULL, 0, &out->priority, err)) < 0 ||
	    (rc = sg_json_str(event, "created_at", NULL, 0, &out->created_at, err)) < 0)
		goto fail;
	if (!out->id[0]) {
		rc = sg_error_set(err, SG_EINVALID, "field 'id': must not be empty");
		goto fail;
	}
	if (strlen(out->body) + (out->subject ? strlen(out->subject) : 0) > SG_MAX_TEXT_BYTES) {
		rc = sg_error_set(err, SG_ELIMIT, "field 'body': longer than %u bytes",
				  SG_MAX_TEXT_BYTES);
		goto fail;
	}
	if (!out->channel)
		out->channel = "email";
	else if ((rc = one_of(out->channel, channels, "channel", err)) < 0)
		goto fail;
	if (out->priority && (rc = one_of(out->priority, priorities, "priority", err)) < 0)
		goto fail;
	obj = NULL;
	if ((rc = sg_json_obj(event, "customer", NULL, 0, &obj, err)) < 0)
		goto fail;
	if (obj && (rc = parse_customer(&out->customer, obj, err)) < 0)
		goto fail;
	obj = NULL;
	if ((rc = sg_json_arr(event, "history", NULL, 0, &obj, err)) < 0)
		goto fail;
	if (obj && (rc = parse_history(out, obj, arena, err)) < 0)
		goto fail;
	if ((rc = sg_json_obj(event, "facts", NULL, 0, &out->facts, err)) < 0)
		goto fail;
	obj = NULL;
	if ((rc = sg_json_obj(event, "draft", NULL, 0, &obj, err)) < 0)
		goto fail;
	if (obj && (rc = parse_draft(out, obj, arena, err)) < 0)
		goto fail;
	if (!out->event_id) {
		/* No event id: the content itself identifies the event, so a
		 * retried delivery of the same payload is recognised. */
		char *dump = json_dumps(event, JSON_SORT_KEYS | JSON_COMPACT);
		char hex[SG_SHA256_HEX];
		if (!dump) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto fail;
		}
		sg_sha256_hex(dump, strlen(dump), hex);
		json_free_t free_fn;
		json_get_alloc_funcs(NULL, &free_fn);
		free_fn(dump);
		out->event_id = sg_arena_printf(arena, "sha256:%.32s", hex);
		if (!out->event_id) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	sg_ticket_release(out);
	return rc;
}

int sg_ticket_parse(struct sg_ticket *out, const char *text, size_t len,
		    struct sg_arena *arena, struct sg_error *err)
{
	json_t *v;
	memset(out, 0, sizeof(*out));
	int rc = sg_json_parse(&v, text, len, err);
	if (rc)
		return rc;
	rc = sg_ticket_from_json(out, v, arena, err);
	json_decref(v);
	return rc;
}

void sg_ticket_release(struct sg_ticket *t)
{
	if (t->json)
		json_decref(t->json);
	memset(t, 0, sizeof(*t));
}

const char *sg_ticket_text(const struct sg_ticket *t, struct sg_arena *arena,
			   size_t *len)
{
	const char *s;
	if (t->subject && t->subject[0])
		s = sg_arena_printf(arena, "%s\n\n%s", t->subject, t->body);
	else
		s = t->body;
	if (s && len)
		*len = strlen(s);
	return s;
}

json_t *sg_ticket_fact(const struct sg_ticket *t, const char *path)
{
	json_t *cur = t->facts;
	char key[128];
	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key) || !json_is_object(cur))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		cur = json_object_get(cur, key);
		path += n + (dot ? 1 : 0);
	}
	return cur;
}
