/*
 * postgres_ticket.c - the PostgreSQL backend's writes around a ticket: the
 * audit chain, ticket writes and decisions, human actions, the outbox and
 * escalations.
 */
#include "store/postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- audit ---------------------------------------------------------- */

int pg_audit_append(struct sg_store *s, struct sg_audit_record *r,
		    struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	PGresult *res;
	int rc;
	if (!r->chain[0])
		snprintf(r->chain, sizeof(r->chain), "%s", q->writer);
	struct params p = {0};
	pg_param_text(&p, r->chain);
	if ((rc = pg_run(q, ST_AUDIT_LOCK, &p, NULL, err)) < 0 ||
	    (rc = pg_exec_st(q, ST_AUDIT_HEAD, &p, &res, err)) < 0)
		return rc;
	if (PQntuples(res) > 0) {
		r->seq = pg_col_int(res, 0, 0) + 1;
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", pg_col_text(res, 0, 1));
	} else {
		r->seq = 1;
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", SG_AUDIT_GENESIS);
	}
	PQclear(res);
	if (!r->id[0] && sg_id_new(r->id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "audit: no randomness for an id");
	if (!r->created_ms)
		r->created_ms = sg_now_ms();
	if (sg_audit_hash(r, r->hash) < 0)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	struct params ins = {0};
	pg_param_text(&ins, r->id);
	pg_param_text(&ins, r->chain);
	pg_param_int(&ins, r->seq);
	pg_param_text(&ins, r->prev_hash);
	pg_param_text(&ins, r->hash);
	pg_param_int(&ins, r->created_ms);
	pg_param_text(&ins, r->actor);
	pg_param_text(&ins, r->action);
	pg_param_text(&ins, r->ticket_id);
	pg_param_text(&ins, r->body);
	return pg_run(q, ST_AUDIT_INSERT, &ins, NULL, err);
}

int pg_audit_anchor(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	struct sg_buf body = SG_BUF_INIT;
	PGresult *res;
	int rc = pg_exec_st(q, ST_AUDIT_HEADS, NULL, &res, err);
	if (rc < 0)
		return rc;
	sg_buf_adds(&body, "{\"heads\":[");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *chain = pg_col_text(res, i, 0);
		sg_buf_adds(&body, i == 0 ? "{\"chain\":" : ",{\"chain\":");
		sg_buf_add_json_str(&body, chain, strlen(chain));
		sg_buf_addf(&body, ",\"hash\":\"%s\",\"seq\":%lld}", pg_col_text(res, i, 2),
			    (long long)pg_col_int(res, i, 1));
	}
	PQclear(res);
	sg_buf_adds(&body, "]}");
	if (body.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "audit anchor: out of memory");
		goto cleanup;
	}
	struct sg_audit_record r = {0};
	snprintf(r.chain, sizeof(r.chain), "%s", SG_AUDIT_ANCHOR_CHAIN);
	snprintf(r.actor, sizeof(r.actor), "%s", q->writer);
	snprintf(r.action, sizeof(r.action), "anchor");
	r.body = body.data;
	rc = pg_audit_append(s, &r, err);
cleanup:
	sg_buf_release(&body);
	return rc;
}

static void read_record(const PGresult *res, int i, struct sg_audit_record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", pg_col_text(res, i, 0));
	snprintf(r->chain, sizeof(r->chain), "%s", pg_col_text(res, i, 1));
	r->seq = pg_col_int(res, i, 2);
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", pg_col_text(res, i, 3));
	snprintf(r->hash, sizeof(r->hash), "%s", pg_col_text(res, i, 4));
	r->created_ms = pg_col_int(res, i, 5);
	snprintf(r->actor, sizeof(r->actor), "%s", pg_col_text(res, i, 6));
	snprintf(r->action, sizeof(r->action), "%s", pg_col_text(res, i, 7));
	snprintf(r->ticket_id, sizeof(r->ticket_id), "%s", pg_col_text(res, i, 8));
	r->body = (char *)pg_col_text(res, i, 9);
}

/* Reads through a cursor, PG_SCAN_BATCH rows at a time, so memory stays
 * flat and fn may run other statements on this connection (the verifier
 * looks anchored heads up while it scans). */
