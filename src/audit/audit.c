/*
 * audit.c - canonical encoding and hashing of audit records, and the chain
 * verifier. Storage of records lives in store/; this file only knows the
 * record layout, so the same verifier serves SQLite and PostgreSQL.
 */
#include "audit/audit.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

void sg_audit_record_release(struct sg_audit_record *r)
{
	if (r->body_owned)
		sg_free(r->body);
	r->body = NULL;
	r->body_owned = 0;
}

static void add_key_str(struct sg_buf *out, const char *key, const char *val, int comma)
{
	if (comma)
		sg_buf_addc(out, ',');
	sg_buf_add_json_str(out, key, strlen(key));
	sg_buf_addc(out, ':');
	sg_buf_add_json_str(out, val ? val : "", val ? strlen(val) : 0);
}

void sg_audit_canonical(const struct sg_audit_record *r, struct sg_buf *out)
{
	/* Keys in byte order; the field set is fixed, so no sorting at run
	 * time is needed: action actor body chain created_at id prev_hash seq
	 * ticket_id. */
	sg_buf_addc(out, '{');
	add_key_str(out, "action", r->action, 0);
	add_key_str(out, "actor", r->actor, 1);
	add_key_str(out, "body", r->body, 1);
	add_key_str(out, "chain", r->chain, 1);
	sg_buf_addf(out, ",\"created_at\":%" PRId64, r->created_ms);
	add_key_str(out, "id", r->id, 1);
	add_key_str(out, "prev_hash", r->prev_hash, 1);
	sg_buf_addf(out, ",\"seq\":%" PRId64, r->seq);
	add_key_str(out, "ticket_id", r->ticket_id, 1);
	sg_buf_addc(out, '}');
}

int sg_audit_hash(const struct sg_audit_record *r, char out[SG_SHA256_HEX])
{
	struct sg_buf b = SG_BUF_INIT;
	sg_audit_canonical(r, &b);
	if (b.oom) {
		sg_buf_release(&b);
		return -SG_ENOMEM;
	}
	sg_sha256_hex(b.data, b.len, out);
	sg_buf_release(&b);
	return 0;
}

void sg_audit_verify_init(struct sg_audit_verifier *v, sg_audit_report_fn report,
			  void *ctx)
{
	memset(v, 0, sizeof(*v));
	v->report = report;
	v->ctx = ctx;
	sg_buf_init(&v->scratch);
}

void sg_audit_verify_release(struct sg_audit_verifier *v)
{
	sg_free(v->cites);
	v->cites = NULL;
	v->ncites = v->capcites = 0;
	sg_buf_release(&v->scratch);
}

