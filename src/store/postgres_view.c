/*
 * postgres_view.c - the PostgreSQL backend's console side: console users
 * and their sessions, the read views and the queue scan.
 */
#include "store/postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- users ---------------------------------------------------------- */

int pg_user_insert(struct sg_store *s, const char *name, const char *role,
		   const char *prefix, const char *hash, int64_t now_ms,
		   struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	struct params p = {0};
	pg_param_text(&p, name);
	PGresult *res;
	int rc = pg_exec_st(q, ST_USER_EXISTS, &p, &res, err);
	if (rc < 0)
		return rc;
	int exists = PQntuples(res) > 0;
	PQclear(res);
	if (exists)
		return sg_error_set(err, SG_ECONFLICT, "user '%s' already exists", name);
	pg_param_text(&p, role);
	pg_param_text(&p, prefix);
	pg_param_text(&p, hash);
	pg_param_int(&p, now_ms);
	return pg_run(q, ST_USER_INSERT, &p, NULL, err);
}

static void read_user(const PGresult *res, int i, struct sg_store_user *u)
{
	snprintf(u->name, sizeof(u->name), "%s", pg_col_text(res, i, 0));
	snprintf(u->role, sizeof(u->role), "%s", pg_col_text(res, i, 1));
	u->created_ms = pg_col_int(res, i, 2);
}

int pg_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		 void *ctx, struct sg_error *err)
{
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_USER_LIST, NULL, &res, err);
	if (rc < 0)
		return rc;
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++) {
		struct sg_store_user u;
		read_user(res, i, &u);
		frc = fn(&u, ctx);
	}
	PQclear(res);
	return frc < 0 ? frc : 0;
}

int pg_user_by_prefix(struct sg_store *s, const char *prefix, struct sg_store_user *out,
		      char hash[SG_SHA256_HEX], struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, prefix);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_USER_PREFIX, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	read_user(res, 0, out);
	snprintf(hash, SG_SHA256_HEX, "%s", pg_col_text(res, 0, 3));
	PQclear(res);
	return 0;
}

/* ---- sessions ------------------------------------------------------- */

int pg_session_put(struct sg_store *s, const char *sid_hash, const char *user,
		   const char *csrf, int64_t now_ms, int64_t expires_ms,
		   struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, sid_hash);
	pg_param_text(&p, user);
	pg_param_text(&p, csrf);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, expires_ms);
	return pg_run(pg_of(s), ST_SESSION_PUT, &p, NULL, err);
}

int pg_session_get(struct sg_store *s, const char *sid_hash,
		   struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
		   int64_t *expires_ms, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, sid_hash);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_SESSION_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	read_user(res, 0, out);
	snprintf(csrf, SG_STORE_CSRF_LEN, "%s", pg_col_text(res, 0, 3));
	*expires_ms = pg_col_int(res, 0, 4);
	PQclear(res);
	return 0;
}

int pg_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, sid_hash);
	return pg_run(pg_of(s), ST_SESSION_DEL, &p, NULL, err);
}

/* ---- read views ----------------------------------------------------- */

static int rows(PGresult *res, sg_store_row_fn fn, void *ctx)
{
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++) {
		struct sg_store_row r;
		r.ncol = PQnfields(res);
		if (r.ncol > SG_STORE_ROW_MAX)
			r.ncol = SG_STORE_ROW_MAX;
		for (int c = 0; c < r.ncol; c++) {
			int null = PQgetisnull(res, i, c);
			r.text[c] = null ? NULL : PQgetvalue(res, i, c);
			r.num[c] = null ? 0 : strtoll(r.text[c], NULL, 10);
		}
		frc = fn(&r, ctx);
	}
	PQclear(res);
	return frc < 0 ? frc : 0;
}

int pg_view(struct sg_store *s, enum sg_store_view v, const char *key,
	    sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, key);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_V_LATEST + (int)v, &p, &res, err);
	return rc < 0 ? rc : rows(res, fn, ctx);
}

int pg_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
		  sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, f->queue);
	pg_param_text(&p, f->gate);
	pg_param_text(&p, f->tier);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_QUEUE, &p, &res, err);
	return rc < 0 ? rc : rows(res, fn, ctx);
}
