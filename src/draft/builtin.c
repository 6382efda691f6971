/*
 * builtin.c - the built-in drafter and summarizer: no model, offline,
 * deterministic. The drafter quotes the best grounded sentences of the top
 * KB article; the summarizer reduces a masked thread to three sections.
 */
#include "draft/draft.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "draft/draft_int.h"
#include "core/banned.h"

int sg_draft_sentences(struct sg_sent **out, size_t *n, const char *text)
{
	struct sg_sent *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = text;
	*out = NULL;
	*n = 0;
	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != '\n') {
			if ((*p == '.' || *p == '?' || *p == '!') && (p[1] == ' ' || p[1] == '\n' || !p[1])) {
				p++;
				break;
			}
			p++;
		}
		size_t len = p - s;
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (!len)
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			struct sg_sent *nv = sg_realloc(v, cap * sizeof(*nv));
			if (!nv) {
				sg_free(v);
				return -SG_ENOMEM;
			}
			v = nv;
		}
		v[cnt].s = s;
		v[cnt].n = len;
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int sg_draft_same_word(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la == lb)
		return !strcmp(a, b);
	size_t m = la < lb ? la : lb;
	return m >= 4 && !memcmp(a, b, m);
}

size_t sg_draft_word_count(const char *text)
{
	size_t n = 0;
	int in = 0;
	for (const char *p = text; *p; p++) {
		if (isspace((unsigned char)*p))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

void sg_draft_release(struct sg_draft *d)
{
	sg_free(d->text);
	for (size_t i = 0; i < d->nsources; i++)
		sg_free(d->sources[i]);
	sg_free(d->sources);
	sg_free(d->model_name);
	sg_free(d->prompt_template_version);
	memset(d, 0, sizeof(*d));
}

static int has_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; m && i + m <= n; i++)
		if (!strncasecmp(s + i, needle, m))
			return 1;
	return 0;
}

struct cand {
	const char *s;
	size_t n;
	double score;
	size_t order; /* passage rank * 1000 + position */
	int pick;
};

static int cmp_score(const void *a, const void *b)
{
	const struct cand *x = *(struct cand *const *)a, *y = *(struct cand *const *)b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static size_t words_n(const char *s, size_t n)
{
	size_t w = 0;
	int in = 0;
	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)s[i]))
			in = 0;
		else if (!in)
			in = 1, w++;
	}
	return w;
}

/* Scores one sentence: query words it contains. */
static double overlap(const char *s, size_t n, char **q, size_t nq)
{
	char *copy = sg_strndup(s, n);
	char **t = NULL;
	size_t nt = 0;
	double sc = 0;
	if (copy && sg_kb_tokens(&t, &nt, copy, NULL) == 0) {
		for (size_t i = 0; i < nq; i++) {
			int dup = 0;
			for (size_t j = 0; j < i && !dup; j++)
				dup = !strcmp(q[i], q[j]);
			if (dup)
				continue;
			for (size_t j = 0; j < nt; j++)
				if (sg_draft_same_word(q[i], t[j])) {
					sc += 1;
					break;
				}
		}
	}
	sg_kb_tokens_free(t, nt);
	sg_free(copy);
	return sc;
}

