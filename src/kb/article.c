/*
 * article.c - parses one KB article: the `key: value` front matter between
 * `---` lines, then the Markdown body cut into passages at headings and
 * blank lines, each at most SG_MAX_KB_PASSAGE_BYTES.
 */
#include "kb/kb.h"

#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/banned.h"

static char *trimdup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return sg_strndup(s, n);
}

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    !strchr("-_/.", *s))
			return 0;
	return 1;
}

static int add_passage(struct sg_kb_article *a, const char *heading,
		       const char *text, size_t len)
{
	char *t = trimdup(text, len);
	if (!t)
		return -SG_ENOMEM;
	if (!*t) {
		sg_free(t);
		return 0;
	}
	char **p = sg_realloc(a->passages, (a->npassages + 1) * sizeof(*p));
	if (!p) {
		sg_free(t);
		return -SG_ENOMEM;
	}
	a->passages = p;
	char **h = sg_realloc(a->headings, (a->npassages + 1) * sizeof(*h));
	if (!h) {
		sg_free(t);
		return -SG_ENOMEM;
	}
	a->headings = h;
	a->headings[a->npassages] = sg_strdup(heading);
	if (!a->headings[a->npassages]) {
		sg_free(t);
		return -SG_ENOMEM;
	}
	a->passages[a->npassages++] = t;
	return 0;
}

/* Cuts an over-long paragraph at sentence ends (or spaces) into pieces of
 * at most SG_MAX_KB_PASSAGE_BYTES. */
static int add_long(struct sg_kb_article *a, const char *heading,
		    const char *s, size_t n)
{
	while (n > SG_MAX_KB_PASSAGE_BYTES) {
		size_t cut = 0;
		for (size_t i = SG_MAX_KB_PASSAGE_BYTES / 2; i < SG_MAX_KB_PASSAGE_BYTES; i++)
			if ((s[i] == '.' || s[i] == '?') && s[i + 1] == ' ')
				cut = i + 1;
		if (!cut)
			for (size_t i = SG_MAX_KB_PASSAGE_BYTES - 1; i > 0 && !cut; i--)
				if (s[i] == ' ')
					cut = i;
		if (!cut)
			cut = SG_MAX_KB_PASSAGE_BYTES;
		/* never cut inside a UTF-8 sequence */
		while (cut > 1 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		int rc = add_passage(a, heading, s, cut);
		if (rc)
			return rc;
		s += cut, n -= cut;
	}
	return add_passage(a, heading, s, n);
}

/* Appends one body line to the paragraph buffer, without list markers and
 * emphasis characters. */
static void add_line(struct sg_buf *para, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
		s += 2, n -= 2;
	else {
		size_t d = 0;
		while (d < n && isdigit((unsigned char)s[d]))
			d++;
		if (d && d + 1 < n && s[d] == '.' && s[d + 1] == ' ')
			s += d + 2, n -= d + 2;
	}
	if (para->len)
		sg_buf_addc(para, '\n');
	for (size_t i = 0; i < n; i++)
		if (s[i] != '*' && s[i] != '`' && s[i] != '\r')
			sg_buf_addc(para, s[i]);
}

static int flush(struct sg_kb_article *a, const char *heading, struct sg_buf *para)
{
	int rc = 0;
	if (para->len)
		rc = add_long(a, heading, para->data, para->len);
	sg_buf_reset(para);
	return rc;
}

void sg_kb_article_release(struct sg_kb_article *a)
{
	sg_free(a->id);
	sg_free(a->title);
	sg_free(a->url);
	sg_free(a->tags);
	sg_free(a->language);
	for (size_t i = 0; i < a->npassages; i++) {
		sg_free(a->passages[i]);
		sg_free(a->headings[i]);
	}
	sg_free(a->passages);
	sg_free(a->headings);
	memset(a, 0, sizeof(*a));
}

static int set_field(struct sg_kb_article *a, const char *file, unsigned line,
		     const char *key, size_t klen, const char *val,
		     struct sg_error *err)
{
	char **slot = NULL;
#define K(name) (klen == strlen(name) && !memcmp(key, name, klen))
	if (K("id"))
		slot = &a->id;
	else if (K("title"))
		slot = &a->title;
	else if (K("url"))
		slot = &a->url;
	else if (K("tags"))
		slot = &a->tags;
	else if (K("language"))
		slot = &a->language;
	else if (K("approved")) {
		if (!strcmp(val, "true") || !strcmp(val, "yes"))
			a->approved = 1;
		else if (!strcmp(val, "false") || !strcmp(val, "no"))
			a->approved = 0;
		else
			return sg_error_setloc(err, SG_EINVALID, file, line, 1,
					       "front matter 'approved': expected true or false, got '%.40s'", val);
		return 0;
	} else
		return sg_error_setloc(err, SG_EINVALID, file, line, 1,
				       "front matter: unknown key '%.*s' (expected id, title, url, tags, language, approved)",
				       (int)(klen > 40 ? 40 : klen), key);
#undef K
	if (*slot)
		return sg_error_setloc(err, SG_EINVALID, file, line, 1,
				       "front matter: key '%.*s' given twice", (int)klen, key);
	/* tags may be written as a YAML flow list: [a, b] */
	size_t vlen = strlen(val);
	if (slot == &a->tags && vlen >= 2 && val[0] == '[' && val[vlen - 1] == ']')
		*slot = trimdup(val + 1, vlen - 2);
	else if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0])
		*slot = sg_strndup(val + 1, vlen - 2);
	else
		*slot = sg_strdup(val);
	return *slot ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

