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

/* Scanning threads of one `sopgate scan --json`: more than the cores of
 * any machine it runs on; each holds a scan context and a few batches. */
#define SG_MAX_SCAN_THREADS 64

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

/* One policy expression's source: conditions are a line or two; 4 KiB
 * bounds parse work and the node array (512 terms, see policy/expr.c). */
#define SG_MAX_EXPR_BYTES 4096u

/* One policy file: real policies are tens of KB; 4 MiB bounds YAML work. */
#define SG_MAX_POLICY_BYTES (4u << 20)

/* YAML nodes in one policy (all includes): bounds memory on hostile input. */
#define SG_MAX_POLICY_NODES 200000u

/* YAML nesting in a policy: the tree builder and validator recurse per level. */
#define SG_MAX_POLICY_DEPTH 48

/* Diagnostics kept for one check run: past this the rest are counted only. */
#define SG_MAX_POLICY_DIAGS 500

/* HTTP request body accepted by the server. */
#define SG_MAX_BODY_BYTES (1u << 20)

/* One answer of an SOP lookup (a CRM or TMS record as JSON): records are
 * a few KB; the cap bounds what a misbehaving service can make us parse. */
#define SG_MAX_LOOKUP_RESPONSE_BYTES (1u << 20)

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
/* Word tokens and hashed features taken from one text by the classifier:
 * a ticket has a few hundred; the rest of a pasted log adds nothing to the
 * intent and would only cost time. */
#define SG_MAX_TOKENS (1u << 15)
#define SG_MAX_FEATURES (1u << 17)

/* Labels in one classifier model, and the bytes of one label name. */
#define SG_MAX_LABELS 4096
#define SG_MAX_LABEL_BYTES 128

/* Examples read into one training set (fits the largest public intent sets). */
#define SG_MAX_EXAMPLES (1u << 21)

/* Bytes of a text the language identifier looks at: the n-gram profile of
 * a few hundred bytes already decides, and libexttextcat's cost is linear. */
#define SG_LANGID_BYTES 400

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

/* Shadow-policy diff rows one read returns (GET /v1/shadow lists the
 * newest): bounds the answer, the rest stays in the database. */
#define SG_STORE_MAX_SHADOW_ROWS 2000

/* Shadow-policy diffs waiting in memory for their write (flushed at least
 * once a second): past this, ticket events are still counted but their
 * diffs are dropped and counted as dropped, so a slow disk cannot grow
 * memory. */
#define SG_SHADOW_MAX_PENDING 4096

#endif
