/*
 * metrics_parse.c - reads Prometheus text exposition back into samples and
 * checks the format's rules on the way, naming the line of the first
 * violation. Linear scans: it reads a scrape, not a database.
 */
#include "server/metrics_parse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/banned.h"

struct sample {
	char *name, *labels;
	char *le; /* histogram buckets: the le value, else NULL */
	double value;
};

struct family {
	char *name, *type, *help;
	int has_samples, closed;
};

struct sg_prom {
	struct sample *s;
	size_t ns, caps;
	struct family *f;
	size_t nf, capf;
};

void sg_prom_free(struct sg_prom *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ns; i++) {
		sg_free(p->s[i].name);
		sg_free(p->s[i].labels);
		sg_free(p->s[i].le);
	}
	for (size_t i = 0; i < p->nf; i++) {
		sg_free(p->f[i].name);
		sg_free(p->f[i].type);
		sg_free(p->f[i].help);
	}
	sg_free(p->s);
	sg_free(p->f);
	sg_free(p);
}

static int name_char(char c, int first, int colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':'))
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* Reads a name at *pp; returns its length (0 when none). */
static size_t read_name(const char **pp, const char *end, int colon)
{
	const char *p = *pp;
	while (p < end && name_char(*p, p == *pp, colon))
		p++;
	size_t n = (size_t)(p - *pp);
	*pp = p;
	return n;
}

static struct family *family_of(struct sg_prom *p, const char *name, size_t n)
{
	for (size_t i = 0; i < p->nf; i++)
		if (strlen(p->f[i].name) == n && memcmp(p->f[i].name, name, n) == 0)
			return &p->f[i];
	return NULL;
}

#define NO_FAMILY SIZE_MAX

static struct family *family_add(struct sg_prom *p, const char *name, size_t n)
{
	if (p->nf == p->capf) {
		size_t cap = p->capf ? 2 * p->capf : 16;
		struct family *f = sg_realloc(p->f, cap * sizeof(*f));
		if (!f)
			return NULL;
		p->f = f;
		p->capf = cap;
	}
	struct family *f = &p->f[p->nf];
	memset(f, 0, sizeof(*f));
	if (!(f->name = sg_strndup(name, n)))
		return NULL;
	p->nf++;
	return f;
}

static int parse_value(const char *s, size_t n, double *out)
{
	char tmp[64];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strcmp(tmp, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcmp(tmp, "+Inf") == 0 || strcmp(tmp, "-Inf") == 0) {
		*out = tmp[0] == '+' ? INFINITY : -INFINITY;
		return 0;
	}
	char *end;
	*out = strtod(tmp, &end);
	if (*end || isnan(*out) || isinf(*out))
		return -1;
	return 0;
}

/* Unescapes a HELP text or label value into b; quote: label value rules. */
static int unescape(struct sg_buf *b, const char *s, size_t n, int quote)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			sg_buf_addc(b, s[i]);
			continue;
		}
		if (++i == n)
			return -1;
		if (s[i] == '\\')
			sg_buf_addc(b, '\\');
		else if (s[i] == 'n')
			sg_buf_addc(b, '\n');
		else if (quote && s[i] == '"')
			sg_buf_addc(b, '"');
		else
			return -1;
	}
	return 0;
}

#define FAIL(...)                                                              \
	do {                                                                   \
		rc = sg_error_set(err, SG_EINVALID, __VA_ARGS__);              \
		goto cleanup;                                                  \
	} while (0)

static int parse_comment(struct sg_prom *p, const char *line, const char *end,
			 unsigned lineno, struct sg_error *err)
{
	int rc = 0;
	struct sg_buf b = SG_BUF_INIT;
	const char *q = line + 1;
	if (q < end && *q == ' ')
		q++;
	int help = (size_t)(end - q) >= 5 && memcmp(q, "HELP ", 5) == 0;
	int type = (size_t)(end - q) >= 5 && memcmp(q, "TYPE ", 5) == 0;
	if (!help && !type)
		goto cleanup; /* plain comment */
	q += 5;
	const char *name = q;
	size_t n = read_name(&q, end, 1);
	if (!n)
		FAIL("line %u: expected a metric name", lineno);
	if (q < end && *q != ' ')
		FAIL("line %u: invalid metric name", lineno);
	if (q < end)
		q++;
	struct family *f = family_of(p, name, n);
	if (!f && !(f = family_add(p, name, n)))
		FAIL("out of memory");
	if (f->has_samples)
		FAIL("line %u: %s for '%.*s' after its samples", lineno,
		     help ? "HELP" : "TYPE", (int)n, name);
	if (help) {
		if (f->help)
			FAIL("line %u: second HELP for '%.*s'", lineno, (int)n, name);
		if (unescape(&b, q, (size_t)(end - q), 0))
			FAIL("line %u: invalid escape in HELP", lineno);
		if (b.oom || !(f->help = sg_buf_detach(&b, NULL)))
			FAIL("out of memory");
	} else {
		if (f->type)
			FAIL("line %u: second TYPE for '%.*s'", lineno, (int)n, name);
		static const char *const types[] = {"counter", "gauge", "histogram",
						    "summary", "untyped"};
		size_t tl = (size_t)(end - q), k;
		for (k = 0; k < 5; k++)
			if (strlen(types[k]) == tl && memcmp(types[k], q, tl) == 0)
				break;
		if (k == 5)
			FAIL("line %u: unknown type '%.*s'", lineno, (int)tl, q);
		if (!(f->type = sg_strndup(q, tl)))
			FAIL("out of memory");
	}
cleanup:
	sg_buf_release(&b);
	return rc;
}

