/*
 * gap.c - the knowledge-gap check: each sentence of a draft that states a
 * fact (a number, date, amount, duration, proper/product name, money word
 * or a promise such as "we will refund") must have its fact tokens in the
 * text of the cited KB articles; the sentences that do not are listed.
 */
#include "draft/draft.h"

#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "draft/draft_int.h"
#include "core/banned.h"

static const char *const numwords[][2] = {
	{"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"}, {"five", "5"},
	{"six", "6"}, {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"},
	{"eleven", "11"}, {"twelve", "12"}, {"fifteen", "15"}, {"twenty", "20"},
	{"thirty", "30"}, {"forty", "40"}, {"fifty", "50"}, {"sixty", "60"},
	{"ninety", "90"}, {"hundred", "100"},
};

static const char *const factwords[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december", "monday",
	"tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
	"today", "tomorrow", "tonight", "yesterday", "weekend",
	"free", "refund", "refunded", "credit", "credited", "discount",
	"compensation", "voucher", "guarantee", "guaranteed", "waive",
	"waived", "reimburse", "replacement", "immediately", "instantly",
	"hour", "hours", "day", "days", "week", "weeks", "month", "months",
	"year", "years", "minutes",
};

struct words {
	char **v;
	size_t n, cap;
};

static void words_release(struct words *w)
{
	sg_kb_tokens_free(w->v, w->n);
	memset(w, 0, sizeof(*w));
}

static int push(struct words *w, const char *s, size_t n)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 32;
		char **v = sg_realloc(w->v, cap * sizeof(*v));
		if (!v)
			return -SG_ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	if (!(w->v[w->n] = sg_strndup(s, n)))
		return -SG_ENOMEM;
	w->n++;
	return 0;
}

static const char *numword(const char *w)
{
	for (size_t i = 0; i < sizeof(numwords) / sizeof(*numwords); i++)
		if (!strcmp(w, numwords[i][0]))
			return numwords[i][1];
	return NULL;
}

/* Word tokens of text: lower-cased letter runs (number words as digits)
 * and digit runs ("$4.95" -> "4.95", "2pm" -> "2"). When facts is set only
 * the fact tokens of a sentence are kept; *promise is set for promises. */
static int tokens(struct words *out, const char *s, size_t n, int facts,
		  int *promise)
{
	size_t i = 0, idx = 0;
	char prev[3][24] = {"", "", ""};
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (isdigit(c)) {
			size_t j = i;
			while (j < n && (isdigit((unsigned char)s[j]) ||
					 (s[j] == '.' && j + 1 < n && isdigit((unsigned char)s[j + 1])) ||
					 (s[j] == ',' && j + 3 < n && isdigit((unsigned char)s[j + 1]) &&
					  isdigit((unsigned char)s[j + 2]) && isdigit((unsigned char)s[j + 3]))))
				j++;
			char num[32];
			size_t k = 0;
			for (size_t m = i; m < j && k < sizeof(num) - 1; m++)
				if (s[m] != ',')
					num[k++] = s[m];
			num[k] = 0;
			if (push(out, num, k))
				return -SG_ENOMEM;
			i = j;
			idx++;
			continue;
		}
		if (!isalpha(c) && c < 0x80) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && (isalpha((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80 ||
				 (s[j] == '\'' && j + 1 < n && isalpha((unsigned char)s[j + 1]))))
			j++;
		char w[64];
		size_t k = 0;
		for (size_t m = i; m < j && k < sizeof(w) - 1; m++)
			w[k++] = (char)tolower((unsigned char)s[m]);
		w[k] = 0;
		int cap = isupper(c) && idx > 0 && strcmp(w, "i");
		const char *nw = numword(w);
		if (facts) {
			int fact = cap || nw != NULL;
			for (size_t m = 0; !fact && m < sizeof(factwords) / sizeof(*factwords); m++)
				fact = !strcmp(w, factwords[m]);
			/* promises: "we will X", "we'll X", "you will receive" */
			if ((!strcmp(prev[0], "will") && (!strcmp(prev[1], "we") || !strcmp(prev[1], "you"))) ||
			    !strcmp(prev[0], "we'll") ||
			    (!strcmp(prev[0], "to") && !strcmp(prev[1], "going") && !strcmp(prev[2], "are"))) {
				if (strcmp(w, "be") && strcmp(w, "need") && strcmp(w, "see") && strcmp(w, "find")) {
					*promise = 1;
					fact = 1;
				}
			}
			/* names are compared whole: "RefundCo" is not "refund" */
			if (fact && cap && !nw) {
				char named[66] = "=";
				memcpy(named + 1, w, k + 1);
				if (push(out, named, k + 1))
					return -SG_ENOMEM;
			} else if (fact && push(out, nw ? nw : w, strlen(nw ? nw : w)))
				return -SG_ENOMEM;
		} else if (push(out, nw ? nw : w, strlen(nw ? nw : w)))
			return -SG_ENOMEM;
		memmove(prev[2], prev[1], sizeof(prev[0]));
		memmove(prev[1], prev[0], sizeof(prev[0]));
		size_t pl = k < sizeof(prev[0]) - 1 ? k : sizeof(prev[0]) - 1;
		memcpy(prev[0], w, pl);
		prev[0][pl] = 0;
		i = j;
		idx++;
	}
	return 0;
}