#define PG_SCAN_BATCH 500
int pg_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
		  int (*fn)(const struct sg_audit_record *r, void *ctx),
		  void *ctx, struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	int rc = pg_ensure_conn(q, err), own_tx = !q->in_tx, frc = 0;
	if (rc < 0)
		return rc;
	if (own_tx && (rc = pg_begin(s, err)) < 0)
		return rc;
	char name[32], sql[700];
	snprintf(name, sizeof(name), "sg_scan%u", ++q->cursors);
	snprintf(sql, sizeof(sql), "DECLARE %s NO SCROLL CURSOR FOR %s", name,
		 pg_statement_sql[chain ? ST_AUDIT_SCAN_CHAIN : ST_AUDIT_SCAN]);
	struct params p = {0};
	if (chain)
		pg_param_text(&p, chain);
	pg_param_int(&p, since_ms);
	PGresult *res = PQexecParams(q->conn, sql, p.n, NULL, p.v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = pg_fail(q, res, err, "reading audit records");
		goto cleanup;
	}
	PQclear(res);
	snprintf(sql, sizeof(sql), "FETCH %d FROM %s", PG_SCAN_BATCH, name);
	for (;;) {
		res = PQexec(q->conn, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			rc = pg_fail(q, res, err, "reading audit records");
			goto cleanup;
		}
		int n = PQntuples(res);
		for (int i = 0; i < n && !frc; i++) {
			struct sg_audit_record r;
			read_record(res, i, &r);
			frc = fn(&r, ctx);
		}
		PQclear(res);
		if (frc || n < PG_SCAN_BATCH)
			break;
	}
	snprintf(sql, sizeof(sql), "CLOSE %s", name);
	rc = pg_exec_sql(q, sql, err);
cleanup:
	if (own_tx) {
		if (rc < 0)
			pg_rollback(s, NULL);
		else
			rc = pg_commit(s, err);
	}
	if (rc < 0)
		return rc;
	return frc < 0 ? frc : 0;
}

