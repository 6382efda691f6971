/*
 * scan_int.h - shared by the scanner's own files: the rule-table shape, the
 * validators and extractors, and the scanner/context structs.
 */
#ifndef SG_SCAN_SCAN_INT_H
#define SG_SCAN_SCAN_INT_H

#include <hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "scan/scan.h"
#include "text/text.h"

/* What runs on a candidate. CK_* below CK__POST run on every match end
 * (keep the longest valid); the others run once on the longest match. */
enum sg_scan_check {
	CK_NONE,
	CK_CARD, CK_SSN, CK_SSN_BARE, CK_IBAN, CK_IPV4, CK_IPV6, CK_PHONE,
	CK_EMAIL, CK_DATE_BIRTH,
	CK__POST,
	CK_PERSON_CUE,   /* a cue ("my name is", "Dear"): the name follows */
	CK_PERSON_NAME,  /* a known first name + capitalized surname */
	CK_PERSON_PAIR,  /* two capitalized words before "lives", "is", "said"... */
	CK_PERSON_RECORD, /* a text opening with a name: kept as found */
	CK_ADDRESS,      /* a street match, possibly followed by unit/city */
	CK_ADDRESS_CUE,  /* "lives at": the address follows */
	CK_SECRET_VALUE, /* "password: x": the value follows */
	CK_PRIVATE_KEY,  /* a BEGIN line: extend to the END line */
	CK_URL,          /* output mode: allowlist check */
};

/* How a rule's match start is found. Vectorscan's start tracking
 * (HS_FLAG_SOM_LEFTMOST) costs the most, so only number-like PII uses it. */
enum sg_scan_start {
	SG_START_SOM,   /* reported by vectorscan */
	SG_START_EMAIL, /* walk back over the local part from the '@' */
	SG_START_WORD,  /* walk back over the letters of one word */
	SG_START_CUE,   /* not needed: the extractor reads what follows the end */
	SG_START_RE,    /* rare hits: a PCRE2 match anchored at the end */
	SG_START_PASS,  /* no pattern: candidates come from the word pass */
};

/* Rule groups, one vectorscan database each per mode. A group's database
 * runs only on a text that holds what every rule of the group needs to
 * match, so a rule must be in a group only when no text without that can
 * match its pattern (after normalization and look-alike folding). */
enum sg_scan_gate {
	SG_GATE_ANY,  /* always runs (cue words, risk phrases, custom rules) */
	SG_GATE_NUM,  /* an ASCII digit */
	SG_GATE_AT,   /* an '@' */
	SG_GATE_V6,   /* two colons with at most four hex digits between them
		       * (IPv6 "::", ":a:") */
	SG_GATE_URL,  /* "://" or "www." in any case (output mode only) */
	SG_GATE__COUNT
};

/* One built-in rule. modes: SG_SCAN_INPUT|SG_SCAN_OUTPUT; gate: enum
 * sg_scan_gate (0, SG_GATE_ANY, when left out). */
struct sg_scan_ruledef {
	const char *id;
	unsigned char type;   /* enum sg_scan_type */
	unsigned char check;  /* enum sg_scan_check */
	unsigned char modes;
	unsigned char caseless;
	const char *pattern;
	unsigned char gate;
};

/* gate.c: one pass over the bytes of a normalized text, SG_BYTE_* bits. */
#define SG_BYTE_DIGIT 1u
#define SG_BYTE_AT 2u
#define SG_BYTE_COLON 4u
#define SG_BYTE_DOT 8u
#define SG_BYTE_LEAD 16u /* a lead byte of a look-alike letter (0xc4-0xd5) */
unsigned sg_scan_bytes(const char *t, size_t n);
/* The groups that can match t[0..n) (the text vectorscan scans, after
 * folding), bit 1 << enum sg_scan_gate; bytes from sg_scan_bytes on it or
 * on the text before folding (folding changes no byte it looks at). */
unsigned sg_scan_gates(unsigned bytes, const char *t, size_t n, unsigned mode);