static int supported(const struct words *src, const char *t)
{
	int exact = isdigit((unsigned char)t[0]) || t[0] == '=';
	if (t[0] == '=')
		t++;
	for (size_t i = 0; i < src->n; i++)
		if (exact ? !strcmp(src->v[i], t) : sg_draft_same_word(src->v[i], t))
			return 1;
	return 0;
}

void sg_gap_report_release(struct sg_gap_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		sg_free(r->claims[i].sentence);
		sg_free(r->claims[i].missing);
	}
	sg_free(r->claims);
	memset(r, 0, sizeof(*r));
}

int sg_draft_gap_check_text(struct sg_gap_report *out, const char *draft,
			    const char *sources_text, struct sg_error *err)
{
	struct words src = {0};
	struct sg_sent *ss = NULL;
	size_t ns = 0;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (tokens(&src, sources_text, strlen(sources_text), 0, NULL) ||
	    sg_draft_sentences(&ss, &ns, draft)) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < ns; i++) {
		struct words f = {0}, all = {0};
		struct sg_buf miss = SG_BUF_INIT;
		int promise = 0;
		/* greetings and sign-offs ("Hi Jane," "Acme Support") state nothing */
		size_t nw = 0;
		for (size_t k = 0; k < ss[i].n; k++)
			if (!isspace((unsigned char)ss[i].s[k]) && (k == 0 || isspace((unsigned char)ss[i].s[k - 1])))
				nw++;
		if (nw < 4)
			continue;
		if (tokens(&f, ss[i].s, ss[i].n, 1, &promise) ||
		    tokens(&all, ss[i].s, ss[i].n, 0, NULL)) {
			words_release(&f);
			words_release(&all);
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (f.n)
			out->checked++;
		for (size_t k = 0; k < f.n; k++) {
			int dup = 0;
			for (size_t m = 0; m < k && !dup; m++)
				dup = !strcmp(f.v[k], f.v[m]);
			if (!dup && !supported(&src, f.v[k]))
				sg_buf_addf(&miss, "%s%s", miss.len ? ", " : "",
					    f.v[k] + (f.v[k][0] == '='));
		}
		if (promise && !miss.len) {
			/* a promise must be said by the source, not just use its words */
			size_t content = 0, hit = 0;
			for (size_t k = 0; k < all.n; k++) {
				if (strlen(all.v[k]) < 3 || sg_kb_stopword(all.v[k], strlen(all.v[k])))
					continue;
				content++;
				hit += supported(&src, all.v[k]);
			}
			if (content && hit * 10 < content * 7)
				sg_buf_adds(&miss, "(promise not stated by the sources)");
		}
		words_release(&f);
		words_release(&all);
		if (miss.len) {
			struct sg_gap_claim *v = sg_realloc(out->claims, (out->n + 1) * sizeof(*v));
			if (v)
				out->claims = v;
			char *sent = sg_strndup(ss[i].s, ss[i].n);
			if (!v || !sent || miss.oom) {
				sg_free(sent);
				sg_buf_release(&miss);
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
			v[out->n].sentence = sent;
			v[out->n].missing = sg_buf_detach(&miss, NULL);
			out->n++;
		}
		sg_buf_release(&miss);
	}
cleanup:
	words_release(&src);
	sg_free(ss);
	if (rc)
		sg_gap_report_release(out);
	return rc;
}

int sg_draft_gap_check(struct sg_gap_report *out, struct sg_kb *kb,
		       const char *draft, const char *const *sources,
		       size_t nsources, struct sg_error *err)
{
	struct sg_buf all = SG_BUF_INIT;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nsources; i++) {
		char *t = NULL;
		if (strncmp(sources[i], "kb:", 3))
			continue; /* not a KB source: supports nothing */
		struct sg_error ignore = SG_ERROR_INIT;
		int rc = sg_kb_article_text(kb, sources[i] + 3, &t, &ignore);
		if (rc == -SG_ENOTFOUND)
			continue;
		if (rc) {
			sg_buf_release(&all);
			return sg_error_set(err, -rc, "%s", ignore.msg);
		}
		sg_buf_adds(&all, t);
		sg_buf_addc(&all, '\n');
		sg_free(t);
	}
	if (all.oom) {
		sg_buf_release(&all);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	int rc = sg_draft_gap_check_text(out, draft, all.len ? all.data : "", err);
	sg_buf_release(&all);
	return rc;
}
