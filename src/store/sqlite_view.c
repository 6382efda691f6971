/*
 * sqlite_view.c - the SQLite backend's console side: console users and
 * their sessions, the read views and the queue scan.
 */
#include "store/sqlite_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- users ---------------------------------------------------------- */

int sqlite_user_insert(struct sg_store *s, const char *name, const char *role,
		       const char *prefix, const char *hash, int64_t now_ms,
		       struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_USER_EXISTS, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc == SQLITE_ROW)
		return sg_error_set(err, SG_ECONFLICT, "user '%s' already exists", name);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "looking the user up");
	if (!(st = sqlite_stmt(q, ST_USER_INSERT, err)))
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, name);
	sqlite_bind_text(st, 2, role);
	sqlite_bind_text(st, 3, prefix);
	sqlite_bind_text(st, 4, hash);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "storing the user");
}

static void read_user(sqlite3_stmt *st, struct sg_store_user *u)
{
	snprintf(u->name, sizeof(u->name), "%s", sqlite_col_text(st, 0));
	snprintf(u->role, sizeof(u->role), "%s", sqlite_col_text(st, 1));
	u->created_ms = sqlite3_column_int64(st, 2);
}

int sqlite_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		     void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_USER_LIST, err);
	if (!st)
		return -SG_ESTORE;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_store_user u;
		read_user(st, &u);
		int frc = fn(&u, ctx);
		if (frc) {
			sqlite_done(st);
			return frc < 0 ? frc : 0;
		}
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "listing users");
}

int sqlite_user_by_prefix(struct sg_store *s, const char *prefix, struct sg_store_user *out,
			  char hash[SG_SHA256_HEX], struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_USER_PREFIX, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, prefix);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_user(st, out);
		snprintf(hash, SG_SHA256_HEX, "%s", sqlite_col_text(st, 3));
	}
	sqlite_done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : sqlite_fail(q, err, "looking the token up");
}

/* ---- sessions ------------------------------------------------------- */

int sqlite_session_put(struct sg_store *s, const char *sid_hash, const char *user,
		       const char *csrf, int64_t now_ms, int64_t expires_ms,
		       struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_SESSION_PUT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, sid_hash);
	sqlite_bind_text(st, 2, user);
	sqlite_bind_text(st, 3, csrf);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, expires_ms);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "storing the session");
}

int sqlite_session_get(struct sg_store *s, const char *sid_hash,
		       struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
		       int64_t *expires_ms, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_SESSION_GET, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, sid_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_user(st, out);
		snprintf(csrf, SG_STORE_CSRF_LEN, "%s", sqlite_col_text(st, 3));
		*expires_ms = sqlite3_column_int64(st, 4);
	}
	sqlite_done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : sqlite_fail(q, err, "reading the session");
}

int sqlite_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_SESSION_DEL, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, sid_hash);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "deleting the session");
}

/* ---- read views ----------------------------------------------------- */

/* Steps st, handing each row to fn; the statement is reset after. */
static int rows(struct sqlite_store *q, sqlite3_stmt *st, sg_store_row_fn fn, void *ctx,
		const char *what, struct sg_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_store_row r;
		r.ncol = sqlite3_column_count(st);
		if (r.ncol > SG_STORE_ROW_MAX)
			r.ncol = SG_STORE_ROW_MAX;
		for (int i = 0; i < r.ncol; i++) {
			/* the integer first: reading it converts nothing */
			r.num[i] = sqlite3_column_int64(st, i);
			r.text[i] = (const char *)sqlite3_column_text(st, i);
		}
		int frc = fn(&r, ctx);
		if (frc) {
			sqlite_done(st);
			return frc < 0 ? frc : 0;
		}
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, what);
}

_Static_assert(ST_QUEUE - ST_V_LATEST == SG_STORE_VIEW__COUNT,
	       "one V_ statement per store view, in enum order");

int sqlite_view(struct sg_store *s, enum sg_store_view v, const char *key,
		sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_V_LATEST + (int)v, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, key);
	return rows(q, st, fn, ctx, "reading the ticket view", err);
}

int sqlite_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
		      sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QUEUE, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, f->queue);
	sqlite_bind_text(st, 2, f->gate);
	sqlite_bind_text(st, 3, f->tier);
	return rows(q, st, fn, ctx, "reading the queue", err);
}
