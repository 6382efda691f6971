/*
 * audit.h - hash-chained audit records: the canonical encoding, the hash,
 * and a verifier that walks chains record by record and reports exactly
 * where a chain was edited, cut, reordered or extended by a forger.
 *
 * Chains: every writer (a process or a worker) appends to its own chain
 * (`chain` = writer id, `seq` = 1, 2, 3...), so writers never contend on
 * one head row. The chain "anchor" is global: each anchor record cites the
 * head (seq, hash) of every other chain at that moment, which pins the
 * chains to each other and makes a cut tail or a re-hashed chain visible.
 * See docs/internals/audit.md.
 */
#ifndef SG_AUDIT_AUDIT_H
#define SG_AUDIT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/id.h"

#define SG_AUDIT_ANCHOR_CHAIN "anchor"
#define SG_AUDIT_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct sg_audit_record {
	char id[SG_ID_LEN];
	char chain[64];
	int64_t seq;                 /* 1-based within chain */
	char prev_hash[SG_SHA256_HEX];
	char hash[SG_SHA256_HEX];
	int64_t created_ms;
	char actor[128];
	char action[64];
	char ticket_id[128];         /* "" when the record is not about a ticket */
	char *body;                  /* compact JSON object text */
	int body_owned;              /* body is heap, freed by _release */
};

void sg_audit_record_release(struct sg_audit_record *r);

/* Appends the canonical encoding of r to out: sorted-key compact JSON of
 * every field except `hash`, with created_at and seq as integers and body
 * as a JSON string holding the stored body text byte for byte:
 *   {"action":..,"actor":..,"body":"..","chain":..,"created_at":N,
 *    "id":..,"prev_hash":..,"seq":N,"ticket_id":..}                      */
void sg_audit_canonical(const struct sg_audit_record *r, struct sg_buf *out);
/* Computes SHA-256 hex of the canonical encoding; 0 or -SG_ENOMEM. */
int sg_audit_hash(const struct sg_audit_record *r, char out[SG_SHA256_HEX]);

/* One problem found by the verifier. */
struct sg_audit_problem {
	const char *chain;
	int64_t seq;
	const char *id;              /* the record's id, "" when none */
	const char *what;            /* what mismatched, a full sentence */
};

typedef int (*sg_audit_report_fn)(const struct sg_audit_problem *p, void *ctx);
/* Looks up one record for anchor checks: 0 found (hash filled), 1 absent. */
typedef int (*sg_audit_lookup_fn)(const char *chain, int64_t seq,
				  char hash[SG_SHA256_HEX], void *ctx,
				  struct sg_error *err);

struct sg_audit_cite {
	char chain[64];
	int64_t seq;
	char hash[SG_SHA256_HEX];
	int64_t anchor_seq;
	char anchor_id[SG_ID_LEN];
};

struct sg_audit_verifier {
	sg_audit_report_fn report;
	void *ctx;
	/* the chain being walked */
	char chain[64];
	int64_t last_seq;
	char last_hash[SG_SHA256_HEX];
	/* anchor citations, checked at the end */
	struct sg_audit_cite *cites;
	size_t ncites, capcites;
	/* totals */
	unsigned long records, chains, anchors, problems;
	struct sg_buf scratch;
};

void sg_audit_verify_init(struct sg_audit_verifier *v, sg_audit_report_fn report,
			  void *ctx);
/* Feeds records ordered by chain, then seq. 0 or -SG_ENOMEM. */
int sg_audit_verify_feed(struct sg_audit_verifier *v,
			 const struct sg_audit_record *r, struct sg_error *err);
/* Checks every anchor citation against the chains through lookup. */
int sg_audit_verify_finish(struct sg_audit_verifier *v, sg_audit_lookup_fn lookup,
			   void *lctx, struct sg_error *err);
void sg_audit_verify_release(struct sg_audit_verifier *v);

/* Writes r as one JSONL line (body embedded as an object) to out. */
void sg_audit_jsonl(const struct sg_audit_record *r, struct sg_buf *out);

#endif
