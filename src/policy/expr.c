/*
 * expr.c - the policy expression language, parsing half: parse once.
 *
 * Source text is parsed into a flat node array (children by index) in the
 * policy arena; list literals are folded to constant value arrays and
 * regexes compiled with PCRE2 at load, so evaluation (eval.c) walks the
 * array with no allocation.
 */
#include "policy/policy.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "policy/expr_int.h"
#include "core/banned.h"

/* ---- literals ------------------------------------------------------- */

int sg_parse_duration(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	double mul;
	if (!strcmp(end, "s"))
		mul = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else if (!strcmp(end, "w"))
		mul = 604800;
	else
		return -1;
	*out = v * mul;
	return 0;
}

int sg_parse_money(const char *s, double *out)
{
	char digits[64];
	size_t n = 0;
	int dollar = 0, seen = 0;
	if (*s == '$') {
		dollar = 1;
		s++;
	}
	for (; *s && (isdigit((unsigned char)*s) || *s == ',' || *s == '.'); s++) {
		if (*s == ',')
			continue;
		if (n + 1 >= sizeof digits)
			return -1;
		digits[n++] = *s;
		seen = 1;
	}
	digits[n] = 0;
	if (!seen)
		return -1;
	if (*s) {
		if (dollar)
			return -1;
		if (*s == ' ')
			s++;
		if (strcmp(s, "USD") && strcmp(s, "EUR") && strcmp(s, "GBP"))
			return -1;
	}
	char *end;
	double v = strtod(digits, &end);
	if (*end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* ---- parser --------------------------------------------------------- */

#define MAX_NODES 512

struct parser {
	struct sg_arena *a;
	const char *s;
	size_t len, pos;
	const struct sg_expr_loc *loc;
	struct sg_diags *diags;
	int (*known_root)(void *, const char *, size_t);
	uint32_t (*intern)(void *, const char *);
	void *ud;
	struct node nodes[MAX_NODES];
	uint32_t n;
	unsigned depth;
	int failed, has_paths;
};

static void perr(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, size_t at, const char *fmt, ...)
{
	if (p->failed)
		return; /* one message per expression: the first is the cause */
	p->failed = 1;
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	unsigned line = p->loc ? p->loc->line : 1, col = p->loc ? p->loc->col : 1;
	for (size_t i = 0; i < at && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	sg_diags_add(p->diags, SG_DIAG_ERROR, p->loc ? p->loc->file : "<expr>",
		     p->loc ? p->loc->source : NULL, line, col, "expression: %s", msg);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static int new_node(struct parser *p, uint8_t op, size_t start)
{
	if (p->n >= MAX_NODES) {
		perr(p, start, "too many terms (limit %d)", MAX_NODES);
		return -1;
	}
	struct node *n = &p->nodes[p->n];
	memset(n, 0, sizeof *n);
	n->op = op;
	n->start = (uint32_t)start;
	return (int)p->n++;
}

static int is_ident_start(int c) { return isalpha(c) || c == '_'; }
static int is_ident(int c) { return isalnum(c) || c == '_'; }

static int word_is(struct parser *p, const char *w)
{
	size_t n = strlen(w);
	return p->pos + n <= p->len && !memcmp(p->s + p->pos, w, n) &&
	       (p->pos + n == p->len || !is_ident((unsigned char)p->s[p->pos + n]));
}

static int parse_or(struct parser *p);

static void finish(struct parser *p, int i)
{
	if (i >= 0)
		p->nodes[i].len = (uint32_t)(p->pos - p->nodes[i].start);
}

/* Number with an optional unit: 5000, 0.85, 15m, 2h, 92%, $5,000, 5000 USD. */
static int parse_number(struct parser *p)
{
	size_t start = p->pos;
	char buf[64];
	size_t n = 0;
	int dollar = 0;
	if (p->s[p->pos] == '$') {
		dollar = 1;
		p->pos++;
	}
	while (p->pos < p->len && (isdigit((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.' ||
				   (dollar && p->s[p->pos] == ','))) {
		if (p->s[p->pos] != ',') {
			if (n + 1 >= sizeof buf) {
				perr(p, start, "number too long");
				return -1;
			}
			buf[n++] = p->s[p->pos];
		}
		p->pos++;
	}
	buf[n] = 0;
	char *end;
	double v = strtod(buf, &end);
	if (!n || *end || !isfinite(v)) {
		perr(p, start, "bad number '%.*s'", (int)(p->pos - start), p->s + start);
		return -1;
	}
	/* unit suffix */
	size_t us = p->pos;
	while (p->pos < p->len && isalpha((unsigned char)p->s[p->pos]))
		p->pos++;
	size_t ul = p->pos - us;
	if (ul) {
		const char *u = p->s + us;
		if (dollar) {
			perr(p, us, "unexpected '%.*s' after an amount", (int)ul, u);
			return -1;
		}
		if (ul == 1 && *u == 's') v *= 1;
		else if ((ul == 1 && *u == 'm') || (ul == 3 && !memcmp(u, "min", 3))) v *= 60;
		else if (ul == 1 && *u == 'h') v *= 3600;
		else if (ul == 1 && *u == 'd') v *= 86400;
		else if (ul == 1 && *u == 'w') v *= 604800;
		else {
			perr(p, us, "unknown unit '%.*s' (durations: s m h d w; money: $5,000 or 5000 USD)",
			     (int)ul, u);
			return -1;
		}
	} else if (p->pos < p->len && p->s[p->pos] == '%') {
		p->pos++;
		v /= 100;
	} else if (!dollar && p->pos + 4 <= p->len && p->s[p->pos] == ' ' &&
		   (!memcmp(p->s + p->pos + 1, "USD", 3) || !memcmp(p->s + p->pos + 1, "EUR", 3) ||
		    !memcmp(p->s + p->pos + 1, "GBP", 3)) &&
		   (p->pos + 4 == p->len || !is_ident((unsigned char)p->s[p->pos + 4]))) {
		p->pos += 4;
	}
	int i = new_node(p, OP_NUM, start);
	if (i < 0)
		return -1;
	p->nodes[i].v.type = SG_V_NUM;
	p->nodes[i].v.num = v;
	finish(p, i);
	return i;
}

static int parse_string(struct parser *p)
{
	size_t start = p->pos;
	char q = p->s[p->pos++];
	struct sg_buf b = SG_BUF_INIT;
	while (p->pos < p->len && p->s[p->pos] != q) {
		char c = p->s[p->pos++];
		if (c == '\\' && p->pos < p->len) {
			/* \" \' \\ \n \t are escapes; any other backslash is kept,
			 * so regular expressions read naturally: "\d+" */
			char e = p->s[p->pos];
			if (e == '"' || e == '\'' || e == '\\' || e == 'n' || e == 't') {
				p->pos++;
				c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
			}
		}
		sg_buf_addc(&b, c);
	}
	if (p->pos >= p->len) {
		sg_buf_release(&b);
		perr(p, start, "unterminated string");
		return -1;
	}
	p->pos++;
	int i = new_node(p, OP_STR, start);
	if (i >= 0) {
		char *s = sg_arena_strndup(p->a, b.data, b.len);
		if (!s || b.oom) {
			perr(p, start, "out of memory");
			i = -1;
		} else {
			p->nodes[i].v.type = SG_V_STR;
			p->nodes[i].v.str = s;
			p->nodes[i].v.len = b.len;
			finish(p, i);
		}
	}
	sg_buf_release(&b);
	return i;
}

static int parse_list(struct parser *p)
{
	size_t start = p->pos++;
	int i = new_node(p, OP_LIST, start);
	if (i < 0)
		return -1;
	uint32_t first = p->n;
	size_t count = 0;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			size_t at = p->pos;
			int k = parse_or(p);
			if (k < 0)
				return -1;
			if (!is_const(&p->nodes[k]) || p->nodes[k].op == OP_LIST) {
				perr(p, at, "list items must be constants (numbers, strings, booleans)");
				return -1;
			}
			count++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ']') {
				p->pos++;
				break;
			}
			perr(p, p->pos, "expected ',' or ']' in list");
			return -1;
		}
	}
	/* fold the constant items into one value array */
	struct sg_value *items = count ? sg_arena_calloc(p->a, count, sizeof *items) : NULL;
	if (count && !items) {
		perr(p, start, "out of memory");
		return -1;
	}
	for (size_t k = 0; k < count; k++)
		items[k] = p->nodes[first + k].v;
	p->n = first; /* the item nodes are not needed any more */
	p->nodes[i].v.type = SG_V_LIST;
	p->nodes[i].v.items = items;
	p->nodes[i].v.len = count;
	finish(p, i);
	return i;
}

static void *re_malloc(size_t size, void *ud) { return sg_arena_alloc(ud, size); }
static void re_free(void *ptr, void *ud) { (void)ptr; (void)ud; }

static int compile_regex(struct parser *p, struct node *call, const struct node *pat)
{
	pcre2_general_context *gc = pcre2_general_context_create(re_malloc, re_free, p->a);
	if (!gc) {
		perr(p, pat->start, "out of memory");
		return -1;
	}
	int ec;
	PCRE2_SIZE eo;
	pcre2_compile_context *cc = pcre2_compile_context_create(gc);
	if (!cc) {
		perr(p, pat->start, "out of memory");
		return -1;
	}
	pcre2_set_max_pattern_length(cc, 4096);
	pcre2_set_parens_nest_limit(cc, 64);
	call->re = pcre2_compile((PCRE2_SPTR)pat->v.str, pat->v.len, PCRE2_UTF | PCRE2_CASELESS,
				 &ec, &eo, cc);
	if (!call->re) {
		char msg[200];
		pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
		perr(p, pat->start + 1 + eo, "bad regular expression: %s", msg);
		return -1;
	}
	call->md = pcre2_match_data_create(1, gc);
	call->lock = sg_arena_alloc(p->a, sizeof *call->lock);
	if (call->lock)
		pthread_mutex_init(call->lock, NULL);
	if (!call->md || !call->lock) {
		perr(p, pat->start, "out of memory");
		return -1;
	}
	return 0;
}

static int parse_call(struct parser *p, size_t start, size_t nlen)
{
	const char *name = p->s + start;
	uint8_t op;
	unsigned min, max;
	if (nlen == 8 && !memcmp(name, "contains", 8)) { op = OP_CONTAINS; min = max = 2; }
	else if (nlen == 7 && !memcmp(name, "matches", 7)) { op = OP_MATCHES; min = max = 2; }
	else if (nlen == 3 && !memcmp(name, "any", 3)) { op = OP_ANY; min = 1; max = 2; }
	else if (nlen == 3 && !memcmp(name, "len", 3)) { op = OP_LEN; min = max = 1; }
	else {
		perr(p, start, "unknown function '%.*s' (known: contains, matches, any, len)",
		     (int)nlen, name);
		return -1;
	}
	p->pos++; /* ( */
	int i = new_node(p, op, start);
	if (i < 0)
		return -1;
	int args[2] = {-1, -1};
	unsigned n = 0;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ')') {
		p->pos++;
	} else {
		for (;;) {
			if (n == max) {
				perr(p, p->pos, "%.*s() takes at most %u argument%s", (int)nlen, name,
				     max, max == 1 ? "" : "s");
				return -1;
			}
			int k = parse_or(p);
			if (k < 0)
				return -1;
			args[n++] = k;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ')') {
				p->pos++;
				break;
			}
			perr(p, p->pos, "expected ',' or ')' in call to %.*s()", (int)nlen, name);
			return -1;
		}
	}
	if (n < min) {
		perr(p, start, "%.*s() needs %u argument%s", (int)nlen, name, min,
		     min == 1 ? "" : "s");
		return -1;
	}
	struct node *c = &p->nodes[i];
	c->nargs = (uint8_t)n;
	c->a = (uint16_t)args[0];
	c->b = (uint16_t)(n > 1 ? args[1] : 0);
	if (op == OP_MATCHES) {
		const struct node *pat = &p->nodes[args[1]];
		if (pat->op != OP_STR) {
			perr(p, pat->start, "matches() needs a constant string pattern");
			return -1;
		}
		if (compile_regex(p, c, pat) < 0)
			return -1;
	}
	finish(p, i);
	return i;
}

static int parse_primary(struct parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len) {
		perr(p, p->pos, "unexpected end of expression");
		return -1;
	}
	size_t start = p->pos;
	int c = (unsigned char)p->s[p->pos];
	if (c == '(') {
		p->pos++;
		int i = parse_or(p);
		if (i < 0)
			return -1;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ')') {
			perr(p, p->pos, "expected ')' to close the '(' at column %zu", start + 1);
			return -1;
		}
		p->pos++;
		return i;
	}
	if (c == '"' || c == '\'')
		return parse_string(p);
	if (c == '[')
		return parse_list(p);
	if (isdigit(c) || c == '$' || (c == '-' && p->pos + 1 < p->len &&
				       (isdigit((unsigned char)p->s[p->pos + 1])))) {
		int neg = c == '-';
		if (neg)
			p->pos++;
		int i = parse_number(p);
		if (i >= 0 && neg) {
			p->nodes[i].v.num = -p->nodes[i].v.num;
			p->nodes[i].start = (uint32_t)start;
			finish(p, i);
		}
		return i;
	}
	if (is_ident_start(c)) {
		while (p->pos < p->len && (is_ident((unsigned char)p->s[p->pos]) ||
					   (p->s[p->pos] == '.' && p->pos + 1 < p->len &&
					    is_ident_start((unsigned char)p->s[p->pos + 1]))))
			p->pos++;
		size_t n = p->pos - start;
		const char *w = p->s + start;
		if ((n == 4 && !memcmp(w, "true", 4)) || (n == 5 && !memcmp(w, "false", 5))) {
			int i = new_node(p, OP_BOOL, start);
			if (i < 0)
				return -1;
			p->nodes[i].v.type = SG_V_BOOL;
			p->nodes[i].v.b = n == 4;
			finish(p, i);
			return i;
		}
		if (n == 4 && !memcmp(w, "null", 4)) {
			int i = new_node(p, OP_NULL, start);
			finish(p, i);
			return i;
		}
		if ((n == 3 && (!memcmp(w, "and", 3) || !memcmp(w, "not", 3))) ||
		    (n == 2 && (!memcmp(w, "or", 2) || !memcmp(w, "in", 2)))) {
			perr(p, start, "expected a value, found '%.*s'", (int)n, w);
			return -1;
		}
		size_t save = p->pos;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == '(')
			return parse_call(p, start, n);
		p->pos = save;
		size_t root = 0;
		while (root < n && w[root] != '.')
			root++;
		if (p->known_root && !p->known_root(p->ud, w, root)) {
			perr(p, start, "unknown field '%.*s'", (int)n, w);
			return -1;
		}
		int i = new_node(p, OP_PATH, start);
		if (i < 0)
			return -1;
		char *path = sg_arena_strndup(p->a, w, n);
		if (!path) {
			perr(p, start, "out of memory");
			return -1;
		}
		p->nodes[i].path = path;
		p->nodes[i].path_id = p->intern ? p->intern(p->ud, path) : 0;
		p->has_paths = 1;
		finish(p, i);
		return i;
	}
	perr(p, start, "unexpected '%c'", c);
	return -1;
}

