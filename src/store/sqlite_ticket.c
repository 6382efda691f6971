/*
 * sqlite_ticket.c - the SQLite backend's writes around a ticket: the audit
 * chain, ticket writes and decisions, human actions, the outbox and
 * escalations.
 */
#include "store/sqlite_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- audit ---------------------------------------------------------- */

int sqlite_audit_append(struct sg_store *s, struct sg_audit_record *r,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	int rc;
	if (!r->chain[0])
		snprintf(r->chain, sizeof(r->chain), "%s", q->writer);
	int in_tx = !sqlite3_get_autocommit(q->db);
	sqlite3_stmt *st;
	if (in_tx && q->head_valid && !strcmp(q->head_chain, r->chain)) {
		r->seq = q->head_seq + 1;
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", q->head_hash);
	} else {
		if (!(st = sqlite_stmt(q, ST_AUDIT_HEAD, err)))
			return -SG_ESTORE;
		sqlite_bind_text(st, 1, r->chain);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			r->seq = sqlite3_column_int64(st, 0) + 1;
			snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", sqlite_col_text(st, 1));
		} else if (rc == SQLITE_DONE) {
			r->seq = 1;
			snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", SG_AUDIT_GENESIS);
		} else {
			sqlite_done(st);
			return sqlite_fail(q, err, "reading the audit chain head");
		}
		sqlite_done(st);
	}
	if (!r->id[0] && sg_id_new(r->id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "audit: no randomness for an id");
	if (!r->created_ms)
		r->created_ms = sg_now_ms();
	if (sg_audit_hash(r, r->hash) < 0)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	if (!(st = sqlite_stmt(q, ST_AUDIT_INSERT, err)))
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, r->id);
	sqlite_bind_text(st, 2, r->chain);
	sqlite3_bind_int64(st, 3, r->seq);
	sqlite_bind_text(st, 4, r->prev_hash);
	sqlite_bind_text(st, 5, r->hash);
	sqlite3_bind_int64(st, 6, r->created_ms);
	sqlite_bind_text(st, 7, r->actor);
	sqlite_bind_text(st, 8, r->action);
	sqlite_bind_text(st, 9, r->ticket_id);
	sqlite_bind_text(st, 10, r->body);
	rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "appending an audit record");
	if (in_tx) {
		snprintf(q->head_chain, sizeof(q->head_chain), "%s", r->chain);
		q->head_seq = r->seq;
		snprintf(q->head_hash, sizeof(q->head_hash), "%s", r->hash);
		q->head_valid = 1;
	}
	return 0;
}

int sqlite_audit_anchor(struct sg_store *s, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	struct sg_buf body = SG_BUF_INIT;
	int rc = 0, first = 1;
	sqlite3_stmt *st = sqlite_stmt(q, ST_AUDIT_HEADS, err);
	if (!st)
		return -SG_ESTORE;
	sg_buf_adds(&body, "{\"heads\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *chain = sqlite_col_text(st, 0);
		sg_buf_adds(&body, first ? "{\"chain\":" : ",{\"chain\":");
		first = 0;
		sg_buf_add_json_str(&body, chain, strlen(chain));
		sg_buf_addf(&body, ",\"hash\":\"%s\",\"seq\":%lld}", sqlite_col_text(st, 2),
			    (long long)sqlite3_column_int64(st, 1));
	}
	sqlite_done(st);
	if (rc != SQLITE_DONE) {
		rc = sqlite_fail(q, err, "reading the chain heads");
		goto cleanup;
	}
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
	rc = sqlite_audit_append(s, &r, err);
cleanup:
	sg_buf_release(&body);
	return rc;
}

static void read_record(sqlite3_stmt *st, struct sg_audit_record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", sqlite_col_text(st, 0));
	snprintf(r->chain, sizeof(r->chain), "%s", sqlite_col_text(st, 1));
	r->seq = sqlite3_column_int64(st, 2);
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", sqlite_col_text(st, 3));
	snprintf(r->hash, sizeof(r->hash), "%s", sqlite_col_text(st, 4));
	r->created_ms = sqlite3_column_int64(st, 5);
	snprintf(r->actor, sizeof(r->actor), "%s", sqlite_col_text(st, 6));
	snprintf(r->action, sizeof(r->action), "%s", sqlite_col_text(st, 7));
	snprintf(r->ticket_id, sizeof(r->ticket_id), "%s", sqlite_col_text(st, 8));
	r->body = (char *)sqlite_col_text(st, 9);
}

