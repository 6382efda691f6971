/*
 * store_users.c - the reviewers: users and their tokens (only a hash is
 * stored), console sessions, and onboarding reviewers whose sends a peer
 * approves; argument checks, then the backend's ops.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "store/store_int.h"
#include "core/banned.h"

/* ---- users ------------------------------------------------------------- */

int sg_store_role_valid(const char *role)
{
	static const char *const roles[] = {"agent", "lead", "specialist", "admin"};
	for (size_t i = 0; role && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(role, roles[i]))
			return 1;
	return 0;
}

/* The lookup key: the first 16 hex digits after the "sgt_" prefix. Only
 * the full token's hash proves possession; the key just finds the row. */
#define TOKEN_KEY_LEN 16

struct user_add {
	const char *actor, *name, *role, *prefix, *hash;
	unsigned flags;
};

static int user_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	struct user_add *u = arg;
	int rc = s->ops->user_insert(s, u->name, u->role, u->prefix, u->hash,
				     sg_now_ms(), err);
	if (rc < 0)
		return rc;
	if ((u->flags & SG_STORE_USER_ONBOARDING) &&
	    (rc = s->ops->onboarding_set(s, u->name, 1, err)) != 0)
		return rc < 0 ? rc : sg_error_set(err, SG_ESTORE, "user '%s' vanished", u->name);
	json_t *body = json_object();
	if (!body || sg_store_json_str(body, "name", u->name) || sg_store_json_str(body, "role", u->role) ||
	    ((u->flags & SG_STORE_USER_ONBOARDING) &&
	     json_object_set_new(body, "onboarding", json_true()))) {
		json_decref(body);
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	}
	rc = sg_store_append_audit(s, u->actor, "user.add", NULL, body, err);
	json_decref(body);
	return rc;
}

int sg_store_user_add(struct sg_store *s, const char *actor, const char *name,
		      const char *role, char token[SG_TOKEN_LEN], struct sg_error *err)
{
	return sg_store_user_add_opts(s, actor, name, role, 0, token, err);
}

int sg_store_user_add_opts(struct sg_store *s, const char *actor, const char *name,
			   const char *role, unsigned flags, char token[SG_TOKEN_LEN],
			   struct sg_error *err)
{
	token[0] = 0;
	int rc = sg_store_check_name("user name", name, err);
	if (rc < 0)
		return rc;
	if (strlen(name) >= sizeof(((struct sg_store_user *)0)->name))
		return sg_error_set(err, SG_EINVALID, "user name is too long");
	for (const char *p = name; *p; p++)
		if (*p == ' ' || *p == '\t')
			return sg_error_set(err, SG_EINVALID,
					    "user name '%s' contains a space", name);
	if (!sg_store_role_valid(role))
		return sg_error_set(err, SG_EINVALID, "role '%s' is not one of agent, "
				    "lead, specialist, admin", role ? role : "");
	uint8_t raw[32];
	char hex[65], hash[SG_SHA256_HEX], key[TOKEN_KEY_LEN + 1];
	if (sg_random_bytes(raw, sizeof(raw)) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for a token");
	sg_hex(raw, sizeof(raw), hex);
	char tok[SG_TOKEN_LEN];
	snprintf(tok, sizeof(tok), "%s%s", SG_TOKEN_PREFIX, hex);
	snprintf(key, sizeof(key), "%.*s", TOKEN_KEY_LEN, hex);
	sg_sha256_hex(tok, strlen(tok), hash);
	struct user_add u = {actor ? actor : "sopgate", name, role, key, hash, flags};
	if ((rc = sg_store_in_tx(s, user_fn, &u, err)) < 0)
		return rc;
	memcpy(token, tok, sizeof(tok));
	return 0;
}

int sg_store_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		       void *ctx, struct sg_error *err)
{
	return s->ops->user_list(s, fn, ctx, err);
}