int pg_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		 struct sg_audit_record *out, struct sg_error *err)
{
	PGresult *res;
	struct params p = {0};
	pg_param_text(&p, chain);
	pg_param_int(&p, seq);
	int rc = pg_exec_st(pg_of(s), ST_AUDIT_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	read_record(res, 0, out);
	out->body = sg_strdup(out->body);
	out->body_owned = 1;
	PQclear(res);
	if (!out->body)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	return 0;
}

/* ---- tickets -------------------------------------------------------- */

static int load_existing(struct pg_store *q, struct sg_ticket_write *w,
			 struct sg_error *err)
{
	PGresult *res;
	struct params p = {0};
	pg_param_text(&p, w->ticket_id);
	pg_param_text(&p, w->event_id);
	int rc = pg_exec_st(q, ST_EVENT_DECISION, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return sg_error_set(err, SG_ESTORE, "postgres: the stored event of ticket '%s' "
				    "has no decision", w->ticket_id);
	}
	snprintf(w->decision_id, sizeof(w->decision_id), "%s", pg_col_text(res, 0, 0));
	w->stored_decision = sg_strdup(pg_col_text(res, 0, 1));
	PQclear(res);
	w->existed = 1;
	if (!w->stored_decision)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

int pg_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
		    struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	int64_t now = w->now_ms ? w->now_ms : sg_now_ms();
	int rc;
	long changed = 0;
	if (sg_id_new(w->decision_id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	struct params p = {0};
	pg_param_text(&p, w->ticket_id);
	pg_param_text(&p, w->event_id);
	pg_param_int(&p, now);
	pg_param_text(&p, w->event_json);
	pg_param_text(&p, w->decision_id);
	if ((rc = pg_run(q, ST_EVENT_INSERT, &p, &changed, err)) < 0)
		return rc;
	if (changed == 0)
		return load_existing(q, w, err);

	struct params d = {0};
	const char *cols[] = {w->decision_id, w->ticket_id, w->event_id, w->gate,
			      w->risk_tier, w->intent, w->queue, w->policy_version};
	for (int i = 0; i < 8; i++)
		pg_param_text(&d, cols[i]);
	pg_param_int(&d, now);
	pg_param_text(&d, w->decision_json);
	if ((rc = pg_run(q, ST_DECISION_INSERT, &d, NULL, err)) < 0)
		return rc;

	struct params t = {0};
	pg_param_text(&t, w->ticket_id);
	pg_param_text(&t, w->state ? w->state : "open");
	pg_param_text(&t, w->decision_id);
	pg_param_int(&t, now);
	pg_param_int(&t, now);
	if ((rc = pg_run(q, ST_TICKET_UPSERT, &t, NULL, err)) < 0)
		return rc;

	for (size_t i = 0; i < w->nactions; i++) {
		const struct sg_outbox_action *a = &w->actions[i];
		char id[SG_ID_LEN], key[SG_ID_LEN + 24];
		if (sg_id_new(id) < 0)
			return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
		snprintf(key, sizeof(key), "%s:%zu", w->decision_id, i);
		struct params o = {0};
		pg_param_text(&o, id);
		pg_param_text(&o, w->ticket_id);
		pg_param_text(&o, a->kind);
		pg_param_text(&o, a->target);
		pg_param_text(&o, a->payload);
		pg_param_text(&o, a->idem_key ? a->idem_key : key);
		pg_param_int(&o, now);
		pg_param_int(&o, now);
		pg_param_int(&o, now);
		if ((rc = pg_run(q, ST_OUTBOX_INSERT, &o, NULL, err)) < 0)
			return rc;
	}
	return 0;
}

int pg_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
		       struct sg_error *err)
{
	*out = NULL;
	PGresult *res;
	struct params p = {0};
	pg_param_text(&p, ticket_id);
	int rc = pg_exec_st(pg_of(s), ST_TICKET_DECISION, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return sg_error_set(err, SG_ENOTFOUND, "ticket '%s' not found", ticket_id);
	}
	*out = sg_strdup(pg_col_text(res, 0, 0));
	PQclear(res);
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

int pg_human_action(struct sg_store *s, struct sg_human_action *a,
		    struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	int64_t now = a->now_ms ? a->now_ms : sg_now_ms();
	int rc;
	char id[SG_ID_LEN];
	a->draft_version = 0;
	if (a->draft_text) {
		PGresult *res;
		struct params p = {0};
		pg_param_text(&p, a->ticket_id);
		if ((rc = pg_exec_st(q, ST_DRAFT_NEXT, &p, &res, err)) < 0)
			return rc;
		a->draft_version = (int)pg_col_int(res, 0, 0);
		PQclear(res);
		struct params d = {0};
		pg_param_text(&d, a->ticket_id);
		pg_param_int(&d, a->draft_version);
		pg_param_text(&d, a->decision_id);
		pg_param_text(&d, a->user);
		pg_param_text(&d, a->draft_text);
		pg_param_text(&d, a->draft_diff);
		pg_param_int(&d, now);
		if ((rc = pg_run(q, ST_DRAFT_INSERT, &d, NULL, err)) < 0)
			return rc;
	}
	if (sg_id_new(id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	struct params p = {0};
	pg_param_text(&p, id);
	pg_param_text(&p, a->ticket_id);
	pg_param_text(&p, a->decision_id);
	pg_param_text(&p, a->user);
	pg_param_text(&p, a->role);
	pg_param_text(&p, a->action);
	pg_param_int(&p, a->step);
	pg_param_text(&p, a->note);
	pg_param_int(&p, now);
	return pg_run(q, ST_APPROVAL_INSERT, &p, NULL, err);
}

/* ---- outbox --------------------------------------------------------- */

int pg_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
		    int64_t lease_ms, unsigned max,
		    struct sg_outbox_item **out, size_t *n,
		    struct sg_error *err)
{
	*out = NULL;
	*n = 0;
	struct params p = {0};
	pg_param_text(&p, owner);
	pg_param_int(&p, now_ms + lease_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, max);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_OUTBOX_CLAIM, &p, &res, err);
	if (rc < 0)
		return rc;
	int rows = PQntuples(res);
	struct sg_outbox_item *items = sg_calloc(rows ? (size_t)rows : 1, sizeof(*items));
	if (!items) {
		PQclear(res);
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	}
	int oom = 0;
	for (int i = 0; i < rows; i++) {
		struct sg_outbox_item *it = &items[i];
		snprintf(it->id, sizeof(it->id), "%s", pg_col_text(res, i, 0));
		it->ticket_id = sg_strdup(pg_col_text(res, i, 1));
		it->kind = sg_strdup(pg_col_text(res, i, 2));
		it->target = sg_strdup(pg_col_text(res, i, 3));
		it->payload = sg_strdup(pg_col_text(res, i, 4));
		it->idem_key = sg_strdup(pg_col_text(res, i, 5));
		it->attempts = (int)pg_col_int(res, i, 6);
		if (!it->ticket_id || !it->kind || !it->target || !it->payload || !it->idem_key)
			oom = 1;
	}
	PQclear(res);
	if (oom) {
		/* the leases expire and the actions are claimed again */
		sg_store_outbox_items_free(items, (size_t)rows);
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	}
	*out = items;
	*n = (size_t)rows;
	return 0;
}

int pg_outbox_finish(struct sg_store *s, const char *id, const char *owner,
		     const char *state, int64_t retry_at_ms, int max_attempts,
		     const char *why, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, state);
	pg_param_int(&p, max_attempts);
	pg_param_int(&p, retry_at_ms);
	pg_param_text(&p, why);
	pg_param_int(&p, sg_now_ms());
	pg_param_text(&p, id);
	pg_param_text(&p, owner);
	long changed = 0;
	int rc = pg_run(pg_of(s), ST_OUTBOX_FINISH, &p, &changed, err);
	if (rc < 0)
		return rc;
	if (changed == 0)
		return sg_error_set(err, SG_ECONFLICT,
				    "outbox action '%s' is not leased to '%s' (lease "
				    "expired and taken, or already finished)", id, owner);
	return 0;
}

int pg_outbox_count(struct sg_store *s, const char *state, long *out,
		    struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, state);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_OUTBOX_COUNT, &p, &res, err);
	if (rc < 0)
		return rc;
	*out = (long)pg_col_int(res, 0, 0);
	PQclear(res);
	return 0;
}