int sqlite_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
		      int (*fn)(const struct sg_audit_record *r, void *ctx),
		      void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, chain ? ST_AUDIT_SCAN_CHAIN : ST_AUDIT_SCAN, err);
	if (!st)
		return -SG_ESTORE;
	int i = 1, rc;
	if (chain)
		sqlite_bind_text(st, i++, chain);
	sqlite3_bind_int64(st, i, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_audit_record r;
		read_record(st, &r);
		int frc = fn(&r, ctx);
		if (frc) {
			sqlite_done(st);
			return frc < 0 ? frc : 0;
		}
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "reading audit records");
}

int sqlite_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		     struct sg_audit_record *out, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_AUDIT_GET, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, chain);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite_done(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		sqlite_done(st);
		return sqlite_fail(q, err, "reading an audit record");
	}
	read_record(st, out);
	out->body = sg_strdup(out->body);
	out->body_owned = 1;
	sqlite_done(st);
	if (!out->body)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	return 0;
}

/* ---- tickets -------------------------------------------------------- */

/* The stored decision of an event already written, into w. */
static int load_existing(struct sqlite_store *q, struct sg_ticket_write *w,
			 struct sg_error *err)
{
	sqlite3_stmt *st = sqlite_stmt(q, ST_EVENT_DECISION, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, w->ticket_id);
	sqlite_bind_text(st, 2, w->event_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite_done(st);
		return sqlite_fail(q, err, "reading the stored decision");
	}
	snprintf(w->decision_id, sizeof(w->decision_id), "%s", sqlite_col_text(st, 0));
	w->stored_decision = sg_strdup(sqlite_col_text(st, 1));
	sqlite_done(st);
	w->existed = 1;
	if (!w->stored_decision)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

int sqlite_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	int64_t now = w->now_ms ? w->now_ms : sg_now_ms();
	int rc;
	sqlite3_stmt *st;

	if (sg_id_new(w->decision_id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	if (!(st = sqlite_stmt(q, ST_EVENT_INSERT, err)))
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, w->ticket_id);
	sqlite_bind_text(st, 2, w->event_id);
	sqlite3_bind_int64(st, 3, now);
	sqlite_bind_text(st, 4, w->event_json);
	sqlite_bind_text(st, 5, w->decision_id);
	rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "storing the ticket event");
	if (sqlite3_changes(q->db) == 0)
		return load_existing(q, w, err);

	if (!(st = sqlite_stmt(q, ST_DECISION_INSERT, err)))
		return -SG_ESTORE;
	const char *cols[] = {w->decision_id, w->ticket_id, w->event_id, w->gate,
			      w->risk_tier, w->intent, w->queue, w->policy_version};
	for (int i = 0; i < 8; i++)
		sqlite_bind_text(st, i + 1, cols[i]);
	sqlite3_bind_int64(st, 9, now);
	sqlite_bind_text(st, 10, w->decision_json);
	rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "storing the decision");

	if (!(st = sqlite_stmt(q, ST_TICKET_UPSERT, err)))
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, w->ticket_id);
	sqlite_bind_text(st, 2, w->state ? w->state : "open");
	sqlite_bind_text(st, 3, w->decision_id);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "updating the ticket");

	for (size_t i = 0; i < w->nactions; i++) {
		const struct sg_outbox_action *a = &w->actions[i];
		char id[SG_ID_LEN], key[SG_ID_LEN + 24];
		if (sg_id_new(id) < 0)
			return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
		snprintf(key, sizeof(key), "%s:%zu", w->decision_id, i);
		if (!(st = sqlite_stmt(q, ST_OUTBOX_INSERT, err)))
			return -SG_ESTORE;
		sqlite_bind_text(st, 1, id);
		sqlite_bind_text(st, 2, w->ticket_id);
		sqlite_bind_text(st, 3, a->kind);
		sqlite_bind_text(st, 4, a->target);
		sqlite_bind_text(st, 5, a->payload);
		sqlite_bind_text(st, 6, a->idem_key ? a->idem_key : key);
		sqlite3_bind_int64(st, 7, now);
		sqlite3_bind_int64(st, 8, now);
		sqlite3_bind_int64(st, 9, now);
		rc = sqlite3_step(st);
		sqlite_done(st);
		if (rc != SQLITE_DONE)
			return sqlite_fail(q, err, "queueing an outbox action");
	}
	return 0;
}

