/*
 * store_test_util.h - fixtures shared by the store's unit tests: a fresh
 * database per test (a SQLite file in a temporary folder, or a new
 * database on the PostgreSQL server named by SOPGATE_TEST_STORE), direct
 * SQL for checks behind the store's back, a ticket write to fill in and an
 * audit-chain check. Linked into test binaries only.
 */
#ifndef SG_STORE_TEST_UTIL_H
#define SG_STORE_TEST_UTIL_H

#include <stddef.h>

#include "store/store.h"

/* SOPGATE_TEST_STORE (postgres://.../postgres), or NULL for SQLite. */
extern const char *pg_base;

/* Reads SOPGATE_TEST_STORE and sets up JSON: call first in main().
 * Returns 0, or 2 (with a message on stderr) when it names no PostgreSQL
 * server. */
int store_test_init(void);

/* A fresh database: a file under a temporary folder, or a new database
 * on the test's PostgreSQL server (out is then its URL). */
void tmp_db(char *out, size_t n, const char *name);
/* The store URL of a tmp_db() path. */
void url_of(char *url, size_t n, const char *path);
/* "sqlite" or "postgres", as sg_store_backend() says it. */
const char *backend_name(void);
/* Opens (and migrates) the database at path; fails the test on error. */
struct sg_store *open_db(const char *path, const char *writer);
/* The one number a "SELECT COUNT(*) ..." returns, read directly. */
long count(const char *path, const char *sql);
/* Runs one statement directly, behind the store's back. */
void exec_sql(const char *path, const char *sql);

/* Two good outbox actions; a list whose second action fails to insert. */
extern const struct sg_outbox_action two_actions[2];
extern const struct sg_outbox_action bad_action[2];

/* A ticket write of (ticket, event) with two actions; decision (n bytes)
 * receives its decision JSON. */
void fill(struct sg_ticket_write *w, const char *ticket, const char *event,
	  char *decision, size_t n);

/* Walks every chain and checks every anchor citation: 1 when all is well. */
int verify_ok(struct sg_store *s);

#endif