/* The family a sample belongs to: its own name, or a histogram/summary's
 * base name for the _bucket/_sum/_count series. */
static struct family *owner(struct sg_prom *p, const char *name, size_t n)
{
	static const char *const suffix[] = {"_bucket", "_sum", "_count"};
	for (size_t k = 0; k < 3; k++) {
		size_t sl = strlen(suffix[k]);
		if (n > sl && memcmp(name + n - sl, suffix[k], sl) == 0) {
			struct family *f = family_of(p, name, n - sl);
			if (f && f->type && (strcmp(f->type, "histogram") == 0 ||
					     (k && strcmp(f->type, "summary") == 0)))
				return f;
		}
	}
	return family_of(p, name, n);
}

static int parse_sample(struct sg_prom *p, const char *line, const char *end,
			unsigned lineno, size_t *current,
			struct sg_error *err)
{
	int rc = 0;
	struct sg_buf labels = SG_BUF_INIT, val = SG_BUF_INIT;
	char *le = NULL;
	const char *q = line, *name = line;
	size_t n = read_name(&q, end, 1);
	if (!n)
		FAIL("line %u: expected a metric name", lineno);
	if (q < end && *q == '{') {
		q++;
		int first = 1;
		while (q < end && *q != '}') {
			if (!first) {
				if (*q != ',')
					FAIL("line %u: expected ',' between labels",
					     lineno);
				q++;
				if (q < end && *q == '}')
					break; /* trailing comma is allowed */
			}
			const char *ln = q;
			size_t lnl = read_name(&q, end, 0);
			if (!lnl)
				FAIL("line %u: expected a label name", lineno);
			if (q + 1 >= end || q[0] != '=' || q[1] != '"')
				FAIL("line %u: expected '=\"' after label '%.*s'",
				     lineno, (int)lnl, ln);
			q += 2;
			const char *vs = q;
			while (q < end && *q != '"') {
				if (*q == '\\')
					q++;
				q++;
			}
			if (q >= end)
				FAIL("line %u: unterminated label value", lineno);
			sg_buf_reset(&val);
			if (unescape(&val, vs, (size_t)(q - vs), 1))
				FAIL("line %u: invalid escape in label '%.*s'",
				     lineno, (int)lnl, ln);
			q++;
			if (lnl == 2 && memcmp(ln, "le", 2) == 0) {
				sg_free(le);
				if (!(le = sg_strdup(val.data)))
					FAIL("out of memory");
			} else {
				if (labels.len)
					sg_buf_addc(&labels, ',');
				sg_buf_add(&labels, ln, lnl);
				sg_buf_addc(&labels, '=');
				sg_buf_add(&labels, val.data, val.len);
			}
			first = 0;
		}
		if (q >= end)
			FAIL("line %u: unterminated label set", lineno);
		q++;
	}
	if (q >= end || *q != ' ')
		FAIL("line %u: expected a space before the value", lineno);
	while (q < end && *q == ' ')
		q++;
	const char *vs = q;
	while (q < end && *q != ' ')
		q++;
	double v;
	if (parse_value(vs, (size_t)(q - vs), &v))
		FAIL("line %u: invalid value '%.*s'", lineno, (int)(q - vs), vs);
	if (q < end) { /* optional timestamp */
		q++;
		const char *ts = q;
		if (q < end && *q == '-')
			q++;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q != end || q == ts)
			FAIL("line %u: invalid timestamp", lineno);
	}
	struct family *f = owner(p, name, n);
	if (!f && !(f = family_add(p, name, n)))
		FAIL("out of memory");
	/* the family of the previous sample, by index: adding a family may
	 * move the array */
	size_t fi = (size_t)(f - p->f);
	if (f->closed || (*current != NO_FAMILY && *current != fi && f->has_samples))
		FAIL("line %u: samples of '%s' are not grouped together", lineno,
		     f->name);
	if (*current != NO_FAMILY && *current != fi)
		p->f[*current].closed = 1;
	*current = fi;
	f->has_samples = 1;
	if (p->ns == p->caps) {
		size_t cap = p->caps ? 2 * p->caps : 64;
		struct sample *s = sg_realloc(p->s, cap * sizeof(*s));
		if (!s)
			FAIL("out of memory");
		p->s = s;
		p->caps = cap;
	}
	struct sample *s = &p->s[p->ns];
	s->name = sg_strndup(name, n);
	s->labels = sg_buf_detach(&labels, NULL);
	s->value = v;
	if (!s->name || !s->labels) {
		sg_free(s->name);
		sg_free(s->labels);
		FAIL("out of memory");
	}
	/* le is kept apart and, for lookups, appended last */
	s->le = le;
	le = NULL;
	if (s->le) {
		struct sg_buf k = SG_BUF_INIT;
		sg_buf_adds(&k, s->labels);
		if (k.len)
			sg_buf_addc(&k, ',');
		sg_buf_adds(&k, "le=");
		sg_buf_adds(&k, s->le);
		char *full = sg_buf_detach(&k, NULL);
		if (!full) {
			sg_free(s->name);
			sg_free(s->labels);
			sg_free(s->le);
			FAIL("out of memory");
		}
		sg_free(s->labels);
		s->labels = full;
	}
	p->ns++;