static int parse_cmp(struct parser *p)
{
	int l = parse_primary(p);
	if (l < 0)
		return -1;
	skip_ws(p);
	uint8_t op = 0;
	size_t at = p->pos;
	const char *s = p->s + p->pos;
	size_t left = p->len - p->pos;
	if (left >= 2 && !memcmp(s, "==", 2)) { op = OP_EQ; p->pos += 2; }
	else if (left >= 2 && !memcmp(s, "!=", 2)) { op = OP_NE; p->pos += 2; }
	else if (left >= 2 && !memcmp(s, "<=", 2)) { op = OP_LE; p->pos += 2; }
	else if (left >= 2 && !memcmp(s, ">=", 2)) { op = OP_GE; p->pos += 2; }
	else if (left >= 1 && *s == '<') { op = OP_LT; p->pos += 1; }
	else if (left >= 1 && *s == '>') { op = OP_GT; p->pos += 1; }
	else if (left >= 1 && *s == '=') {
		perr(p, at, "'=' is not an operator; use '==' to compare");
		return -1;
	} else if (left >= 1 && *s == '!') {
		perr(p, at, "'!' is not an operator; use 'not' or '!='");
		return -1;
	} else if (word_is(p, "in")) { op = OP_IN; p->pos += 2; }
	else if (word_is(p, "not")) {
		size_t save = p->pos;
		p->pos += 3;
		skip_ws(p);
		if (word_is(p, "in")) {
			op = OP_NOTIN;
			p->pos += 2;
		} else {
			p->pos = save;
		}
	}
	if (!op)
		return l;
	int r = parse_primary(p);
	if (r < 0)
		return -1;
	int i = new_node(p, op, p->nodes[l].start);
	if (i < 0)
		return -1;
	p->nodes[i].a = (uint16_t)l;
	p->nodes[i].b = (uint16_t)r;
	p->nodes[i].nargs = 2;
	finish(p, i);
	skip_ws(p);
	if (p->pos < p->len && strchr("=<>!", p->s[p->pos])) {
		perr(p, p->pos, "comparisons do not chain; join them with 'and'");
		return -1;
	}
	return i;
}