int sqlite_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
			   struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	*out = NULL;
	sqlite3_stmt *st = sqlite_stmt(q, ST_TICKET_DECISION, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, ticket_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sg_strdup(sqlite_col_text(st, 0));
	sqlite_done(st);
	if (rc == SQLITE_DONE)
		return sg_error_set(err, SG_ENOTFOUND, "ticket '%s' not found", ticket_id);
	if (rc != SQLITE_ROW)
		return sqlite_fail(q, err, "reading the ticket");
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

int sqlite_human_action(struct sg_store *s, struct sg_human_action *a,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	int64_t now = a->now_ms ? a->now_ms : sg_now_ms();
	int rc;
	sqlite3_stmt *st;
	char id[SG_ID_LEN];

	a->draft_version = 0;
	if (a->draft_text) {
		if (!(st = sqlite_stmt(q, ST_DRAFT_NEXT, err)))
			return -SG_ESTORE;
		sqlite_bind_text(st, 1, a->ticket_id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite_done(st);
			return sqlite_fail(q, err, "reading draft versions");
		}
		a->draft_version = sqlite3_column_int(st, 0);
		sqlite_done(st);
		if (!(st = sqlite_stmt(q, ST_DRAFT_INSERT, err)))
			return -SG_ESTORE;
		sqlite_bind_text(st, 1, a->ticket_id);
		sqlite3_bind_int(st, 2, a->draft_version);
		sqlite_bind_text(st, 3, a->decision_id);
		sqlite_bind_text(st, 4, a->user);
		sqlite_bind_text(st, 5, a->draft_text);
		sqlite_bind_text(st, 6, a->draft_diff);
		sqlite3_bind_int64(st, 7, now);
		rc = sqlite3_step(st);
		sqlite_done(st);
		if (rc != SQLITE_DONE)
			return sqlite_fail(q, err, "storing the draft version");
	}
	if (sg_id_new(id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	if (!(st = sqlite_stmt(q, ST_APPROVAL_INSERT, err)))
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, id);
	sqlite_bind_text(st, 2, a->ticket_id);
	sqlite_bind_text(st, 3, a->decision_id);
	sqlite_bind_text(st, 4, a->user);
	sqlite_bind_text(st, 5, a->role);
	sqlite_bind_text(st, 6, a->action);
	sqlite3_bind_int(st, 7, a->step);
	sqlite_bind_text(st, 8, a->note);
	sqlite3_bind_int64(st, 9, now);
	rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "storing the approval");
	return 0;
}

/* ---- outbox --------------------------------------------------------- */

int sqlite_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			int64_t lease_ms, unsigned max,
			struct sg_outbox_item **out, size_t *n,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	*out = NULL;
	*n = 0;
	struct sg_outbox_item *items = sg_calloc(max ? max : 1, sizeof(*items));
	if (!items)
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	sqlite3_stmt *st = sqlite_stmt(q, ST_OUTBOX_CLAIM, err);
	if (!st) {
		sg_free(items);
		return -SG_ESTORE;
	}
	sqlite_bind_text(st, 1, owner);
	sqlite3_bind_int64(st, 2, now_ms + lease_ms);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int(st, 6, (int)max);
	int rc, oom = 0;
	size_t k = 0;
	/* All rows must be stepped through for the UPDATE to complete. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k >= max)
			continue;
		struct sg_outbox_item *it = &items[k++];
		snprintf(it->id, sizeof(it->id), "%s", sqlite_col_text(st, 0));
		it->ticket_id = sg_strdup(sqlite_col_text(st, 1));
		it->kind = sg_strdup(sqlite_col_text(st, 2));
		it->target = sg_strdup(sqlite_col_text(st, 3));
		it->payload = sg_strdup(sqlite_col_text(st, 4));
		it->idem_key = sg_strdup(sqlite_col_text(st, 5));
		it->attempts = sqlite3_column_int(st, 6);
		if (!it->ticket_id || !it->kind || !it->target || !it->payload || !it->idem_key)
			oom = 1;
	}
	sqlite_done(st);
	if (rc != SQLITE_DONE) {
		sg_store_outbox_items_free(items, k);
		return sqlite_fail(q, err, "claiming outbox actions");
	}
	if (oom) {
		/* The leases are taken; they expire and the actions are
		 * claimed again, so nothing is lost. */
		sg_store_outbox_items_free(items, k);
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	}
	*out = items;
	*n = k;
	return 0;
}

int sqlite_outbox_finish(struct sg_store *s, const char *id, const char *owner,
			 const char *state, int64_t retry_at_ms, int max_attempts,
			 const char *why, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_OUTBOX_FINISH, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, state);
	sqlite3_bind_int(st, 2, max_attempts);
	sqlite3_bind_int64(st, 3, retry_at_ms);
	sqlite_bind_text(st, 4, why);
	sqlite3_bind_int64(st, 5, sg_now_ms());
	sqlite_bind_text(st, 6, id);
	sqlite_bind_text(st, 7, owner);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "updating an outbox action");
	if (sqlite3_changes(q->db) == 0)
		return sg_error_set(err, SG_ECONFLICT,
				    "outbox action '%s' is not leased to '%s' (lease "
				    "expired and taken, or already finished)", id, owner);
	return 0;
}

