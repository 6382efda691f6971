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
	CK_ADDRESS,      /* a street match, possibly followed by unit/city */
	CK_ADDRESS_CUE,  /* "lives at": the address follows */
	CK_SECRET_VALUE, /* "password: x": the value follows */
	CK_PRIVATE_KEY,  /* a BEGIN line: extend to the END line */
	CK_URL,          /* output mode: allowlist check */
};

/* One built-in rule. modes: SG_SCAN_INPUT|SG_SCAN_OUTPUT. */
struct sg_scan_ruledef {
	const char *id;
	unsigned char type;   /* enum sg_scan_type */
	unsigned char check;  /* enum sg_scan_check */
	unsigned char modes;
	unsigned char caseless;
	const char *pattern;
};

extern const struct sg_scan_ruledef sg_scan_rules_pii[];
extern const size_t sg_scan_rules_pii_count;
extern const struct sg_scan_ruledef sg_scan_rules_risk[];
extern const size_t sg_scan_rules_risk_count;
extern const struct sg_scan_ruledef sg_scan_rules_output[];
extern const size_t sg_scan_rules_output_count;

/* validate.c: checks on the digits/characters of a candidate in the
 * scanned (normalized) text t; 1 to keep. */
int sg_scan_luhn_card(const char *s, size_t len);
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
	unsigned char som;  /* vectorscan reports the start (HS_FLAG_SOM_LEFTMOST) */
	pcre2_code *re;     /* without som: finds the start of a rare match */
};

struct sg_scanner {
	hs_database_t *db;
	struct sg_scan_crule *rules;
	size_t nrules;
	const char **type_names; /* SG_T__COUNT built-ins + custom types */
	size_t ntypes;
	enum sg_scan_action *actions; /* per type */
	int from_cache;
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
};

struct sg_scan_ctx {
	const struct sg_scanner *s;
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	struct sg_text_norm norm;
	char *fold;            /* look-alike folded copy of norm.text */
	uint32_t *fmap;        /* fold byte -> norm byte */
	size_t foldcap, flen;
	struct sg_scan_cand *cands;
	size_t ncands, candcap;
	uint32_t *last;        /* per rule: 1 + index of its last candidate */
	uint32_t *laststamp;
	uint32_t stamp;
	int mode, overflow;
	struct sg_scan_hit *hits;
	size_t nhits, hitcap;
	struct sg_scan_finding *findings;
	size_t nfindings, findcap;
	unsigned char *keep;   /* scratch per hit */
	size_t keepcap;
	const char **types;
	size_t ntypes;
	struct sg_buf masked;
	struct sg_buf canon, canon2;
	struct sg_buf keys;    /* placeholder keys: type, canon value, NUL */
	struct sg_scan_result result;
};

/* mask.c: builds result.masked from text and the findings (sorted by
 * start); 0 or -SG_ENOMEM. */
int sg_scan_build_masked(struct sg_scan_ctx *ctx, const char *text, size_t len,
			 struct sg_error *err);

#endif