static int parse_not(struct parser *p)
{
	skip_ws(p);
	int r;
	if (word_is(p, "not")) {
		if (++p->depth > SG_MAX_EXPR_DEPTH) {
			perr(p, p->pos, "nested too deeply (limit %d)", SG_MAX_EXPR_DEPTH);
			return -1;
		}
		size_t start = p->pos;
		p->pos += 3;
		int k = parse_not(p);
		if (k < 0)
			return -1;
		r = new_node(p, OP_NOT, start);
		if (r >= 0) {
			p->nodes[r].a = (uint16_t)k;
			p->nodes[r].nargs = 1;
			finish(p, r);
		}
		p->depth--;
	} else {
		r = parse_cmp(p);
	}
	return r;
}

/* A left-associative chain `x WORD y WORD z` of one binary operator. */
static int parse_chain(struct parser *p, const char *word, int op,
		       int (*operand)(struct parser *))
{
	size_t wl = strlen(word);
	int l = operand(p);
	while (l >= 0) {
		skip_ws(p);
		if (!word_is(p, word))
			break;
		p->pos += wl;
		int r = operand(p);
		if (r < 0)
			return -1;
		int i = new_node(p, op, p->nodes[l].start);
		if (i < 0)
			return -1;
		p->nodes[i].a = (uint16_t)l;
		p->nodes[i].b = (uint16_t)r;
		p->nodes[i].nargs = 2;
		finish(p, i);
		l = i;
	}
	return l;
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, "and", OP_AND, parse_not);
}