int sqlite_outbox_count(struct sg_store *s, const char *state, long *out,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_OUTBOX_COUNT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, state);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	sqlite_done(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(q, err, "counting outbox actions");
}

int sqlite_outbox_list(struct sg_store *s, const char *state, const char *id,
		       unsigned long limit,
		       int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
		       struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_OUTBOX_LIST, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, state);
	sqlite_bind_text(st, 2, state);
	sqlite_bind_text(st, 3, id);
	sqlite_bind_text(st, 4, id);
	/* SQLite: a negative LIMIT is none (PostgreSQL: bind NULL) */
	sqlite3_bind_int64(st, 5, limit ? (sqlite3_int64)limit : -1);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_outbox_row r;
		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", sqlite_col_text(st, 0));
		r.ticket_id = (const char *)sqlite3_column_text(st, 1);
		r.kind = (const char *)sqlite3_column_text(st, 2);
		r.target = (const char *)sqlite3_column_text(st, 3);
		r.idem_key = (const char *)sqlite3_column_text(st, 4);
		r.state = (const char *)sqlite3_column_text(st, 5);
		r.last_error = (const char *)sqlite3_column_text(st, 6);
		r.attempts = sqlite3_column_int(st, 7);
		r.next_attempt_ms = sqlite3_column_int64(st, 8);
		r.created_ms = sqlite3_column_int64(st, 9);
		r.updated_ms = sqlite3_column_int64(st, 10);
		stop = fn(&r, ctx);
	}
	sqlite_done(st);
	if (!stop && rc != SQLITE_DONE)
		return sqlite_fail(q, err, "listing outbox actions");
	return 0;
}

int sqlite_outbox_retry(struct sg_store *s, const char *id, int64_t now_ms, long *n,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_OUTBOX_RETRY, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite_bind_text(st, 3, id);
	sqlite_bind_text(st, 4, id);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "retrying outbox actions");
	*n = (long)sqlite3_changes(q->db);
	return 0;
}

int sqlite_outbox_drop(struct sg_store *s, const char *id, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_OUTBOX_DROP, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "dropping an outbox action");
	return sqlite3_changes(q->db) ? 0 : 1;
}

/* ---- escalations ---------------------------------------------------- */

int sqlite_escalation_open(struct sg_store *s, const char *id, const char *ticket_id,
			   int level, const char *owner, const char *channel,
			   const char *reason, int64_t now_ms, int64_t due_ms,
			   struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_ESC_OPEN, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, id);
	sqlite_bind_text(st, 2, ticket_id);
	sqlite3_bind_int(st, 3, level);
	sqlite_bind_text(st, 4, owner);
	sqlite_bind_text(st, 5, channel);
	sqlite_bind_text(st, 6, reason);
	sqlite3_bind_int64(st, 7, due_ms);
	sqlite3_bind_int64(st, 8, now_ms);
	sqlite3_bind_int64(st, 9, now_ms);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "storing the escalation");
}

int sqlite_escalation_claim(struct sg_store *s, const char *worker, int64_t now_ms,
			    int64_t lease_ms, unsigned max, struct sg_store_escalation *out,
			    size_t *n, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	*n = 0;
	sqlite3_stmt *st = sqlite_stmt(q, ST_ESC_CLAIM, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, worker);
	sqlite3_bind_int64(st, 2, now_ms + lease_ms);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int(st, 6, (int)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n >= max)
			continue;
		struct sg_store_escalation *e = &out[(*n)++];
		snprintf(e->id, sizeof(e->id), "%s", sqlite_col_text(st, 0));
		snprintf(e->ticket_id, sizeof(e->ticket_id), "%s", sqlite_col_text(st, 1));
		e->level = sqlite3_column_int(st, 2);
		snprintf(e->owner, sizeof(e->owner), "%s", sqlite_col_text(st, 3));
		snprintf(e->channel, sizeof(e->channel), "%s", sqlite_col_text(st, 4));
		e->due_ms = sqlite3_column_int64(st, 5);
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "claiming due escalations");
}

int sqlite_escalation_close(struct sg_store *s, const char *id, const char *worker,
			    const char *state, int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_ESC_CLOSE, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite_bind_text(st, 3, id);
	sqlite_bind_text(st, 4, worker);
	sqlite_bind_text(st, 5, worker);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, "closing the escalation");
	return sqlite3_changes(q->db) ? 0 : 1;
}