static int problem(struct sg_audit_verifier *v, const char *chain, int64_t seq,
		   const char *id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int problem(struct sg_audit_verifier *v, const char *chain, int64_t seq,
		   const char *id, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	v->problems++;
	struct sg_audit_problem p = {chain, seq, id ? id : "", what};
	return v->report ? v->report(&p, v->ctx) : 0;
}

static int add_cite(struct sg_audit_verifier *v, const struct sg_audit_record *r,
		    const char *chain, int64_t seq, const char *hash,
		    struct sg_error *err)
{
	if (v->ncites == v->capcites) {
		size_t cap = v->capcites ? 2 * v->capcites : 16;
		struct sg_audit_cite *c = sg_realloc(v->cites, cap * sizeof(*c));
		if (!c)
			return sg_error_set(err, SG_ENOMEM, "audit verify: out of memory");
		v->cites = c;
		v->capcites = cap;
	}
	struct sg_audit_cite *c = &v->cites[v->ncites++];
	snprintf(c->chain, sizeof(c->chain), "%s", chain);
	c->seq = seq;
	snprintf(c->hash, sizeof(c->hash), "%s", hash);
	c->anchor_seq = r->seq;
	snprintf(c->anchor_id, sizeof(c->anchor_id), "%s", r->id);
	return 0;
}

/* An anchor's body: {"heads":[{"chain":C,"seq":N,"hash":H},...]}. */
static int read_anchor(struct sg_audit_verifier *v, const struct sg_audit_record *r,
		       struct sg_error *err)
{
	json_error_t jerr;
	json_t *root = json_loads(r->body ? r->body : "", 0, &jerr);
	json_t *heads = root ? json_object_get(root, "heads") : NULL;
	int rc = 0;
	if (!json_is_array(heads)) {
		problem(v, r->chain, r->seq, r->id,
			"anchor body is not {\"heads\":[...]}");
		goto cleanup;
	}
	size_t i;
	json_t *h;
	json_array_foreach(heads, i, h) {
		json_t *c = json_object_get(h, "chain"), *s = json_object_get(h, "seq"),
		       *x = json_object_get(h, "hash");
		if (!json_is_string(c) || !json_is_integer(s) || !json_is_string(x)) {
			problem(v, r->chain, r->seq, r->id,
				"anchor head %zu is malformed", i);
			continue;
		}
		rc = add_cite(v, r, json_string_value(c), json_integer_value(s),
			      json_string_value(x), err);
		if (rc < 0)
			goto cleanup;
	}
cleanup:
	json_decref(root);
	return rc;
}

int sg_audit_verify_feed(struct sg_audit_verifier *v,
			 const struct sg_audit_record *r, struct sg_error *err)
{
	v->records++;
	if (strcmp(r->chain, v->chain) || v->chains == 0) {
		snprintf(v->chain, sizeof(v->chain), "%s", r->chain);
		v->chains++;
		v->last_seq = 0;
		snprintf(v->last_hash, sizeof(v->last_hash), "%s", SG_AUDIT_GENESIS);
	}
	if (r->seq != v->last_seq + 1) {
		if (r->seq <= v->last_seq)
			problem(v, r->chain, r->seq, r->id,
				"sequence goes back: seq %" PRId64 " after seq %" PRId64,
				r->seq, v->last_seq);
		else if (r->seq == v->last_seq + 2)
			problem(v, r->chain, r->seq, r->id,
				"record seq %" PRId64 " is missing (removed)",
				v->last_seq + 1);
		else
			problem(v, r->chain, r->seq, r->id,
				"records seq %" PRId64 "..%" PRId64 " are missing (removed)",
				v->last_seq + 1, r->seq - 1);
	}
	if (strcmp(r->prev_hash, v->last_hash))
		problem(v, r->chain, r->seq, r->id,
			"prev_hash %.16s... does not match the hash of the record "
			"before it (%.16s...): a record was removed, inserted or "
			"reordered here", r->prev_hash, v->last_hash);
	char computed[SG_SHA256_HEX];
	if (sg_audit_hash(r, computed) < 0)
		return sg_error_set(err, SG_ENOMEM, "audit verify: out of memory");
	if (strcmp(computed, r->hash))
		problem(v, r->chain, r->seq, r->id,
			"hash mismatch: stored %.16s..., computed %.16s...: the "
			"record was edited or renumbered", r->hash, computed);
	v->last_seq = r->seq;
	snprintf(v->last_hash, sizeof(v->last_hash), "%s", r->hash);
	if (!strcmp(r->chain, SG_AUDIT_ANCHOR_CHAIN)) {
		v->anchors++;
		return read_anchor(v, r, err);
	}
	return 0;
}

int sg_audit_verify_finish(struct sg_audit_verifier *v, sg_audit_lookup_fn lookup,
			   void *lctx, struct sg_error *err)
{
	for (size_t i = 0; i < v->ncites; i++) {
		const struct sg_audit_cite *c = &v->cites[i];
		char hash[SG_SHA256_HEX] = "";
		int rc = lookup(c->chain, c->seq, hash, lctx, err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			problem(v, SG_AUDIT_ANCHOR_CHAIN, c->anchor_seq, c->anchor_id,
				"anchor cites chain %s seq %" PRId64 ", which no longer "
				"exists (records removed from the end of that chain)",
				c->chain, c->seq);
		else if (strcmp(hash, c->hash))
			problem(v, SG_AUDIT_ANCHOR_CHAIN, c->anchor_seq, c->anchor_id,
				"anchor cites chain %s seq %" PRId64 " with hash %.16s..., "
				"but that record's hash is now %.16s... (the chain was "
				"rewritten)", c->chain, c->seq, c->hash, hash);
	}
	return 0;
}

void sg_audit_jsonl(const struct sg_audit_record *r, struct sg_buf *out)
{
	sg_buf_adds(out, "{\"id\":");
	sg_buf_add_json_str(out, r->id, strlen(r->id));
	sg_buf_adds(out, ",\"chain\":");
	sg_buf_add_json_str(out, r->chain, strlen(r->chain));
	sg_buf_addf(out, ",\"seq\":%" PRId64 ",\"created_at\":", r->seq);
	char iso[25];
	sg_time_iso(r->created_ms, iso);
	sg_buf_add_json_str(out, iso, strlen(iso));
	sg_buf_adds(out, ",\"actor\":");
	sg_buf_add_json_str(out, r->actor, strlen(r->actor));
	sg_buf_adds(out, ",\"action\":");
	sg_buf_add_json_str(out, r->action, strlen(r->action));
	sg_buf_adds(out, ",\"ticket_id\":");
	sg_buf_add_json_str(out, r->ticket_id, strlen(r->ticket_id));
	/* The body is stored as compact JSON written by sopgate; embed it as
	 * JSON so exports are directly queryable. */
	sg_buf_adds(out, ",\"body\":");
	json_t *body = r->body ? json_loads(r->body, JSON_DECODE_ANY, NULL) : NULL;
	if (body)
		sg_buf_adds(out, r->body);
	else if (r->body) /* not JSON (edited by hand): keep it as a string */
		sg_buf_add_json_str(out, r->body, strlen(r->body));
	else
		sg_buf_adds(out, "null");
	json_decref(body);
	sg_buf_adds(out, ",\"prev_hash\":");
	sg_buf_add_json_str(out, r->prev_hash, strlen(r->prev_hash));
	sg_buf_adds(out, ",\"hash\":");
	sg_buf_add_json_str(out, r->hash, strlen(r->hash));
	sg_buf_adds(out, "}\n");
}
