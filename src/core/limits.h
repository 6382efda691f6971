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

/* One knowledge-base article file: help articles are a few KB; a larger
 * file is almost certainly not an article (a pasted export, a binary). */
#define SG_MAX_KB_ARTICLE_BYTES (256u << 10)

/* One KB passage: small enough that bm25 ranks the paragraph that answers,
 * not the whole article, and a drafter can quote it. */
#define SG_MAX_KB_PASSAGE_BYTES 900

/* Articles one index may hold (bounds an indexing run). */
#define SG_MAX_KB_ARTICLES 100000

/* Distinct words kept from a search text: a pasted log must not turn into
 * a query with thousands of OR terms. */
#define SG_MAX_KB_QUERY_TOKENS 32

/* Passages a search may return. */
#define SG_MAX_KB_HITS 100

/* Sessions the token budget tracks per day. */
#define SG_MAX_BUDGET_SESSIONS 65536

/* Bytes of a model response body accepted. */
#define SG_MAX_MODEL_RESPONSE_BYTES (4u << 20)

/* Prompt template file size. */
#define SG_MAX_PROMPT_BYTES (64u << 10)

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

#endif