extern const struct sg_scan_ruledef sg_scan_rules_pii[];
extern const size_t sg_scan_rules_pii_count;
extern const struct sg_scan_ruledef sg_scan_rules_risk[];
extern const size_t sg_scan_rules_risk_count;
extern const struct sg_scan_ruledef sg_scan_rules_output[];
extern const size_t sg_scan_rules_output_count;
/* rules_pii.c: the given names, '|'-separated */
extern const char sg_scan_first_names[];

/* validate.c: checks on the digits/characters of a candidate in the
 * scanned (normalized) text t; 1 to keep. */
int sg_scan_luhn_card(const char *s, size_t len);
/* 2: Luhn-valid inside an issuer range, 1: Luhn-valid outside, 0: not. */
int sg_scan_luhn_any(const char *s, size_t len);
int sg_scan_ssn_ok(const char *s, size_t len, int bare);
int sg_scan_iban_ok(const char *s, size_t len);
int sg_scan_ipv4_ok(const char *t, size_t tlen, size_t from, size_t to);
int sg_scan_ipv6_ok(const char *s, size_t len);
int sg_scan_phone_ok(const char *t, size_t tlen, size_t from, size_t to);
int sg_scan_email_ok(const char *s, size_t len);
int sg_scan_date_ok(const char *s, size_t len);
/* 1 when one of words (NULL-terminated, lower case) ends within `window`
 * bytes before t[at] (ASCII case-insensitive). */
int sg_scan_context_before(const char *t, size_t at, size_t window,
			   const char *const *words);
/* extract.c: post checks that may move [*from, *to); 1 to keep. */
int sg_scan_extract(int check, const char *t, size_t tlen, size_t *from,
		    size_t *to);
/* extract.c: up to three name words from t[i] (capitalized words, middle
 * initials); returns the end (0: none) and the word count in *nw. */
size_t sg_scan_name_run(const char *t, size_t tlen, size_t i, unsigned *nw);
/* 1 when t[from..to) is a word that starts with a capital but is no name
 * ("Thanks", "Order", "Monday"), compared without case. */
int sg_scan_stopword(const char *t, size_t from, size_t to);
/* Canonical form of a value for placeholder numbering and PII echo:
 * digits only for number types, lower-cased otherwise. */
void sg_scan_canon(struct sg_buf *out, int type, const char *s, size_t len);
/* 1 when url (t[from..to)) is allowed by one of the entries. */
int sg_scan_url_allowed(const char *url, size_t len, const char *const *allow,
			size_t nallow);

struct sg_scan_crule {      /* a compiled rule, built-in or custom */
	char *id;           /* owned for custom rules */
	int type;           /* index into sg_scanner.type_names */
	unsigned char check;
	unsigned char modes;
	enum sg_scan_action action; /* resolved, never DEFAULT */
	unsigned char start; /* enum sg_scan_start: how the start is found */
	unsigned char gate; /* enum sg_scan_gate: the database it is in */
	pcre2_code *re;     /* SG_START_RE: finds the start of a rare match */
};

/* person.c: the words the PERSON word pass looks up (given names, cue
 * words, verbs after a name), built once per scanner. */
struct sg_scan_word {
	const char *word;   /* as written in the table (names keep their case) */
	unsigned char len;
	unsigned char flags;
	unsigned char ncue;
	unsigned char cue[6]; /* indexes of cue phrases ending with this word */
};
#define SG_SCAN_WORD_SLOTS 2048