static int parse_or(struct parser *p)
{
	if (++p->depth > SG_MAX_EXPR_DEPTH) {
		perr(p, p->pos, "nested too deeply (limit %d)", SG_MAX_EXPR_DEPTH);
		return -1;
	}
	int l = parse_chain(p, "or", OP_OR, parse_and);
	p->depth--;
	return l;
}

struct sg_expr *sg_expr_parse(struct sg_arena *a, const char *src, size_t len,
			      const struct sg_expr_loc *loc,
			      int (*known_root)(void *ud, const char *root, size_t n),
			      void *ud, uint32_t (*intern)(void *ud, const char *path),
			      struct sg_diags *diags)
{
	struct parser *p = sg_calloc(1, sizeof *p);
	struct sg_expr *e = NULL;
	if (!p) {
		sg_diags_add(diags, SG_DIAG_ERROR, loc ? loc->file : "<expr>", NULL, 0, 0,
			     "out of memory");
		return NULL;
	}
	p->a = a;
	p->s = src;
	p->len = len;
	p->loc = loc;
	p->diags = diags;
	p->known_root = known_root;
	p->intern = intern;
	p->ud = ud;
	if (len > SG_MAX_EXPR_BYTES) {
		perr(p, 0, "longer than %u bytes", SG_MAX_EXPR_BYTES);
		goto cleanup;
	}
	if (memchr(src, 0, len)) {
		perr(p, (size_t)((const char *)memchr(src, 0, len) - src), "NUL byte");
		goto cleanup;
	}
	skip_ws(p);
	if (p->pos == len) {
		perr(p, 0, "empty expression");
		goto cleanup;
	}
	int root = parse_or(p);
	if (root < 0)
		goto cleanup;
	skip_ws(p);
	if (p->pos < len) {
		perr(p, p->pos, "unexpected '%.*s' after the end of the expression",
		     (int)(len - p->pos > 20 ? 20 : len - p->pos), src + p->pos);
		goto cleanup;
	}
	e = sg_arena_calloc(a, 1, sizeof *e);
	struct node *nodes = sg_arena_calloc(a, p->n, sizeof *nodes);
	char *copy = sg_arena_strndup(a, src, len);
	if (!e || !nodes || !copy) {
		e = NULL;
		perr(p, 0, "out of memory");
		goto cleanup;
	}
	memcpy(nodes, p->nodes, p->n * sizeof *nodes);
	e->nodes = nodes;
	e->n = p->n;
	e->root = (uint32_t)root;
	e->src = copy;
	e->has_paths = p->has_paths;
cleanup:
	sg_free(p);
	return e;
}