cleanup:
	sg_free(le);
	sg_buf_release(&labels);
	sg_buf_release(&val);
	return rc;
}

/* Histogram rules, per series (labels without le): buckets ascending and
 * cumulative, +Inf present and equal to _count. */
static int check_histograms(const struct sg_prom *p, struct sg_error *err)
{
	for (size_t i = 0; i < p->ns; i++) {
		const struct sample *s = &p->s[i];
		size_t nl = strlen(s->name);
		if (nl < 8 || strcmp(s->name + nl - 7, "_bucket") != 0)
			continue;
		struct family *f = family_of((struct sg_prom *)p, s->name, nl - 7);
		if (!f || !f->type || strcmp(f->type, "histogram") != 0)
			continue;
		if (!s->le)
			return sg_error_set(err, SG_EINVALID,
					    "'%s': bucket without le", s->name);
		if (strcmp(s->le, "+Inf") != 0)
			continue;
		/* the series' base labels: strip ",le=+Inf" / "le=+Inf" */
		size_t bl = strlen(s->labels) - strlen("le=+Inf");
		if (bl)
			bl--;
		double prev_le = -INFINITY, prev = 0;
		for (size_t j = 0; j < p->ns; j++) {
			const struct sample *b = &p->s[j];
			if (strcmp(b->name, s->name) != 0 || !b->le ||
			    strncmp(b->labels, s->labels, bl) != 0 ||
			    !(b->labels[bl] == ',' || (bl == 0 && b->labels[0] == 'l')))
				continue;
			double le;
			if (parse_value(b->le, strlen(b->le), &le) || isnan(le))
				return sg_error_set(err, SG_EINVALID,
						    "'%s': invalid le '%s'", s->name,
						    b->le);
			if (!(le > prev_le) || b->value < prev)
				return sg_error_set(err, SG_EINVALID,
						    "'%s': buckets not ascending "
						    "and cumulative", s->name);
			prev_le = le;
			prev = b->value;
		}
		char cname[256];
		if (nl - 7 + 7 >= sizeof(cname))
			continue;
		memcpy(cname, s->name, nl - 7);
		memcpy(cname + nl - 7, "_count", 7);
		char base[1024];
		if (bl >= sizeof(base))
			continue;
		memcpy(base, s->labels, bl);
		base[bl] = '\0';
		double c = sg_prom_value(p, cname, base);
		if (c != s->value)
			return sg_error_set(err, SG_EINVALID,
					    "'%s': le=\"+Inf\" (%g) differs from "
					    "_count (%g)", s->name, s->value, c);
	}
	return 0;
}

int sg_prom_parse(struct sg_prom **out, const char *text, size_t len,
		  struct sg_error *err)
{
	int rc = 0;
	*out = NULL;
	struct sg_prom *p = sg_calloc(1, sizeof(*p));
	if (!p)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (len && text[len - 1] != '\n')
		FAIL("the last line does not end with a newline");
	size_t current = NO_FAMILY;
	unsigned lineno = 0;
	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		const char *end = nl;
		pos = (size_t)(nl - text) + 1;
		lineno++;
		if (memchr(line, '\0', (size_t)(end - line)))
			FAIL("line %u: NUL byte", lineno);
		if (end == line)
			continue;
		if (*line == '#')
			rc = parse_comment(p, line, end, lineno, err);
		else
			rc = parse_sample(p, line, end, lineno, &current, err);
		if (rc)
			goto cleanup;
	}
	rc = check_histograms(p, err);
cleanup:
	if (rc)
		sg_prom_free(p);
	else
		*out = p;
	return rc;
}

double sg_prom_value(const struct sg_prom *p, const char *name,
		     const char *labels)
{
	for (size_t i = 0; i < p->ns; i++)
		if (strcmp(p->s[i].name, name) == 0 &&
		    strcmp(p->s[i].labels, labels) == 0)
			return p->s[i].value;
	return NAN;
}

const char *sg_prom_type(const struct sg_prom *p, const char *name)
{
	struct family *f = family_of((struct sg_prom *)p, name, strlen(name));
	return f ? f->type : NULL;
}

const char *sg_prom_help(const struct sg_prom *p, const char *name)
{
	struct family *f = family_of((struct sg_prom *)p, name, strlen(name));
	return f ? f->help : NULL;
}

size_t sg_prom_count(const struct sg_prom *p)
{
	return p->ns;
}