static const char *col_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int pg_outbox_list(struct sg_store *s, const char *state, const char *id,
		   unsigned long limit,
		   int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
		   struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, state);
	pg_param_text(&p, id);
	if (limit)
		pg_param_int(&p, (int64_t)limit);
	else
		pg_param_text(&p, NULL); /* LIMIT NULL: no limit */
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_OUTBOX_LIST, &p, &res, err);
	if (rc < 0)
		return rc;
	int rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		struct sg_outbox_row r;
		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", pg_col_text(res, i, 0));
		r.ticket_id = col_null(res, i, 1);
		r.kind = col_null(res, i, 2);
		r.target = col_null(res, i, 3);
		r.idem_key = col_null(res, i, 4);
		r.state = col_null(res, i, 5);
		r.last_error = col_null(res, i, 6);
		r.attempts = (int)pg_col_int(res, i, 7);
		r.next_attempt_ms = pg_col_int(res, i, 8);
		r.created_ms = pg_col_int(res, i, 9);
		r.updated_ms = pg_col_int(res, i, 10);
		if (fn(&r, ctx))
			break;
	}
	PQclear(res);
	return 0;
}

int pg_outbox_retry(struct sg_store *s, const char *id, int64_t now_ms, long *n,
		    struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, now_ms);
	pg_param_text(&p, id);
	return pg_run(pg_of(s), ST_OUTBOX_RETRY, &p, n, err);
}

int pg_outbox_drop(struct sg_store *s, const char *id, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, id);
	long changed = 0;
	int rc = pg_run(pg_of(s), ST_OUTBOX_DROP, &p, &changed, err);
	if (rc < 0)
		return rc;
	return changed ? 0 : 1;
}

/* ---- escalations ---------------------------------------------------- */

int pg_escalation_open(struct sg_store *s, const char *id, const char *ticket_id,
		       int level, const char *owner, const char *channel,
		       const char *reason, int64_t now_ms, int64_t due_ms,
		       struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, id);
	pg_param_text(&p, ticket_id);
	pg_param_int(&p, level);
	pg_param_text(&p, owner);
	pg_param_text(&p, channel);
	pg_param_text(&p, reason);
	pg_param_int(&p, due_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, now_ms);
	return pg_run(pg_of(s), ST_ESC_OPEN, &p, NULL, err);
}

int pg_escalation_claim(struct sg_store *s, const char *worker, int64_t now_ms,
			int64_t lease_ms, unsigned max, struct sg_store_escalation *out,
			size_t *n, struct sg_error *err)
{
	*n = 0;
	struct params p = {0};
	pg_param_text(&p, worker);
	pg_param_int(&p, now_ms + lease_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, max);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_ESC_CLAIM, &p, &res, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		struct sg_store_escalation *e = &out[(*n)++];
		snprintf(e->id, sizeof(e->id), "%s", pg_col_text(res, i, 0));
		snprintf(e->ticket_id, sizeof(e->ticket_id), "%s", pg_col_text(res, i, 1));
		e->level = (int)pg_col_int(res, i, 2);
		snprintf(e->owner, sizeof(e->owner), "%s", pg_col_text(res, i, 3));
		snprintf(e->channel, sizeof(e->channel), "%s", pg_col_text(res, i, 4));
		e->due_ms = pg_col_int(res, i, 5);
	}
	PQclear(res);
	return 0;
}

int pg_escalation_close(struct sg_store *s, const char *id, const char *worker,
			const char *state, int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, state);
	pg_param_int(&p, now_ms);
	pg_param_text(&p, id);
	pg_param_text(&p, worker);
	long changed = 0;
	int rc = pg_run(pg_of(s), ST_ESC_CLOSE, &p, &changed, err);
	if (rc < 0)
		return rc;
	return changed ? 0 : 1;
}