const char *sg_expr_source(const struct sg_expr *e) { return e->src; }
int sg_expr_is_constant(const struct sg_expr *e) { return !e->has_paths; }
unsigned sg_expr_nodes(const struct sg_expr *e) { return e->n; }

int sg_expr_simple_compare(const struct sg_expr *e, const char **path, const char **op,
			   double *num)
{
	const struct node *r = &e->nodes[e->root];
	if (r->op < OP_EQ || r->op > OP_GE)
		return 0;
	const struct node *l = &e->nodes[r->a], *k = &e->nodes[r->b];
	if (l->op != OP_PATH || k->op != OP_NUM)
		return 0;
	*path = l->path;
	*op = op_text[r->op];
	*num = k->v.num;
	return 1;
}

static int names_value(const struct sg_expr *e, uint32_t i, const char *path, const char *value)
{
	const struct node *n = &e->nodes[i];
	size_t vl = strlen(value);
	if (n->op == OP_OR)
		return names_value(e, n->a, path, value) || names_value(e, n->b, path, value);
	if (n->op != OP_EQ && n->op != OP_IN)
		return 0;
	const struct node *l = &e->nodes[n->a], *r = &e->nodes[n->b];
	if (l->op != OP_PATH || strcmp(l->path, path))
		return 0;
	if (n->op == OP_EQ)
		return r->op == OP_STR && r->v.len == vl && !memcmp(r->v.str, value, vl);
	if (r->op != OP_LIST)
		return 0;
	for (size_t k = 0; k < r->v.len; k++)
		if (r->v.items[k].type == SG_V_STR && r->v.items[k].len == vl &&
		    !memcmp(r->v.items[k].str, value, vl))
			return 1;
	return 0;
}

