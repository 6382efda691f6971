/*
 * outbox.h - delivery of the outbox: the actions a decision queued in the
 * same transaction (transactional outbox) reach the outside APIs through
 * the connectors (connectors/connector.h).
 *
 * A worker claims due actions with a lease, sends up to `concurrency` of
 * them at once over libcurl's multi interface, and records each outcome:
 * sent; retry at now + backoff (exponential with jitter, or the vendor's
 * Retry-After, capped); or dead (a permanent 4xx, an action no connector
 * takes, or max_attempts reached), which is audited, logged as an alert
 * and counted. Delivery is at-least-once: a crash between sending and
 * recording leaves the lease to expire and the action is sent again with
 * the same idempotency key (or the vendor's own dedup key), so a resend
 * is harmless.
 */
#ifndef SG_OUTBOX_OUTBOX_H
#define SG_OUTBOX_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

struct sg_connectors;
struct sg_metrics;
struct sg_store;

/* Counts of one pass or of the worker's life. */
struct sg_outbox_stats {
	unsigned long claimed, sent, retried, dead, skipped; /* skipped: nothing to deliver */
};

struct sg_outbox_options {
	const char *owner;        /* lease owner; unique per process ("serve-<host>-<pid>") */
	struct sg_metrics *metrics; /* may be NULL */
	FILE *log;                /* alerts and notes (stderr); may be NULL */
};

struct sg_outbox;

/* A delivery context on its own store connection (opened from store_url
 * with audit writer "outbox-<owner>"), borrowing cs (free the outbox
 * first). Registers its metrics when o->metrics is set. *out is NULL on
 * failure. */
int sg_outbox_new(struct sg_outbox **out, const char *store_url,
		  const struct sg_connectors *cs, const struct sg_outbox_options *o,
		  struct sg_error *err);
void sg_outbox_free(struct sg_outbox *ob); /* stops the thread first; NULL is fine */

/* Delivers every action due now, to completion (claims again while there
 * are due actions, at most max_rounds claims; 0: until none is due), and
 * adds what happened to *stats. For `sopgate outbox deliver` and tests. */
int sg_outbox_run(struct sg_outbox *ob, unsigned max_rounds, struct sg_outbox_stats *stats,
		  struct sg_error *err);

/* Runs deliveries on a background thread until sg_outbox_stop. */
int sg_outbox_start(struct sg_outbox *ob, struct sg_error *err);
/* Stops claiming, waits up to wait_ms for the deliveries in flight, then
 * abandons the rest (their leases expire; they are sent again later). */
void sg_outbox_stop(struct sg_outbox *ob, int64_t wait_ms);

/* The backoff before attempt `attempts + 1`: base * 2^(attempts-1), capped
 * at max, then a random point in its upper half (jitter). */
int64_t sg_outbox_backoff_ms(int attempts, int64_t base_ms, int64_t max_ms);

#endif
