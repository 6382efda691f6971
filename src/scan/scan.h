/*
 * scan.h - the guardrail scanner: PII, input risk and output risk in one pass.
 *
 * All rule sets (built-in PII, input-risk and output-risk rules, plus custom
 * rules a policy passes in) are compiled into ONE vectorscan database when a
 * scanner is created; the database is cached in a file keyed by a hash of
 * the rule set, so start-up after the first run only deserializes it.
 * Candidates are checked by validators (Luhn, SSN rules, IBAN mod-97, IP
 * parsing, dates...) on text normalized by sg_text_normalize, and findings
 * are reported at byte offsets of the ORIGINAL text.
 *
 * Threads: a struct sg_scanner is immutable once built and may be shared;
 * each thread scans through its own struct sg_scan_ctx (scratch space,
 * normalization buffers, result arrays), so a loop over many texts does not
 * allocate after its first few texts.
 */
#ifndef SG_SCAN_SCAN_H
#define SG_SCAN_SCAN_H

#include <stddef.h>

#include "core/error.h"

enum sg_scan_action {
	SG_SCAN_DEFAULT = 0, /* the type's built-in default action */
	SG_SCAN_ALLOW,       /* found but ignored: not reported */
	SG_SCAN_FLAG,        /* reported, text left as is */
	SG_SCAN_MASK,        /* reported and replaced by [TYPE_n] in `masked` */
	SG_SCAN_BLOCK,       /* reported, the text is blocked (PII is also masked) */
};

enum sg_scan_mode {
	SG_SCAN_INPUT = 1,  /* PII + input risk (customer messages) */
	SG_SCAN_OUTPUT = 2, /* PII + output risk (drafts) */
};

/* Built-in types, in the order of sg_scan_type_names(). */
enum sg_scan_type {
	/* PII */
	SG_T_EMAIL, SG_T_PHONE, SG_T_CREDIT_CARD, SG_T_SSN, SG_T_IBAN,
	SG_T_IP_ADDRESS, SG_T_DATE_OF_BIRTH, SG_T_ADDRESS, SG_T_PERSON,
	SG_T_SECRET,
	/* input risk */
	SG_T_PROMPT_INJECTION, SG_T_LEGAL_THREAT, SG_T_CHARGEBACK_THREAT,
	SG_T_SECURITY_INCIDENT, SG_T_HUMAN_REQUEST, SG_T_SELF_HARM, SG_T_PRESS,
	SG_T_REGULATORY,
	/* output risk */
	SG_T_REFUND_COMMITMENT, SG_T_PRICING_COMMITMENT, SG_T_LEGAL_POSITION,
	SG_T_SECURITY_STATEMENT, SG_T_OUTAGE_APOLOGY, SG_T_UNAPPROVED_LINK,
	SG_T_PII_ECHO, SG_T_TONE,
	SG_T__COUNT
};

/* Rule sets that can be switched off as a whole (sg_scan_options.sets). */
enum sg_scan_set {
	SG_SCAN_SET_PII = 1 << 0,
	SG_SCAN_SET_INPUT_RISK = 1 << 1,
	SG_SCAN_SET_OUTPUT_RISK = 1 << 2,
	SG_SCAN_SET_ALL = 7,
};

/* Flags of a custom rule. */
enum sg_scan_rule_flags {
	SG_SCAN_RULE_CASELESS = 1 << 0, /* match without regard to case */
	SG_SCAN_RULE_DOTALL = 1 << 1,   /* '.' also matches newlines */
	SG_SCAN_RULE_WORD = 1 << 2,     /* only whole words (adds \b on both sides) */
	SG_SCAN_RULE_INPUT = 1 << 3,    /* run in input mode */
	SG_SCAN_RULE_OUTPUT = 1 << 4,   /* run in output mode; neither flag = both */
};

/* A custom rule from a policy. `pattern` is a regular expression in
 * vectorscan syntax (PCRE subset: no back-references, no look-around).
 * `type` is a built-in type name ("SECRET") or a new upper-case name
 * ("ORDER_NUMBER", [A-Z][A-Z0-9_]*). All strings are copied. */
struct sg_scan_rule {
	const char *id;      /* reported as the finding's `rule` */
	const char *type;
	const char *pattern;
	unsigned flags;      /* enum sg_scan_rule_flags */
	enum sg_scan_action action; /* DEFAULT: the type's action (flag for new types) */
};

#define SG_SCAN_OPTIONS_VERSION 1

struct sg_scan_options {
	unsigned version;              /* SG_SCAN_OPTIONS_VERSION */
	unsigned sets;                 /* enum sg_scan_set; INIT: SG_SCAN_SET_ALL */
	/* per built-in type action; SG_SCAN_DEFAULT keeps the built-in default
	 * (PII: mask; PROMPT_INJECTION: block; others: flag) */
	enum sg_scan_action actions[SG_T__COUNT];
	const struct sg_scan_rule *rules; /* custom rules, may be NULL */
	size_t nrules;                 /* at most SG_MAX_PATTERNS */
	const char *cache_path;        /* serialized database; NULL: no cache */
};