int sg_expr_any_list(const struct sg_expr *e, const char **path, const struct sg_value **list)
{
	const struct node *n = &e->nodes[e->root];
	if (n->op == OP_OR) /* the left-most term of an `or` chain */
		while (n->op == OP_OR)
			n = &e->nodes[n->a];
	if (n->op != OP_ANY || n->nargs != 2)
		return 0;
	const struct node *l = &e->nodes[n->a], *r = &e->nodes[n->b];
	if (l->op != OP_PATH || r->op != OP_LIST)
		return 0;
	*path = l->path;
	*list = &r->v;
	return 1;
}

void sg_expr_each_any(const struct sg_expr *e,
		      void (*fn)(void *ud, const char *path, const struct sg_value *list),
		      void *ud)
{
	for (uint32_t i = 0; e && i < e->n; i++) {
		const struct node *n = &e->nodes[i];
		if (n->op != OP_ANY || n->nargs != 2)
			continue;
		const struct node *l = &e->nodes[n->a], *r = &e->nodes[n->b];
		if (l->op == OP_PATH && r->op == OP_LIST)
			fn(ud, l->path, &r->v);
	}
}

int sg_expr_implied_by_value(const struct sg_expr *e, const char *path, const char *value)
{
	return names_value(e, e->root, path, value);
}
