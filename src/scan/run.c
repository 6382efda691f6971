/*
 * run.c - one scan: normalize, fold look-alike letters, run the database
 * once, validate and extract candidates, add the per-text checks (known
 * customer identity, PII echo, tone), resolve overlaps, map offsets back to
 * the original text, and mask.
 */
#include "scan/scan_int.h"
#include "classify/classify.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

#define MAX_CANDS (SG_MAX_FINDINGS * 2)

/* Look-alike letters folded to the ASCII letter they imitate (Cyrillic,
 * Greek, dotless i); NFKC has already folded full-width and styled forms. */
static const struct { unsigned char b0, b1; char to; } lookalike[] = {
	{0xd0, 0xb0, 'a'}, {0xd0, 0xb5, 'e'}, {0xd0, 0xbe, 'o'}, {0xd1, 0x80, 'p'},
	{0xd1, 0x81, 'c'}, {0xd1, 0x83, 'y'}, {0xd1, 0x85, 'x'}, {0xd1, 0x96, 'i'},
	{0xd1, 0x98, 'j'}, {0xd1, 0x95, 's'}, {0xd4, 0x81, 'd'}, {0xd5, 0xb8, 'n'},
	{0xd0, 0x90, 'A'}, {0xd0, 0x92, 'B'}, {0xd0, 0x95, 'E'}, {0xd0, 0x9a, 'K'},
	{0xd0, 0x9c, 'M'}, {0xd0, 0x9d, 'H'}, {0xd0, 0x9e, 'O'}, {0xd0, 0xa0, 'P'},
	{0xd0, 0xa1, 'C'}, {0xd0, 0xa2, 'T'}, {0xd0, 0xa5, 'X'}, {0xd0, 0x86, 'I'},
	{0xce, 0xbf, 'o'}, {0xce, 0xb1, 'a'}, {0xce, 0xb9, 'i'}, {0xce, 0xbd, 'v'},
	{0xce, 0x9f, 'O'}, {0xce, 0x91, 'A'}, {0xce, 0x95, 'E'}, {0xce, 0x99, 'I'},
	{0xce, 0x9a, 'K'}, {0xce, 0x9c, 'M'}, {0xce, 0x9d, 'N'}, {0xce, 0xa1, 'P'},
	{0xce, 0xa4, 'T'}, {0xce, 0xa7, 'X'}, {0xce, 0x92, 'B'}, {0xce, 0x96, 'Z'},
	{0xc4, 0xb1, 'i'}, {0xc9, 0xa1, 'g'},
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = sg_realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static int fold(struct sg_scan_ctx *c, int lead)
{
	const struct sg_text_norm *n = &c->norm;
	/* most texts have no lead byte of a look-alike: scan them as they are */
	c->folded = lead;
	c->flen = n->len;
	if (!c->folded)
		return 0;
	if (c->foldcap < n->len + 1) {
		size_t cap = c->foldcap ? c->foldcap : 256;
		while (cap < n->len + 1)
			cap *= 2;
		char *f = sg_realloc(c->fold, cap);
		if (!f)
			return -1;
		c->fold = f;
		uint32_t *m = sg_realloc(c->fmap, (cap + 1) * sizeof(uint32_t));
		if (!m)
			return -1;
		c->fmap = m;
		c->foldcap = cap;
	}
	size_t j = 0;
	for (size_t i = 0; i < n->len;) {
		unsigned char b = (unsigned char)n->text[i];
		if (b >= 0xc4 && b <= 0xd5 && i + 1 < n->len) {
			unsigned char b1 = (unsigned char)n->text[i + 1];
			size_t k;
			for (k = 0; k < sizeof(lookalike) / sizeof(lookalike[0]); k++)
				if (lookalike[k].b0 == b && lookalike[k].b1 == b1)
					break;
			if (k < sizeof(lookalike) / sizeof(lookalike[0])) {
				c->fmap[j] = (uint32_t)i;
				c->fold[j++] = lookalike[k].to;
				i += 2;
				continue;
			}
		}
		c->fmap[j] = (uint32_t)i;
		c->fold[j++] = n->text[i++];
	}
	c->fmap[j] = (uint32_t)n->len;
	c->fold[j] = 0;
	c->flen = j;
	return 0;
}

static const char *const birth_words[] = {
	"born", "birth", "dob", "d.o.b", "d.o.b.", "birthday", "bday", "b-day",
	"birthdate", "geboren", "née", "nee", "date of birth", "age", NULL,
};
/* A Luhn-valid number outside the known issuer ranges is still masked when
 * the text calls it a card: a leaked card number costs more than a masked
 * reference number. */
static const char *const card_words[] = {
	"card", "card number", "card no", "card #", "credit card", "debit card", "visa",
	"mastercard", "amex", "cc", "pan", NULL,
};
static const char *const ssn_words[] = {
	"ssn", "social security", "social security number", "ss#", "ss #",
	"social", "tin", "taxpayer", NULL,
};

struct run_state {
	struct sg_scan_ctx *c;
	const char *t;
	size_t tlen;
};

static int check_each(int check, const char *t, size_t tlen, size_t from, size_t to)
{
	const char *s = t + from;
	size_t n = to - from;
	switch (check) {
	case CK_CARD: {
		int v = sg_scan_luhn_any(s, n);
		return v == 2 || (v == 1 && sg_scan_context_before(t, from, 40, card_words));
	}
	case CK_SSN: return sg_scan_ssn_ok(s, n, 0);
	case CK_SSN_BARE:
		return sg_scan_ssn_ok(s, n, 1) && sg_scan_context_before(t, from, 40, ssn_words);
	case CK_IBAN: return sg_scan_iban_ok(s, n);
	case CK_IPV4: return sg_scan_ipv4_ok(t, tlen, from, to);
	case CK_IPV6: return sg_scan_ipv6_ok(s, n);
	case CK_PHONE: return sg_scan_phone_ok(t, tlen, from, to);
	case CK_EMAIL: return sg_scan_email_ok(s, n);
	case CK_DATE_BIRTH:
		return sg_scan_date_ok(s, n) && sg_scan_context_before(t, from, 48, birth_words);
	default: return 1;
	}
}

static int isalnum_(char ch)
{
	return (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z');
}

static int email_char(char ch)
{
	return isalnum_(ch) || ch == '.' || ch == '_' || ch == '%' || ch == '+' || ch == '-';
}

/* The leftmost start of a match of r ending exactly at `to`. */
static int find_start(struct sg_scan_ctx *c, const struct sg_scan_crule *r,
		      const char *t, size_t to, size_t *from)
{
	size_t w = to > 200 ? to - 200 : 0;
	int rc = pcre2_match(r->re, (PCRE2_SPTR)t, to, w, 0, c->md, NULL);
	if (rc < 0)
		return 0;
	*from = (size_t)pcre2_get_ovector_pointer(c->md)[0];
	return *from < to;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *arg)
{
	(void)flags;
	struct run_state *st = arg;
	struct sg_scan_ctx *c = st->c;
	const struct sg_scan_crule *r = &c->s->rules[id];
	if (!(r->modes & c->mode))
		return 0;
	if (r->check == CK_EMAIL) { /* the local part before the last '@' */
		size_t at = (size_t)to;
		while (at > 0 && st->t[at - 1] != '@')
			at--;
		if (!at)
			return 0;
		size_t b = at - 1;
		while (b > 0 && email_char(st->t[b - 1]))
			b--;
		while (b < at - 1 && !isalnum_(st->t[b]))
			b++;
		if (b == at - 1)
			return 0;
		from = b;
	} else if (r->start == SG_START_WORD) {
		size_t b = (size_t)to;
		while (b > 0 && (((st->t[b - 1] | 32) >= 'a' && (st->t[b - 1] | 32) <= 'z') ||
				 (unsigned char)st->t[b - 1] >= 0x80))
			b--;
		from = b;
	} else if (r->start != SG_START_SOM) {
		from = to; /* found after the scan, or not needed */
	}
	if (r->check && r->check < CK__POST && from != to &&
	    !check_each(r->check, st->t, st->tlen, (size_t)from, (size_t)to))
		return 0;
	if (c->laststamp[id] == c->stamp) {
		struct sg_scan_cand *l = &c->cands[c->last[id] - 1];
		if (l->from == from) {
			l->to = (uint32_t)to;
			return 0;
		}
		if (from < l->to && to > l->to && !r->check) {
			l->to = (uint32_t)to; /* overlapping hits of one rule merge */
			return 0;
		}
		if (from >= l->from && to <= l->to)
			return 0;
	}
	if (c->ncands >= MAX_CANDS) {
		c->overflow = 1;
		return 1;
	}
	if (grow((void **)&c->cands, &c->candcap, c->ncands + 1, sizeof(*c->cands))) {
		c->overflow = 2;
		return 1;
	}
	c->cands[c->ncands] = (struct sg_scan_cand){id, (uint32_t)from, (uint32_t)to};
	c->last[id] = (uint32_t)++c->ncands;
	c->laststamp[id] = c->stamp;
	return 0;
}

int sg_scan_add_hit(struct sg_scan_ctx *c, size_t from, size_t to, int type, int rule,
		    const char *rule_id, enum sg_scan_action action)
{
	if (action == SG_SCAN_ALLOW || to <= from)
		return 0;
	if (c->nhits >= MAX_CANDS) {
		c->overflow = 1;
		return 0;
	}
	if (grow((void **)&c->hits, &c->hitcap, c->nhits + 1, sizeof(*c->hits)))
		return -1;
	c->hits[c->nhits++] = (struct sg_scan_hit){(uint32_t)from, (uint32_t)to, type,
						   rule, rule_id, action, 0};
	return 0;
}

static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch; }

/* Next ASCII-caseless occurrence of needle in t at or after *pos. */
static int find_ci(const char *t, size_t tlen, const char *needle, size_t nl,
		   size_t *pos, int whole)
{
	if (!nl)
		return 0;
	for (size_t i = *pos; i + nl <= tlen; i++) {
		if (lower(t[i]) != lower(needle[0]))
			continue;
		size_t k = 1;
		while (k < nl && lower(t[i + k]) == lower(needle[k]))
			k++;
		if (k < nl)
			continue;
		if (whole) {
			char a = i ? lower(t[i - 1]) : ' ', b = i + nl < tlen ? lower(t[i + nl]) : ' ';
			if ((a >= 'a' && a <= 'z') || (b >= 'a' && b <= 'z'))
				continue;
		}
		*pos = i;
		return 1;
	}
	return 0;
}

static int add_all(struct sg_scan_ctx *c, const char *t, size_t tlen,
		   const char *needle, int type, const char *rule_id, int whole)
{
	size_t nl = needle ? strlen(needle) : 0;
	if (nl < 2)
		return 0;
	for (size_t pos = 0; find_ci(t, tlen, needle, nl, &pos, whole); pos += nl)
		if (sg_scan_add_hit(c, pos, pos + nl, type, -1, rule_id, c->s->actions[type]))
			return -1;
	return 0;
}

static int known_identity(struct sg_scan_ctx *c, const char *t, size_t tlen,
			  const struct sg_scan_input *in)
{
	if (add_all(c, t, tlen, in->customer_email, SG_T_EMAIL, "known.email", 0) ||
	    add_all(c, t, tlen, in->customer_phone, SG_T_PHONE, "known.phone", 0) ||
	    add_all(c, t, tlen, in->customer_name, SG_T_PERSON, "known.name", 1))
		return -1;
	/* each part of the name on its own ("Maria" of "Maria Lopez") */
	const char *name = in->customer_name;
	if (!name)
		return 0;
	char part[128];
	for (const char *p = name; *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		size_t n = (size_t)(e - p);
		if (n >= 3 && n < sizeof(part)) {
			memcpy(part, p, n);
			part[n] = 0;
			for (size_t pos = 0; find_ci(t, tlen, part, n, &pos, 1); pos += n)
				if (t[pos] >= 'A' && t[pos] <= 'Z' &&
				    sg_scan_add_hit(c, pos, pos + n, SG_T_PERSON, -1, "known.name",
					    c->s->actions[SG_T_PERSON]))
					return -1;
		}
		p = e;
	}
	return 0;
}

static int tone(struct sg_scan_ctx *c, const char *t, size_t tlen,
		const struct sg_scan_input *in)
{
	enum sg_scan_action a = c->s->actions[SG_T_TONE];
	if (in && in->max_words) {
		unsigned words = 0;
		int inword = 0;
		for (size_t i = 0; i < tlen; i++) {
			int sp = t[i] == ' ' || t[i] == '\n' || t[i] == '\t' || t[i] == '\r';
			words += !sp && !inword;
			inword = !sp;
		}
		if (words > in->max_words && sg_scan_add_hit(c, 0, tlen, SG_T_TONE, -1, "tone.word_limit", a))
			return -1;
	}
	if (in)
		for (size_t i = 0; i < in->nbanned_phrases; i++)
			if (in->banned_phrases[i] &&
			    add_all(c, t, tlen, in->banned_phrases[i], SG_T_TONE, "tone.banned_phrase", 1))
				return -1;
	return 0;
}

static int is_pii(int type) { return type <= SG_T_SECRET; }

static int pii_echo(struct sg_scan_ctx *c, const char *t, size_t tlen,
		    const struct sg_scan_input *in)
{
	enum sg_scan_action a = c->s->actions[SG_T_PII_ECHO];
	size_t n = c->nhits;
	for (size_t v = 0; v < in->npii_values; v++) {
		const char *val = in->pii_values[v];
		if (!val || strlen(val) < 4)
			continue;
		if (add_all(c, t, tlen, val, SG_T_PII_ECHO, "echo.value", 0))
			return -1;
		for (size_t i = 0; i < n; i++) {
			struct sg_scan_hit *h = &c->hits[i];
			if (!is_pii(h->type))
				continue;
			sg_scan_canon(&c->canon, h->type, t + h->from, h->to - h->from);
			sg_scan_canon(&c->canon2, h->type, val, strlen(val));
			if (c->canon.len >= 4 && c->canon.len == c->canon2.len &&
			    memcmp(c->canon.data, c->canon2.data, c->canon.len) == 0 &&
			    sg_scan_add_hit(c, h->from, h->to, SG_T_PII_ECHO, -1, "echo.value", a))
				return -1;
		}
	}
	return 0;
}

/* PII types win overlaps in this order (a card number also looks like a
 * phone number; an e-mail contains a name). */
static int prio(int type)
{
	static const unsigned char p[] = {
		[SG_T_SECRET] = 10, [SG_T_CREDIT_CARD] = 9, [SG_T_IBAN] = 8,
		[SG_T_EMAIL] = 7, [SG_T_SSN] = 6, [SG_T_IP_ADDRESS] = 5,
		[SG_T_DATE_OF_BIRTH] = 4, [SG_T_PHONE] = 3, [SG_T_ADDRESS] = 2,
		[SG_T_PERSON] = 1,
	};
	return type < (int)sizeof(p) ? p[type] : 0;
}

static int masks(const struct sg_scan_hit *h)
{
	return h->action == SG_SCAN_MASK || h->action == SG_SCAN_BLOCK;
}

static int by_strength(const void *pa, const void *pb)
{
	const struct sg_scan_hit *a = pa, *b = pb;
	if (masks(a) != masks(b))
		return masks(b) - masks(a);
	if (prio(a->type) != prio(b->type))
		return prio(b->type) - prio(a->type);
	size_t la = a->to - a->from, lb = b->to - b->from;
	if (la != lb)
		return la < lb ? 1 : -1;
	return a->from < b->from ? -1 : a->from > b->from;
}

static int by_start(const void *pa, const void *pb)
{
	const struct sg_scan_finding *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

static void resolve(struct sg_scan_ctx *c)
{
	if (!c->nhits)
		return;
	qsort(c->hits, c->nhits, sizeof(*c->hits), by_strength);
	size_t kept = 0;
	for (size_t i = 0; i < c->nhits; i++) {
		struct sg_scan_hit *h = &c->hits[i];
		int ok = 1;
		for (size_t k = 0; k < kept && ok; k++) {
			struct sg_scan_hit *o = &c->hits[k];
			int overlap = h->from < o->to && o->from < h->to;
			if (overlap && ((masks(h) && masks(o)) ||
					(h->type == o->type && h->rule_id == o->rule_id)))
				ok = 0;
		}
		if (ok)
			c->hits[kept++] = *h;
	}
	c->nhits = kept;
}

/* Invalidates every per-rule "last candidate" entry at once. */
static void new_stamp(struct sg_scan_ctx *c)
{
	if (++c->stamp == 0) {
		memset(c->laststamp, 0, (c->s->nrules + 1) * sizeof(uint32_t));
		c->stamp = 1;
	}
}

/* The injection model: when no pattern named an injection, a text whose
 * injection probability reaches the threshold gets a finding over the whole
 * text (after overlap resolution, so it hides no PII finding). */
static int injection_model(struct sg_scan_ctx *c, const char *text, size_t len, size_t tlen)
{
	const struct sg_scanner *s = c->s;
	double prob;
	for (size_t i = 0; i < c->nhits; i++)
		if (c->hits[i].type == SG_T_PROMPT_INJECTION)
			return 0;
	if (sg_classifier_prob(s->inj, c->cls, text, len, (size_t)s->inj_label, &prob, NULL) < 0)
		return 0; /* the text was validated already; nothing to add */
	if (prob < s->inj_threshold)
		return 0;
	size_t before = c->nhits;
	if (sg_scan_add_hit(c, 0, tlen, SG_T_PROMPT_INJECTION, -1, "model.injection",
		    s->actions[SG_T_PROMPT_INJECTION]))
		return -1;
	if (c->nhits > before)
		c->hits[before].score = prob;
	return 0;
}

int sg_scan_run(struct sg_scan_ctx *c, enum sg_scan_mode mode, const char *text,
		size_t len, const struct sg_scan_input *in,
		struct sg_scan_result **out, struct sg_error *err)
{
	const struct sg_scanner *s = c->s;
	int rc;
	*out = NULL;
	if (mode != SG_SCAN_INPUT && mode != SG_SCAN_OUTPUT)
		return sg_error_set(err, SG_EINVALID, "scan mode %d: expected input or output", (int)mode);
	if (!text && len)
		return sg_error_set(err, SG_EINVALID, "scan: no text");
	rc = sg_text_normalize(&c->norm, text ? text : "", len, 0, err);
	if (rc)
		return rc;
	unsigned bytes = sg_scan_bytes(c->norm.text, c->norm.len);
	if (fold(c, (bytes & SG_BYTE_LEAD) != 0))
		goto nomem;
	const char *t = c->folded ? c->fold : c->norm.text;
	size_t tlen = c->flen;

	c->mode = mode;
	c->overflow = 0;
	c->ncands = 0;
	c->nhits = 0;
	new_stamp(c);
	/* the rule groups this text can match (gate.c), one database each */
	unsigned gates = tlen ? sg_scan_gates(bytes, t, tlen, mode) : 0;
	if (c->nogate)
		gates = ~0u;
	for (int g = 0; g < SG_GATE__COUNT && tlen && !c->overflow; g++) {
		hs_database_t *db = s->db[mode == SG_SCAN_OUTPUT][g];
		if (!db || !(gates & (1u << g)))
			continue;
		struct run_state st = {c, t, tlen};
		hs_error_t he = hs_scan(db, t, (unsigned)tlen, 0, c->scratch, on_match, &st);
		if (he != HS_SUCCESS && he != HS_SCAN_TERMINATED)
			return sg_error_set(err, SG_EINTERNAL, "scan: vectorscan error %d", (int)he);
		if (c->overflow == 2)
			goto nomem;
	}
	if (tlen && sg_scan_person_pass(c, t, tlen))
		goto nomem;
	/* rules without start tracking: find each start, and merge the
	 * reports of one match at several ends ("!!!", "https://x/y") */
	size_t ncand = c->ncands;
	new_stamp(c);
	for (size_t i = 0; i < ncand; i++) {
		struct sg_scan_cand *cd = &c->cands[i];
		const struct sg_scan_crule *r = &s->rules[cd->rule];
		if (r->start != SG_START_RE)
			continue;
		size_t from;
		if (!r->re || !find_start(c, r, t, cd->to, &from)) {
			cd->rule = UINT32_MAX;
			continue;
		}
		cd->from = (uint32_t)from;
		uint32_t prev = c->laststamp[cd->rule] == c->stamp ? c->last[cd->rule] : 0;
		if (prev && prev - 1 < i && c->cands[prev - 1].rule == cd->rule &&
		    from < c->cands[prev - 1].to) {
			c->cands[prev - 1].to = cd->to;
			cd->rule = UINT32_MAX;
			continue;
		}
		c->last[cd->rule] = (uint32_t)i + 1;
		c->laststamp[cd->rule] = c->stamp;
	}
	unsigned excl = 0;
	for (size_t i = 0; i < ncand; i++) {
		struct sg_scan_cand cd = c->cands[i];
		if (cd.rule == UINT32_MAX)
			continue;
		const struct sg_scan_crule *r = &s->rules[cd.rule];
		size_t from = cd.from, to = cd.to;
		if (r->start == SG_START_RE && r->check && r->check < CK__POST &&
		    !check_each(r->check, t, tlen, from, to))
			continue;
		if (r->check > CK__POST) {
			if (r->check == CK_URL) {
				while (to > from && strchr(".,;:!?", t[to - 1]))
					to--;
				if (in && sg_scan_url_allowed(t + from, to - from, in->allow_urls,
							      in->nallow_urls))
					continue;
			} else if (!sg_scan_extract(r->check, t, tlen, &from, &to)) {
				continue;
			}
		}
		if (r->type == SG_T_TONE)
			excl += (unsigned)(to - from);
		if (sg_scan_add_hit(c, from, to, r->type, (int)cd.rule, r->id, r->action))
			goto nomem;
	}
	/* exclamation marks count only past the limit */
	unsigned maxex = in && in->max_exclamations ? in->max_exclamations : 1;
	if (excl && excl <= maxex) {
		size_t k = 0;
		for (size_t i = 0; i < c->nhits; i++)
			if (!(c->hits[i].rule_id && strcmp(c->hits[i].rule_id, "out.exclamation") == 0))
				c->hits[k++] = c->hits[i];
		c->nhits = k;
	}
	if (sg_scan_person_repeats(c, t, tlen))
		goto nomem;
	if (in && known_identity(c, t, tlen, in))
		goto nomem;
	if (mode == SG_SCAN_OUTPUT && tone(c, t, tlen, in))
		goto nomem;
	resolve(c);
	if (mode == SG_SCAN_INPUT && s->inj && tlen && injection_model(c, text, len, tlen))
		goto nomem;
	if (mode == SG_SCAN_OUTPUT && in && in->npii_values) {
		if (pii_echo(c, t, tlen, in))
			goto nomem;
		resolve(c);
	}

	/* map back to original offsets */
	if (grow((void **)&c->findings, &c->findcap, c->nhits + 1, sizeof(*c->findings)))
		goto nomem;
	c->nfindings = 0;
	for (size_t i = 0; i < c->nhits; i++) {
		struct sg_scan_hit *h = &c->hits[i];
		size_t ns = c->folded ? c->fmap[h->from] : h->from;
		size_t ne = c->folded ? c->fmap[h->to] : h->to, os, oe;
		if (ne <= ns)
			continue;
		sg_text_norm_orig(&c->norm, ns, ne, &os, &oe);
		c->findings[c->nfindings++] = (struct sg_scan_finding){
			s->type_names[h->type], os, oe, h->rule_id, h->action,
			h->score > 0 ? h->score : 1.0};
	}
	if (c->nfindings)
		qsort(c->findings, c->nfindings, sizeof(*c->findings), by_start);

	struct sg_scan_result *res = &c->result;
	memset(res, 0, sizeof(*res));
	res->findings = c->findings;
	res->nfindings = c->nfindings;
	res->truncated = c->overflow != 0;
	res->blocked = res->truncated;
	c->ntypes = 0;
	for (size_t i = 0; i < c->nfindings; i++) {
		res->blocked |= c->findings[i].action == SG_SCAN_BLOCK;
		size_t k = 0;
		while (k < c->ntypes && c->types[k] != c->findings[i].type)
			k++;
		if (k == c->ntypes && c->ntypes < s->ntypes)
			c->types[c->ntypes++] = c->findings[i].type;
	}
	res->types = c->types;
	res->ntypes = c->ntypes;
	rc = sg_scan_build_masked(c, text ? text : "", len, err);
	if (rc)
		return rc;
	res->masked = c->masked.data;
	res->masked_len = c->masked.len;
	*out = res;
	return 0;
nomem:
	return sg_error_set(err, SG_ENOMEM, "out of memory scanning a text of %zu bytes", len);
}