struct sg_scanner {
	/* [0]: input-mode rules, [1]: output-mode rules; per gate group */
	hs_database_t *db[2][SG_GATE__COUNT];
	struct sg_scan_word *words; /* SG_SCAN_WORD_SLOTS, open addressing */
	uint32_t *whash;            /* hash of each slot's word, 0: empty */
	uint32_t wfirst[25][32];    /* [length][first byte & 31]: bit (last & 31), lower case */
	uint32_t cfirst[25];        /* the same for the cue words alone */
	int person_rule[4];         /* rule index of cue, name, pair, record; -1: off */
	struct sg_scan_crule *rules;
	size_t nrules;
	const char **type_names; /* SG_T__COUNT built-ins + custom types */
	size_t ntypes;
	enum sg_scan_action *actions; /* per type */
	int from_cache;
	const struct sg_classifier *inj;  /* optional injection model */
	int inj_label;                    /* index of "injection" in it */
	double inj_threshold;
};

struct sg_scan_cand {
	uint32_t rule, from, to;
};

struct sg_scan_hit {        /* a finding before offsets are mapped back */
	uint32_t from, to;  /* in the scanned text */
	int type;
	int rule;           /* -1 for findings not from a rule */
	const char *rule_id;
	enum sg_scan_action action;
	double score;       /* 0: a validated pattern hit (reported as 1.0) */
};

struct sg_scan_ctx {
	const struct sg_scanner *s;
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	struct sg_text_norm norm;
	char *fold;            /* look-alike folded copy of norm.text */
	uint32_t *fmap;        /* fold byte -> norm byte */
	size_t foldcap, flen;
	int folded;            /* 0: norm.text is scanned as is */
	struct sg_scan_cand *cands;
	size_t ncands, candcap;
	uint32_t *last;        /* per rule: 1 + index of its last candidate */
	uint32_t *laststamp;
	uint32_t stamp;
	int mode, overflow;
	int nogate;            /* tests: run every group's database */
	struct sg_scan_hit *hits;
	size_t nhits, hitcap;
	struct sg_scan_finding *findings;
	size_t nfindings, findcap;
	uint64_t *wbits;       /* person pass: word, start and capital bitmaps */
	size_t wbitcap;        /* in uint64_t */
	const char **types;
	size_t ntypes;
	struct sg_buf masked;
	struct sg_buf canon, canon2;
	struct sg_buf keys;    /* placeholder keys: type, canon value, NUL */
	struct sg_scan_result result;
	struct sg_classify_scratch *cls;  /* for the injection model */
};

/* person.c: builds s->words and s->person_rule; 0 or -1 (no memory). */
int sg_scan_person_init(struct sg_scanner *s);
/* Adds the PERSON candidates of t to ctx->cands (rule ids of the person
 * rules); 0, or -1 when the candidate array could not grow. */
int sg_scan_person_pass(struct sg_scan_ctx *ctx, const char *t, size_t tlen);
/* The same from a visit of every word: a superset of the candidates above
 * (the pass skips words that cannot lead to a name, and so adds no
 * candidate its extractor would drop there); the reference for tests. */
int sg_scan_person_pass_all(struct sg_scan_ctx *ctx, const char *t, size_t tlen);
/* After sg_scan_person_pass on a text of tlen bytes: one bit per byte, in
 * blocks of 64 (tlen / 64 + 1 of them), set at each word start that may
 * be a capital (as the pass sees words). */
const uint64_t *sg_scan_capital_map(const struct sg_scan_ctx *ctx, size_t tlen);

/* names.c: after the hits of the rules are in ctx->hits (before overlap
 * resolution), adds PERSON hits for the repeats of each name the word pass
 * found and for the other items of lists of names; 0 or -1 (no memory). */
int sg_scan_person_repeats(struct sg_scan_ctx *ctx, const char *t, size_t tlen);

/* run.c: appends one hit to ctx->hits (ALLOW and empty spans are dropped;
 * past the cap the text is marked truncated); 0 or -1 (no memory). */
int sg_scan_add_hit(struct sg_scan_ctx *ctx, size_t from, size_t to, int type, int rule,
		    const char *rule_id, enum sg_scan_action action);

/* mask.c: builds result.masked from text and the findings (sorted by
 * start); 0 or -SG_ENOMEM. */
int sg_scan_build_masked(struct sg_scan_ctx *ctx, const char *text, size_t len,
			 struct sg_error *err);

#endif