int sg_kb_article_parse(struct sg_kb_article *out, const char *file,
			const char *text, size_t len, struct sg_error *err)
{
	struct sg_buf para = SG_BUF_INIT;
	char *heading = NULL;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (len > SG_MAX_KB_ARTICLE_BYTES) {
		rc = sg_error_set(err, SG_ELIMIT, "%s: article is %zu bytes, over the limit of %u",
				  file, len, SG_MAX_KB_ARTICLE_BYTES);
		goto cleanup;
	}
	if (memchr(text, '\0', len)) {
		rc = sg_error_set(err, SG_EINVALID, "%s: article contains a NUL byte", file);
		goto cleanup;
	}
	const char *p = text, *end = text + len;
	unsigned line = 1;
	/* front matter */
	if (len < 4 || memcmp(p, "---", 3) || (p[3] != '\n' && p[3] != '\r')) {
		rc = sg_error_setloc(err, SG_EINVALID, file, 1, 1,
				     "article must start with a front matter block ('---')");
		goto cleanup;
	}
	p = memchr(p, '\n', end - p) + 1;
	line++;
	int closed = 0;
	char val[1024];
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;
		size_t n = le - p;
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 3 && !memcmp(p, "---", 3)) {
			closed = 1;
			p = nl ? nl + 1 : end;
			line++;
			break;
		}
		size_t blank = 0;
		while (blank < n && isspace((unsigned char)p[blank]))
			blank++;
		if (blank < n && p[blank] != '#') {
			const char *colon = memchr(p, ':', n);
			if (!colon) {
				rc = sg_error_setloc(err, SG_EINVALID, file, line, 1,
						     "front matter: expected 'key: value'");
				goto cleanup;
			}
			size_t klen = colon - p;
			while (klen && isspace((unsigned char)p[klen - 1]))
				klen--;
			size_t vn = n - (colon + 1 - p);
			char *v = trimdup(colon + 1, vn);
			if (!v) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
			size_t vl = strlen(v);
			if (vl >= sizeof(val)) {
				sg_free(v);
				rc = sg_error_setloc(err, SG_EINVALID, file, line, 1,
						     "front matter: value over %zu bytes", sizeof(val) - 1);
				goto cleanup;
			}
			memcpy(val, v, vl + 1);
			sg_free(v);
			rc = set_field(out, file, line, p, klen, val, err);
			if (rc)
				goto cleanup;
		}
		p = nl ? nl + 1 : end;
		line++;
	}
	if (!closed) {
		rc = sg_error_setloc(err, SG_EINVALID, file, line, 1,
				     "front matter is not closed by a '---' line");
		goto cleanup;
	}
	const char *missing = !out->id ? "id" : !out->title ? "title" : !out->url ? "url" : NULL;
	if (missing) {
		rc = sg_error_setloc(err, SG_EINVALID, file, 1, 1,
				     "front matter: missing required key '%s'", missing);
		goto cleanup;
	}
	if (!valid_id(out->id)) {
		rc = sg_error_setloc(err, SG_EINVALID, file, 1, 1,
				     "front matter 'id': '%.60s' must use only a-z, 0-9, '-', '_', '/', '.'", out->id);
		goto cleanup;
	}
	if (strncmp(out->url, "https://", 8) && strncmp(out->url, "http://", 7)) {
		rc = sg_error_setloc(err, SG_EINVALID, file, 1, 1,
				     "front matter 'url': '%.80s' is not an http(s) URL", out->url);
		goto cleanup;
	}
	if (!out->tags)
		out->tags = sg_strdup("");
	if (!out->language)
		out->language = sg_strdup("en");
	heading = sg_strdup("");
	if (!out->tags || !out->language || !heading) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* body */
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;
		size_t n = le - p;
		size_t ws = 0;
		while (ws < n && isspace((unsigned char)p[ws]))
			ws++;
		if (ws == n) {
			/* short paragraphs under one heading share a passage */
			if (para.len >= SG_MAX_KB_PASSAGE_BYTES / 2)
				rc = flush(out, heading, &para);
		} else if (p[0] == '#') {
			rc = flush(out, heading, &para);
			size_t h = 0;
			while (h < n && p[h] == '#')
				h++;
			sg_free(heading);
			heading = trimdup(p + h, n - h);
			if (!heading)
				rc = -SG_ENOMEM;
		} else {
			add_line(&para, p, n);
			if (para.len > 4 * SG_MAX_KB_PASSAGE_BYTES)
				rc = flush(out, heading, &para);
		}
		if (rc || para.oom) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		p = nl ? nl + 1 : end;
	}
	rc = flush(out, heading, &para);
	if (rc)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
cleanup:
	sg_buf_release(&para);
	sg_free(heading);
	if (rc)
		sg_kb_article_release(out);
	return rc;
}