#define SG_SCAN_OPTIONS_INIT {SG_SCAN_OPTIONS_VERSION, SG_SCAN_SET_ALL, {0}, NULL, 0, NULL}

/* Per-text facts the caller knows. Every field is optional (NULL/0). */
struct sg_scan_input {
	/* the ticket's own customer: occurrences are PERSON / EMAIL / PHONE */
	const char *customer_name;
	const char *customer_email;
	const char *customer_phone;
	/* output mode: URLs or hosts a draft may link to ("https://help.acme.com/"
	 * allows everything under that prefix, "acme.com" that host and its
	 * subdomains); any other URL is UNAPPROVED_LINK */
	const char *const *allow_urls;
	size_t nallow_urls;
	/* output mode: the PII values of the input (for example the original
	 * text of each PII finding of the input scan); any of them in the
	 * draft is PII_ECHO */
	const char *const *pii_values;
	size_t npii_values;
	/* output mode: tone limits; 0 = no limit / default */
	unsigned max_words;          /* more words than this is TONE */
	unsigned max_exclamations;   /* more '!' than this is TONE (default 1) */
	const char *const *banned_phrases; /* case-insensitive, each is TONE */
	size_t nbanned_phrases;
};

struct sg_scan_finding {
	const char *type;   /* "EMAIL"; lives as long as the scanner */
	size_t start, end;  /* byte offsets into the original text */
	const char *rule;   /* rule id, e.g. "pii.card"; lives as long as the scanner */
	enum sg_scan_action action;
	double score;       /* 1.0 for a validated pattern hit */
};

struct sg_scan_result {
	struct sg_scan_finding *findings; /* in order of start offset */
	size_t nfindings;
	const char *masked;   /* the text with MASK findings (and BLOCK PII) replaced */
	size_t masked_len;
	int blocked;          /* 1 when any finding's action is BLOCK */
	const char *const *types; /* distinct types hit, in first-hit order */
	size_t ntypes;
	int truncated;        /* SG_MAX_FINDINGS was reached (the text is blocked) */
};

struct sg_scanner;
struct sg_scan_ctx;

/* Builds a scanner: compiles (or loads from opts->cache_path) the database
 * of the enabled built-in sets plus opts->rules. A cache file that is
 * missing, stale or corrupt is rebuilt (a failure to write it is not an
 * error). A bad custom rule is -SG_EPOLICY naming the rule id and the
 * problem. *out is freed with sg_scanner_free. */
int sg_scanner_new(struct sg_scanner **out, const struct sg_scan_options *opts,
		   struct sg_error *err);
void sg_scanner_free(struct sg_scanner *s);

/* 1 when the last sg_scanner_new loaded the database from the cache file. */
int sg_scanner_from_cache(const struct sg_scanner *s);

/* Per-thread scanning state; the scanner must outlive it. */
int sg_scan_ctx_new(struct sg_scan_ctx **out, const struct sg_scanner *s,
		    struct sg_error *err);
void sg_scan_ctx_free(struct sg_scan_ctx *ctx);

/* Scans text[0..len) (UTF-8). *out is owned by ctx and valid until the next
 * sg_scan_run on ctx. in may be NULL. Returns 0, -SG_EUTF8 (naming the byte
 * offset), -SG_ELIMIT (text over SG_MAX_TEXT_BYTES), -SG_EINVALID or
 * -SG_ENOMEM. */
int sg_scan_run(struct sg_scan_ctx *ctx, enum sg_scan_mode mode,
		const char *text, size_t len, const struct sg_scan_input *in,
		struct sg_scan_result **out, struct sg_error *err);

/* Masked copy of text for model calls and storage (MASK and BLOCK findings
 * replaced by placeholders). *out is the caller's, freed with sg_free. */
int sg_scan_mask(char **out, size_t *out_len, struct sg_scan_ctx *ctx,
		 const char *text, size_t len, const struct sg_scan_input *in,
		 struct sg_error *err);

/* The built-in type names, SG_T__COUNT of them, in enum order. */
const char *const *sg_scan_type_names(size_t *count);
/* "EMAIL" -> SG_T_EMAIL; -1 when not a built-in type. */
int sg_scan_type_from_name(const char *name);
/* "mask" / "block" / "flag" / "allow". */
const char *sg_scan_action_name(enum sg_scan_action a);
/* Parses "mask" etc.; -1 when unknown. */
int sg_scan_action_from_name(const char *name);
/* Default action of a built-in type. */
enum sg_scan_action sg_scan_default_action(enum sg_scan_type t);

#endif