int sg_draft_compose(struct sg_draft *out, const char *query,
		     const struct sg_kb_hits *hits, const char *first_name,
		     const struct sg_draft_style *style, struct sg_error *err)
{
	static const struct sg_draft_style dflt = SG_DRAFT_STYLE_INIT;
	struct sg_buf b = SG_BUF_INIT, next = SG_BUF_INIT, greet = SG_BUF_INIT;
	struct cand *c = NULL, **order = NULL;
	size_t nc = 0, capc = 0;
	char **q = NULL;
	size_t nq = 0;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!style)
		style = &dflt;
	if (!hits->n) {
		rc = sg_error_set(err, SG_EINVALID, "compose: no passages");
		goto cleanup;
	}
	rc = sg_kb_tokens(&q, &nq, query, err);
	if (rc)
		goto cleanup;
	const struct sg_kb_hit *top = &hits->v[0];
	for (size_t h = 0; h < hits->n; h++) {
		if (strcmp(hits->v[h].article_id, top->article_id))
			continue;
		struct sg_sent *ss;
		size_t ns;
		if (sg_draft_sentences(&ss, &ns, hits->v[h].text)) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < ns; i++) {
			const char *s = ss[i].s;
			size_t n = ss[i].n;
			if (words_n(s, n) < 4 || s[n - 1] == ':')
				continue;
			int banned = 0;
			for (size_t k = 0; k < style->nbanned && !banned; k++)
				banned = has_ci(s, n, style->banned_phrases[k]);
			if (banned)
				continue;
			if (nc == capc) {
				capc = capc ? 2 * capc : 32;
				struct cand *nv = sg_realloc(c, capc * sizeof(*nv));
				if (!nv) {
					sg_free(ss);
					rc = sg_error_set(err, SG_ENOMEM, "out of memory");
					goto cleanup;
				}
				c = nv;
			}
			c[nc].s = s;
			c[nc].n = n;
			c[nc].score = overlap(s, n, q, nq) + (h == 0 ? 0.5 : 0);
			c[nc].order = h * 1000 + i;
			c[nc].pick = 0;
			nc++;
		}
		sg_free(ss);
	}
	if (first_name && *first_name)
		sg_buf_addf(&greet, "Hi %s,", first_name);
	else
		sg_buf_adds(&greet, "Hi,");
	sg_buf_addf(&next, "Next step: follow the guide \"%s\" at %s, and reply to this message if anything is still unclear.",
		    top->title, top->url);
	size_t limit = style->max_words ? style->max_words : 120;
	if (style->technical)
		limit *= 2;
	size_t used = sg_draft_word_count(greet.data) + sg_draft_word_count(next.data);
	/* the three best sentences that fit, then written in passage order */
	order = sg_calloc(nc ? nc : 1, sizeof(*order));
	if (!order) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nc; i++)
		order[i] = &c[i];
	qsort(order, nc, sizeof(*order), cmp_score);
	size_t picked = 0;
	for (size_t i = 0; i < nc && picked < 3; i++) {
		size_t w = words_n(order[i]->s, order[i]->n);
		if (used + w >= limit || (picked && order[i]->score < 1))
			continue;
		order[i]->pick = 1;
		used += w;
		picked++;
	}
	sg_buf_addf(&b, "%s\n\n", greet.data);
	int first = 1;
	for (size_t i = 0; i < nc; i++) {
		if (!c[i].pick)
			continue;
		if (!first)
			sg_buf_addc(&b, ' ');
		first = 0;
		for (size_t k = 0; k < c[i].n; k++)
			sg_buf_addc(&b, c[i].s[k] == '!' ? '.' : c[i].s[k]);
		char last = c[i].s[c[i].n - 1];
		if (last != '.' && last != '?' && last != '!')
			sg_buf_addc(&b, '.');
	}
	if (first)
		sg_buf_addf(&b, "The article \"%s\" covers this.", top->title);
	sg_buf_addf(&b, "\n\n%s\n\n%s", next.data,
		    style->signoff ? style->signoff : "Best regards,\nAcme Support");
	out->sources = sg_calloc(1, sizeof(*out->sources));
	struct sg_buf src = SG_BUF_INIT;
	sg_buf_addf(&src, "kb:%s", top->article_id);
	if (b.oom || src.oom || !out->sources) {
		sg_buf_release(&src);
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	out->sources[0] = sg_buf_detach(&src, NULL);
	out->nsources = 1;
	out->top_score = top->score;
	out->text = sg_buf_detach(&b, NULL);
	out->model_name = sg_strdup("builtin");
	out->prompt_template_version = sg_strdup("builtin.v1");
	if (!out->text || !out->model_name || !out->prompt_template_version)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
cleanup:
	if (rc)
		sg_draft_release(out);
	sg_free(c);
	sg_free(order);
	sg_kb_tokens_free(q, nq);
	sg_buf_release(&b);
	sg_buf_release(&next);
	sg_buf_release(&greet);
	return rc;
}

int sg_draft_relevant(const struct sg_kb_hits *hits, const char *query,
		      double min_score)
{
	if (!hits->n || hits->v[0].score < min_score)
		return 0;
	const struct sg_kb_hit *h = &hits->v[0];
	struct sg_buf all = SG_BUF_INIT;
	sg_buf_addf(&all, "%s\n%s\n%s", h->title, h->heading, h->text);
	char **q = NULL, **t = NULL;
	size_t nq = 0, nt = 0, distinct = 0, hit = 0;
	int ok = 0;
	if (all.oom || sg_kb_tokens(&q, &nq, query, NULL) || sg_kb_tokens(&t, &nt, all.data, NULL))
		goto cleanup;
	for (size_t i = 0; i < nq; i++) {
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(q[i], q[j]);
		if (dup)
			continue;
		distinct++;
		for (size_t j = 0; j < nt; j++)
			if (sg_draft_same_word(q[i], t[j])) {
				hit++;
				break;
			}
	}
	ok = distinct && (hit >= 2 || distinct == 1) &&
	     (double)hit >= SG_DRAFT_MIN_COVERAGE * (double)distinct;
cleanup:
	sg_kb_tokens_free(q, nq);
	sg_kb_tokens_free(t, nt);
	sg_buf_release(&all);
	return ok;
}

