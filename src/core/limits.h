/*
 * limits.h - every cap on a growing thing, with its reason. Hostile input
 * must hit one of these instead of exhausting memory or the stack.
 */
#ifndef SG_CORE_LIMITS_H
#define SG_CORE_LIMITS_H

/* One ticket text (subject + body). Real tickets are a few KB; 1 MiB leaves
 * room for pasted logs while bounding scan and normalize work per event. */
#define SG_MAX_TEXT_BYTES (1u << 20)

/* One JSONL line read by the CLI: a ticket event with history and draft. */
#define SG_MAX_LINE_BYTES (4u << 20)

/* JSON nesting accepted in a ticket event; jansson recurses per level. */
#define SG_MAX_JSON_DEPTH 32

/* Findings kept per scanned text: beyond this the text is blocked as a
 * whole rather than producing an unbounded report. */
#define SG_MAX_FINDINGS 4096

/* Custom guardrail patterns one policy may add to the compiled database. */
#define SG_MAX_PATTERNS 2048

/* Policy includes may nest this deep (also stops include cycles early). */
#define SG_MAX_INCLUDE_DEPTH 8

/* Expression nesting in policy conditions: the parser recurses per level. */
#define SG_MAX_EXPR_DEPTH 64

/* HTTP request body accepted by the server. */
#define SG_MAX_BODY_BYTES (1u << 20)

/* How long a store writer waits for another writer's lock before failing
 * with a timeout: long enough for a burst of group commits, short enough
 * that a stuck writer surfaces as an error instead of a hang. */
#define SG_STORE_BUSY_MS 10000

/* Ticket events queued for one group commit: bounds one transaction's
 * size (and the latency of its first caller). */
#define SG_STORE_MAX_BATCH 256

/* Ids given by callers (ticket, event, user names, writer names). */
#define SG_MAX_ID_BYTES 120

#endif
