/*
 * set.c - the connectors one policy defines: built from `connectors:` and
 * `outbox:`, secrets read from the environment, and the routing of an
 * outbox action (payload "connector", channel, channel kind, `actions`).
 */
#include "connectors/connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "policy/policy.h"
#include "core/banned.h"

static const struct {
	const char *name;
	unsigned bit;
} action_bits[] = {
	{"create_issue", SG_CONN_ACT_CREATE_ISSUE}, {"notify", SG_CONN_ACT_NOTIFY},
	{"escalate", SG_CONN_ACT_ESCALATE},         {"reply", SG_CONN_ACT_REPLY},
	{"set_field", SG_CONN_ACT_SET_FIELD},
};

static unsigned action_bit(const char *kind)
{
	for (size_t i = 0; i < sizeof(action_bits) / sizeof(action_bits[0]); i++)
		if (kind && !strcmp(kind, action_bits[i].name))
			return action_bits[i].bit;
	return 0;
}

/* Reads one secret variable; required ones must be set and non-empty. */
static int secret(char **out, const struct sg_connector *c, const char *key,
		  const char *var, int required, struct sg_error *err)
{
	*out = NULL;
	if (!var) {
		if (required)
			return sg_error_set(err, SG_EPOLICY, "connector '%s' (%s): `%s` is required",
					    c->cfg.name, c->cfg.type, key);
		return 0;
	}
	const char *v = getenv(var);
	if (!v || !*v) {
		if (required)
			return sg_error_set(err, SG_EINVALID,
					    "connector '%s': environment variable %s (%s) is not set",
					    c->cfg.name, var, key);
		return 0;
	}
	*out = sg_strdup(v);
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

static int64_t ms_of(const struct sg_pnode *n, const char *key, int64_t def)
{
	double v = sg_pnode_num(n, key, -1);
	return v < 0 ? def : (int64_t)(v * 1000);
}

int sg_connectors_build(struct sg_connectors **out, const struct sg_policy *p,
			struct sg_error *err)
{
	int rc = 0;
	*out = NULL;
	struct sg_connectors *cs = sg_calloc(1, sizeof(*cs));
	if (!cs)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	cs->policy = p;
	const struct sg_pnode *ob = sg_policy_section(p, "outbox");
	cs->max_attempts = (int)sg_pnode_num(ob, "max_attempts", 8);
	cs->backoff_ms = ms_of(ob, "backoff", 2000);
	cs->max_backoff_ms = ms_of(ob, "max_backoff", 15 * 60 * 1000);
	cs->lease_ms = ms_of(ob, "lease", 2 * 60 * 1000);
	cs->poll_ms = ms_of(ob, "poll", 1000);
	cs->concurrency = (int)sg_pnode_num(ob, "concurrency", 8);
	if (cs->max_attempts < 1)
		cs->max_attempts = 1;
	if (cs->concurrency < 1)
		cs->concurrency = 1;
	if (cs->concurrency > 256)
		cs->concurrency = 256;
	if (cs->poll_ms < 10)
		cs->poll_ms = 10;

	const struct sg_pnode *sec = sg_policy_section(p, "connectors");
	size_t n = sec && sec->kind == SG_PN_MAP ? sec->n : 0;
	if (n > SG_CONN_MAX) {
		rc = sg_error_set(err, SG_ELIMIT, "policy defines %zu connectors (at most %d)", n,
				  SG_CONN_MAX);
		goto cleanup;
	}
	if (n && !(cs->v = sg_calloc(n, sizeof(*cs->v)))) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sg_pnode *node = sec->items[i];
		struct sg_connector *c = &cs->v[cs->n];
		struct sg_conn_config *cfg = &c->cfg;
		cfg->name = sec->keys[i];
		cfg->type = sg_pnode_str(node, "type", "");
		cfg->base_url = sg_pnode_str(node, "base_url", NULL);
		cfg->token_env = sg_pnode_str(node, "token_env", NULL);
		cfg->user_env = sg_pnode_str(node, "user_env", NULL);
		cfg->secret_env = sg_pnode_str(node, "secret_env", NULL);
		cfg->timeout_ms = ms_of(node, "timeout", 10000);
		cfg->connect_timeout_ms = ms_of(node, "connect_timeout", 5000);
		cfg->max_attempts = (int)sg_pnode_num(node, "max_attempts", 0);
		cfg->record = sg_pnode_bool(node, "record", 0);
		cfg->node = node;
		const struct sg_pnode *acts = sg_pnode_get(node, "actions");
		for (size_t k = 0; acts && acts->kind == SG_PN_LIST && k < acts->n; k++)
			cfg->actions |= action_bit(acts->items[k]->text);
		c->ops = sg_connector_ops_find(cfg->type);
		if (!c->ops) {
			rc = sg_error_set(err, SG_EPOLICY, "connector '%s': unknown type '%s'",
					  cfg->name, cfg->type);
			goto cleanup;
		}
		cs->n++;
		unsigned f = c->ops->flags;
		if ((f & SG_CONN_F_NEEDS_URL) && !cfg->base_url) {
			rc = sg_error_set(err, SG_EPOLICY, "connector '%s' (%s): `base_url` is required",
					  cfg->name, cfg->type);
			goto cleanup;
		}
		if ((rc = secret(&c->token, c, "token_env", cfg->token_env,
				 (f & SG_CONN_F_NEEDS_TOKEN) != 0, err)) < 0 ||
		    (rc = secret(&c->user, c, "user_env", cfg->user_env, cfg->user_env != NULL,
				 err)) < 0 ||
		    (rc = secret(&c->secret, c, "secret_env", cfg->secret_env,
				 (f & SG_CONN_F_NEEDS_SECRET) != 0, err)) < 0)
			goto cleanup;
		if (c->ops->init && (rc = c->ops->init(c, err)) < 0)
			goto cleanup;
	}
	*out = cs;
	return 0;
cleanup:
	sg_connectors_free(cs);
	return rc;
}