static int escalate(struct sg_draft *out, double top, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	out->text = sg_strdup(SG_DRAFT_ESCALATE);
	out->escalate = 1;
	out->top_score = top;
	out->model_name = sg_strdup("builtin");
	out->prompt_template_version = sg_strdup("builtin.v1");
	if (!out->text || !out->model_name || !out->prompt_template_version) {
		sg_draft_release(out);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	return 0;
}

int sg_draft_builtin(struct sg_draft *out, struct sg_kb *kb,
		     const struct sg_draft_request *req, struct sg_error *err)
{
	struct sg_buf query = SG_BUF_INIT;
	struct sg_kb_hits hits = {0};
	memset(out, 0, sizeof(*out));
	const char *t = sg_masked_str(req->ticket, NULL);
	sg_buf_adds(&query, t);
	if (req->intent) {
		/* "order_status" adds the words "order status" */
		sg_buf_addc(&query, ' ');
		for (const char *p = req->intent; *p; p++)
			sg_buf_addc(&query, *p == '_' ? ' ' : *p);
	}
	int rc = query.oom ? sg_error_set(err, SG_ENOMEM, "out of memory") : 0;
	if (!rc)
		rc = sg_kb_search(kb, query.data, req->k ? req->k : 5, 0, &hits, err);
	if (rc)
		goto cleanup;
	double min = req->min_score > 0 ? req->min_score : SG_DRAFT_MIN_SCORE;
	if (!sg_draft_relevant(&hits, query.data, min))
		rc = escalate(out, hits.n ? hits.v[0].score : 0, err);
	else
		rc = sg_draft_compose(out, t, &hits, req->first_name, req->style, err);
cleanup:
	sg_kb_hits_release(&hits);
	sg_buf_release(&query);
	return rc;
}

/* ---- summarizer ---- */

int sg_draft_pii_tags(char **out, const char *text, struct sg_error *err)
{
	struct sg_buf b = SG_BUF_INIT;
	*out = NULL;
	for (const char *p = text; *p;) {
		if (*p == '[') {
			const char *q = p + 1;
			while (isupper((unsigned char)*q) || *q == '_')
				q++;
			int digits = 0;
			while (isdigit((unsigned char)*q))
				q++, digits++;
			if (*q == ']' && digits && q > p + 2 && q[-digits - 1] == '_') {
				sg_buf_adds(&b, "[PII]");
				p = q + 1;
				continue;
			}
		}
		sg_buf_addc(&b, *p++);
	}
	if (b.oom) {
		sg_buf_release(&b);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	*out = b.len ? sg_buf_detach(&b, NULL) : sg_strdup("");
	sg_buf_release(&b);
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

static int is_customer(const char *role)
{
	return !role || !strcmp(role, "customer") || !strcmp(role, "user");
}

/* Appends the first sentence of s (at most 30 words), flattened. */
static void first_sentence(struct sg_buf *b, const char *s)
{
	struct sg_sent *ss;
	size_t n;
	if (sg_draft_sentences(&ss, &n, s) || !n) {
		sg_free(ss);
		sg_buf_adds(b, "(empty message)");
		return;
	}
	size_t w = 0;
	int in = 0;
	for (size_t i = 0; i < ss[0].n; i++) {
		char ch = ss[0].s[i];
		if (isspace((unsigned char)ch)) {
			in = 0;
			ch = ' ';
		} else if (!in) {
			in = 1;
			if (++w > 30) {
				sg_buf_adds(b, "...");
				break;
			}
		}
		sg_buf_addc(b, ch);
	}
	sg_free(ss);
}

int sg_draft_summarize(char **out, const struct sg_summary_msg *msgs, size_t n,
		       struct sg_error *err)
{
	struct sg_buf b = SG_BUF_INIT;
	char *tagged = NULL;
	int rc = 0;
	size_t last_agent = n; /* index of the last non-customer message */
	*out = NULL;
	for (size_t i = 0; i < n; i++)
		if (!is_customer(msgs[i].role))
			last_agent = i;
	sg_buf_adds(&b, "Customer issue: ");
	size_t firstc = n;
	for (size_t i = 0; i < n && firstc == n; i++)
		if (is_customer(msgs[i].role))
			firstc = i;
	if (firstc == n)
		sg_buf_adds(&b, "(no customer message)");
	else
		first_sentence(&b, sg_masked_str(msgs[firstc].text, NULL));
	sg_buf_adds(&b, "\n\nActions taken:\n");
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_customer(msgs[i].role))
			continue;
		const char *r = msgs[i].role;
		sg_buf_addf(&b, "- %s %s: ", !strcmp(r, "ai") ? "AI" : !strcmp(r, "note") ? "Internal" : "Agent",
			    !strcmp(r, "note") ? "note" : "replied");
		first_sentence(&b, sg_masked_str(msgs[i].text, NULL));
		sg_buf_addc(&b, '\n');
		any = 1;
	}
	if (!any)
		sg_buf_adds(&b, "- None yet\n");
	sg_buf_adds(&b, "\nOutstanding questions:\n");
	any = 0;
	for (size_t i = last_agent == n ? 0 : last_agent + 1; i < n; i++) {
		if (!is_customer(msgs[i].role))
			continue;
		struct sg_sent *ss;
		size_t ns;
		if (sg_draft_sentences(&ss, &ns, sg_masked_str(msgs[i].text, NULL))) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t k = 0; k < ns; k++)
			if (ss[k].s[ss[k].n - 1] == '?') {
				sg_buf_addf(&b, "- %.*s\n", (int)ss[k].n, ss[k].s);
				any = 1;
			}
		sg_free(ss);
	}
	if (!any)
		sg_buf_adds(&b, "- None\n");
	if (b.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = sg_draft_pii_tags(&tagged, b.data, err);
	if (!rc)
		*out = tagged;
cleanup:
	sg_buf_release(&b);
	return rc;
}
