/*
 * store_test_util.c - fixtures shared by the store's unit tests (see
 * store_test_util.h): temporary databases on SQLite or PostgreSQL, direct
 * SQL, a filled-in ticket write and the audit-chain check.
 */
#include "store/store_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/json.h"
#include "core/banned.h"

static char dir[256];
const char *pg_base;

static int is_pg(const char *path)
{
	return !strncmp(path, "postgres", 8);
}

int store_test_init(void)
{
	pg_base = getenv("SOPGATE_TEST_STORE");
	if (pg_base && !*pg_base)
		pg_base = NULL;
	if (pg_base && !is_pg(pg_base)) {
		fprintf(stderr, "SOPGATE_TEST_STORE: expected postgres://.../postgres\n");
		return 2;
	}
	sg_json_init();
	return 0;
}

static PGconn *pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", url, PQerrorMessage(c));
	return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* A fresh database: a file under a temporary folder, or a new database
 * on the test's PostgreSQL server (out is then its URL). */
void tmp_db(char *out, size_t n, const char *name)
{
	if (pg_base) {
		char db[64], sql[160];
		size_t k = (size_t)snprintf(db, sizeof(db), "sgt_");
		for (const char *p = name; *p && *p != '.' && k + 1 < sizeof(db); p++)
			db[k++] = *p;
		db[k] = 0;
		PGconn *c = pg_connect(pg_base);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
		pg_exec(c, sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
		pg_exec(c, sql);
		PQfinish(c);
		const char *slash = strrchr(pg_base, '/');
		snprintf(out, n, "%.*s/%s", (int)(slash - pg_base), pg_base, db);
		return;
	}
	if (!dir[0]) {
		const char *base = getenv("SG_TEST_TMP");
		snprintf(dir, sizeof(dir), "%s/store-test-XXXXXX", base ? base : "/tmp");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(out, n, "%s/%s", dir, name);
	char side[600];
	unlink(out);
	snprintf(side, sizeof(side), "%s-wal", out);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", out);
	unlink(side);
}

void url_of(char *url, size_t n, const char *path)
{
	snprintf(url, n, "%s%s", is_pg(path) ? "" : "sqlite:", path);
}

const char *backend_name(void)
{
	return pg_base ? "postgres" : "sqlite";
}

struct sg_store *open_db(const char *path, const char *writer)
{
	char url[600];
	url_of(url, sizeof(url), path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	int rc = sg_store_open(&s, url, writer, &err);
	if (rc < 0)
		fail_msg("open: %s", err.msg);
	return s;
}

long count(const char *path, const char *sql)
{
	if (is_pg(path)) {
		PGconn *c = pg_connect(path);
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return n;
	}
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

void exec_sql(const char *path, const char *sql)
{
	if (is_pg(path)) {
		PGconn *c = pg_connect(path);
		pg_exec(c, sql);
		PQfinish(c);
		return;
	}
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

const struct sg_outbox_action two_actions[2] = {
	{"crm.patch", "hubspot", "{\"gate\":\"agent_review\"}", NULL},
	{"slack", "#refunds", "{\"text\":\"[EMAIL_1] asked for a refund\"}", NULL},
};
const struct sg_outbox_action bad_action[2] = {
	{"crm.patch", "hubspot", "{}", NULL},
	{NULL, "x", "{}", NULL}, /* kind is NOT NULL: fails after the rest */
};

void fill(struct sg_ticket_write *w, const char *ticket, const char *event,
	  char *decision, size_t n)
{
	memset(w, 0, sizeof(*w));
	snprintf(decision, n, "{\"helpdesk_ticket_id\":\"%s\",\"event\":\"%s\","
		 "\"gate\":\"agent_review\"}", ticket, event);
	w->ticket_id = ticket;
	w->event_id = event;
	w->event_json = "{\"id\":\"x\",\"body\":\"masked [EMAIL_1]\"}";
	w->decision_json = decision;
	w->gate = "agent_review";
	w->risk_tier = "medium";
	w->intent = "refund_request";
	w->queue = "billing";
	w->policy_version = "sha256:abc";
	w->actions = two_actions;
	w->nactions = 2;
}

/* Walks every chain and checks every anchor citation. */
int verify_ok(struct sg_store *s)
{
	struct sg_audit_verifier v;
	struct sg_error err = SG_ERROR_INIT;
	sg_audit_verify_init(&v, NULL, NULL);
	assert_int_equal(sg_store_audit_verify(s, &v, &err), 0);
	unsigned long problems = v.problems;
	sg_audit_verify_release(&v);
	return problems == 0;
}