int sg_store_token_verify(struct sg_store *s, const char *token, struct sg_store_user *out,
			  struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t plen = strlen(SG_TOKEN_PREFIX);
	if (!token || strlen(token) != SG_TOKEN_LEN - 1 ||
	    strncmp(token, SG_TOKEN_PREFIX, plen))
		return sg_error_set(err, SG_EUNAUTHORIZED, "malformed token");
	for (const char *p = token + plen; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return sg_error_set(err, SG_EUNAUTHORIZED, "malformed token");
	char key[TOKEN_KEY_LEN + 1], want[SG_SHA256_HEX], stored[SG_SHA256_HEX] = "";
	snprintf(key, sizeof(key), "%.*s", TOKEN_KEY_LEN, token + plen);
	sg_sha256_hex(token, strlen(token), want);
	struct sg_store_user u;
	int rc = s->ops->user_by_prefix(s, key, &u, stored, err);
	if (rc < 0)
		return rc;
	if (rc == 1 || strlen(stored) != SG_SHA256_HEX - 1 ||
	    !sg_ct_equal(want, stored, SG_SHA256_HEX - 1))
		return sg_error_set(err, SG_EUNAUTHORIZED, "unknown or revoked token");
	*out = u;
	return 0;
}

/* ---- sessions ---------------------------------------------------------- */

static int check_hash(const char *what, const char *h, struct sg_error *err)
{
	if (!h || strlen(h) != SG_SHA256_HEX - 1)
		return sg_error_set(err, SG_EINVALID, "%s must be 64 hex digits", what);
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return sg_error_set(err, SG_EINVALID, "%s must be 64 hex digits", what);
	return 0;
}

int sg_store_session_put(struct sg_store *s, const char *sid_hash, const char *user,
			 const char *csrf, int64_t expires_ms, struct sg_error *err)
{
	int rc;
	if ((rc = check_hash("session id hash", sid_hash, err)) < 0 ||
	    (rc = sg_store_check_name("user", user, err)) < 0)
		return rc;
	if (!csrf || strlen(csrf) >= SG_STORE_CSRF_LEN)
		return sg_error_set(err, SG_EINVALID, "CSRF token missing or too long");
	return s->ops->session_put(s, sid_hash, user, csrf, sg_now_ms(), expires_ms, err);
}

int sg_store_session_get(struct sg_store *s, const char *sid_hash, int64_t now_ms,
			 struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			 int64_t *expires_ms, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	csrf[0] = 0;
	*expires_ms = 0;
	if (check_hash("session id hash", sid_hash, NULL) < 0)
		return sg_error_set(err, SG_EUNAUTHORIZED, "malformed session");
	int rc = s->ops->session_get(s, sid_hash, out, csrf, expires_ms, err);
	if (rc < 0)
		return rc;
	if (rc == 1 || *expires_ms <= now_ms) {
		memset(out, 0, sizeof(*out));
		csrf[0] = 0;
		return sg_error_set(err, SG_EUNAUTHORIZED, rc == 1 ? "unknown session"
				    : "session expired");
	}
	return 0;
}

int sg_store_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	int rc = check_hash("session id hash", sid_hash, err);
	return rc < 0 ? rc : s->ops->session_del(s, sid_hash, err);
}

/* ---- onboarding reviewers --------------------------------------------- */

int sg_store_user_onboarding(struct sg_store *s, const char *name,
			     struct sg_store_onboarding *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = sg_store_check_name("user", name, err);
	if (rc < 0)
		return rc;
	if ((rc = s->ops->onboarding_get(s, name, out, err)) == 1)
		return sg_error_set(err, SG_ENOTFOUND, "user '%s' not found", name);
	return rc;
}

struct onboarding_set {
	const char *actor, *name;
	int on;
};

static int onboarding_fn(struct sg_store *s, void *arg, struct sg_error *err)
{
	struct onboarding_set *o = arg;
	int rc = s->ops->onboarding_set(s, o->name, o->on, err);
	if (rc == 1)
		return sg_error_set(err, SG_ENOTFOUND, "user '%s' not found", o->name);
	if (rc < 0)
		return rc;
	json_t *body = json_object();
	if (!body || sg_store_json_str(body, "name", o->name) ||
	    json_object_set_new(body, "onboarding", json_boolean(o->on))) {
		json_decref(body);
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	}
	rc = sg_store_append_audit(s, o->actor, "user.onboarding", NULL, body, err);
	json_decref(body);
	return rc;
}

int sg_store_user_onboarding_set(struct sg_store *s, const char *actor,
				 const char *name, int on, struct sg_error *err)
{
	int rc = sg_store_check_name("user", name, err);
	if (rc < 0)
		return rc;
	struct onboarding_set o = {actor ? actor : "sopgate", name, on ? 1 : 0};
	return sg_store_in_tx(s, onboarding_fn, &o, err);
}

int sg_store_peer_review(struct sg_store *s, const char *decision_id,
			 struct sg_store_peer_review *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = sg_store_check_name("decision_id", decision_id, err);
	return rc < 0 ? rc : s->ops->peer_review_get(s, decision_id, out, err);
}
