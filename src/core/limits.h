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

/* Pending SLA timers held by the in-process scheduler (one per open
 * escalation); beyond this the backlog itself is the incident. */
#define SG_MAX_SLA_TIMERS (1u << 20)

/* HTTP request header bytes (all names and values) accepted by the server:
 * enough for a session cookie and a bearer token many times over. */
#define SG_MAX_HEADER_BYTES (16u << 10)

/* Routes one server may register (the API has a few dozen). */
#define SG_MAX_ROUTES 128

/* Path segments in a request URL that the router looks at. */
#define SG_MAX_PATH_SEGMENTS 16

/* Distinct label sets per metric family: label values must come from a
 * bounded set; past this, samples go to one "overflow" series. */
#define SG_MAX_METRIC_SERIES 512

/* Rate-limit buckets kept (one per token or client address); the least
 * recently used one is reused past this. */
#define SG_MAX_RATE_KEYS 16384

/* Console sessions held in memory by the built-in session table. */
#define SG_MAX_SESSIONS 4096

/* How long a store writer waits for another writer's lock before failing
 * with a timeout: long enough for a burst of group commits, short enough
 * that a stuck writer surfaces as an error instead of a hang. */
#define SG_STORE_BUSY_MS 10000

/* Ticket events queued for one group commit: bounds one transaction's
 * size (and the latency of its first caller). */
#define SG_STORE_MAX_BATCH 256

/* Ticket writes between two audit anchors written by the group committer:
 * bounds how many records at the end of a chain could be cut without an
 * anchor noticing, at the cost of one small record per this many. */
#define SG_AUDIT_ANCHOR_EVERY 1000

/* Ids given by callers (ticket, event, user names, writer names). */
#define SG_MAX_ID_BYTES 120

#endif