void sg_connectors_free(struct sg_connectors *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		struct sg_connector *c = &cs->v[i];
		if (c->ops && c->ops->release)
			c->ops->release(c);
		sg_free(c->token);
		sg_free(c->user);
		sg_free(c->secret);
	}
	sg_free(cs->v);
	sg_free(cs);
}

const struct sg_connector *sg_connectors_find(const struct sg_connectors *cs, const char *name)
{
	for (size_t i = 0; cs && name && i < cs->n; i++)
		if (!strcmp(cs->v[i].cfg.name, name))
			return &cs->v[i];
	return NULL;
}

/* The connector types a channel kind may use. */
static int kind_fits(const char *channel_kind, const char *type)
{
	static const struct {
		const char *kind, *type;
	} fits[] = {
		{"slack", "slack"},     {"pagerduty", "pagerduty"}, {"email", "smtp"},
		{"webhook", "webhook"}, {"jira", "jira"},
	};
	for (size_t i = 0; i < sizeof(fits) / sizeof(fits[0]); i++)
		if (!strcmp(fits[i].kind, channel_kind) && !strcmp(fits[i].type, type))
			return 1;
	return 0;
}

const struct sg_connector *sg_connectors_route(const struct sg_connectors *cs,
					       struct sg_conn_item *it, const char **why)
{
	static __thread char msg[256];
	const struct sg_connector *c;
	*why = NULL;
	it->channel = json_string_value(json_object_get(it->payload, "channel"));
	it->channel_target = NULL;
	if (it->channel && !*it->channel)
		it->channel = NULL;

	const char *named = json_string_value(json_object_get(it->payload, "connector"));
	if (named) {
		if ((c = sg_connectors_find(cs, named)))
			return c;
		snprintf(msg, sizeof(msg), "connector '%s' is not defined in the policy", named);
		*why = msg;
		return NULL;
	}
	if (it->channel) {
		const struct sg_pnode *ch =
			sg_pnode_get(sg_policy_section(cs->policy, "channels"), it->channel);
		if (!ch) {
			snprintf(msg, sizeof(msg), "channel '%s' is not defined in the policy",
				 it->channel);
			*why = msg;
			return NULL;
		}
		it->channel_target = sg_pnode_str(ch, "target", NULL);
		const char *kind = sg_pnode_str(ch, "kind", "");
		const char *via = sg_pnode_str(ch, "connector", NULL);
		if (via) {
			if ((c = sg_connectors_find(cs, via)))
				return c;
			snprintf(msg, sizeof(msg), "channel '%s': connector '%s' is not defined",
				 it->channel, via);
			*why = msg;
			return NULL;
		}
		if (!strcmp(kind, "log"))
			return NULL; /* recorded on the decision only */
		const struct sg_connector *found = NULL;
		size_t nfit = 0;
		for (size_t i = 0; i < cs->n; i++)
			if (kind_fits(kind, cs->v[i].cfg.type)) {
				found = &cs->v[i];
				nfit++;
			}
		if (nfit == 1)
			return found;
		snprintf(msg, sizeof(msg),
			 nfit ? "channel '%s' (kind %s): several connectors fit; name one with "
				"`connector:` on the channel"
			      : "no connector for channel '%s' (kind %s)",
			 it->channel, kind);
		*why = msg;
		return NULL;
	}
	if (it->kind && !strcmp(it->kind, "assign"))
		return NULL; /* the queue is on the decision already */
	unsigned bit = action_bit(it->kind);
	for (size_t i = 0; bit && i < cs->n; i++)
		if (cs->v[i].cfg.actions & bit)
			return &cs->v[i];
	snprintf(msg, sizeof(msg), "no connector takes '%s' actions (list it in a connector's "
		 "`actions:`)", it->kind ? it->kind : "?");
	*why = msg;
	return NULL;
}

int sg_connectors_record_actions(const struct sg_policy *p, json_t *decision,
				 json_t *actions, struct sg_error *err)
{
	const struct sg_pnode *sec = sg_policy_section(p, "connectors");
	for (size_t i = 0; sec && sec->kind == SG_PN_MAP && i < sec->n; i++) {
		if (!sg_pnode_bool(sec->items[i], "record", 0))
			continue;
		json_t *a = json_pack("{s:s, s:s, s:O}", "kind", "record", "connector",
				      sec->keys[i], "decision", decision);
		if (!a || json_array_append_new(actions, a) < 0)
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		/* Zendesk: tags through their own endpoint, which adds instead
		 * of replacing */
		if (!strcmp(sg_pnode_str(sec->items[i], "type", ""), "zendesk")) {
			a = json_pack("{s:s, s:s, s:s, s:O}", "kind", "record", "connector",
				      sec->keys[i], "part", "tags", "decision", decision);
			if (!a || json_array_append_new(actions, a) < 0)
				return sg_error_set(err, SG_ENOMEM, "out of memory");
		}
	}
	return 0;
}
