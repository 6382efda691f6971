/*
 * auth.c - roles and the built-in session table: console sessions keyed by
 * the SHA-256 of the cookie value (the cookie itself is never stored), each
 * with its CSRF token and expiry. Full table: expired entries are reused
 * first, then the one closest to expiry.
 */
#include "server/server_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/banned.h"

static const char *const role_names[] = {"none", "agent", "lead",
					 "specialist", "admin"};

const char *sg_role_name(enum sg_role role)
{
	if ((unsigned)role >= sizeof(role_names) / sizeof(role_names[0]))
		return "none";
	return role_names[role];
}

int sg_role_parse(enum sg_role *out, const char *name)
{
	for (unsigned i = SG_ROLE_AGENT; i <= SG_ROLE_ADMIN; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum sg_role)i;
			return 0;
		}
	return -SG_EINVALID;
}

struct sg_session_entry {
	char sid_hash[SG_SESSION_HASH_LEN]; /* "" when free */
	char csrf[SG_CSRF_LEN];
	struct sg_user user;
	int64_t expires_ms;
};

int sg_sessions_init(struct sg_sessions *s)
{
	s->n = 0;
	s->e = sg_calloc(SG_MAX_SESSIONS, sizeof(*s->e));
	if (!s->e)
		return -SG_ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void sg_sessions_release(struct sg_sessions *s)
{
	if (!s->e)
		return;
	/* wipe the CSRF tokens before the memory goes back */
	memset(s->e, 0, SG_MAX_SESSIONS * sizeof(*s->e));
	sg_free(s->e);
	s->e = NULL;
	pthread_mutex_destroy(&s->lock);
}

int sg_sessions_put(void *ctx, const char *sid_hash, const struct sg_user *user,
		    const char *csrf, int64_t expires_ms, struct sg_error *err)
{
	(void)err;
	struct sg_sessions *s = ctx;
	int64_t now = sg_now_ms();
	pthread_mutex_lock(&s->lock);
	struct sg_session_entry *slot = NULL;
	for (size_t i = 0; i < SG_MAX_SESSIONS; i++) {
		struct sg_session_entry *e = &s->e[i];
		if (!e->sid_hash[0] || e->expires_ms <= now) {
			slot = e;
			break;
		}
		if (!slot || e->expires_ms < slot->expires_ms)
			slot = e;
	}
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->sid_hash, sid_hash, SG_SESSION_HASH_LEN - 1);
	memcpy(slot->csrf, csrf, SG_CSRF_LEN - 1);
	slot->user = *user;
	slot->expires_ms = expires_ms;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sg_sessions_get(void *ctx, const char *sid_hash, struct sg_user *out,
		    char csrf[SG_CSRF_LEN], int64_t *expires_ms,
		    struct sg_error *err)
{
	struct sg_sessions *s = ctx;
	int rc = -SG_EUNAUTHORIZED;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < SG_MAX_SESSIONS; i++) {
		struct sg_session_entry *e = &s->e[i];
		if (e->sid_hash[0] && strcmp(e->sid_hash, sid_hash) == 0) {
			*out = e->user;
			memcpy(csrf, e->csrf, SG_CSRF_LEN);
			*expires_ms = e->expires_ms;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc)
		sg_error_set(err, SG_EUNAUTHORIZED, "session: unknown or ended");
	return rc;
}

int sg_sessions_del(void *ctx, const char *sid_hash, struct sg_error *err)
{
	(void)err;
	struct sg_sessions *s = ctx;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < SG_MAX_SESSIONS; i++)
		if (s->e[i].sid_hash[0] && strcmp(s->e[i].sid_hash, sid_hash) == 0)
			memset(&s->e[i], 0, sizeof(s->e[i]));
	pthread_mutex_unlock(&s->lock);
	return 0;
}
