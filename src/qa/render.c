/*
 * render.c - the scorecard for people: text for a terminal, plain SVG
 * charts (bars and week-over-week lines, drawn here, no chart library) and
 * a self-contained HTML report embedding them. Every string from the data
 * is escaped for XML/HTML.
 */
#include "qa/qa.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

#define W 680
#define MAX_SERIES 12
#define MAX_POINTS SG_QA_MAX_TREND

static const char *const palette[] = {"#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c",
				      "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d",
				      "#7c3aed", "#0f766e"};

const char *const sg_qa_chart_names[] = {"trend", "accuracy", "tiers", "categories",
					 "guardrails", "reply", NULL};

static void esc(struct sg_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sg_buf_adds(b, "&amp;"); break;
		case '<': sg_buf_adds(b, "&lt;"); break;
		case '>': sg_buf_adds(b, "&gt;"); break;
		case '"': sg_buf_adds(b, "&quot;"); break;
		case '\'': sg_buf_adds(b, "&#39;"); break;
		default: sg_buf_addc(b, *s);
		}
	}
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double numv(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static double num(const json_t *o, const char *k)
{
	return numv(json_object_get(o, k));
}

static void fmt_pct(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "n/a");
	else
		snprintf(out, n, "%.1f %%", v * 100);
}

static void fmt_num(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "n/a");
	else if (v == floor(v) && fabs(v) < 1e12)
		snprintf(out, n, "%.0f", v);
	else
		snprintf(out, n, "%.2f", v);
}

/* a change: "+2.0 pt" for rates, "+3" for counts */
static void fmt_change(char *out, size_t n, double v, int is_rate)
{
	if (isnan(v))
		snprintf(out, n, "n/a");
	else if (is_rate)
		snprintf(out, n, "%+.1f pt", v * 100);
	else if (v == floor(v))
		snprintf(out, n, "%+.0f", v);
	else
		snprintf(out, n, "%+.2f", v);
}

/* ---- SVG ----------------------------------------------------------------- */

static void svg_open(struct sg_buf *b, int h, const char *title)
{
	sg_buf_addf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\" "
		    "role=\"img\"><title>", W, h, W, h);
	esc(b, title);
	sg_buf_addf(b, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
		    "<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">", W, h);
	esc(b, title);
	sg_buf_adds(b, "</text>");
}

/* Horizontal bars; values NaN are drawn as "n/a". as_rate: 0..1 scale in
 * percent, else scaled to the largest value. lines: thresholds (rates). */
static void svg_bars(struct sg_buf *b, const char *title, const char *const *labels,
		     const double *v, size_t n, int as_rate, const double *lines, size_t nlines)
{
	int row = 22, top = 32, left = 190, right = 70;
	int h = top + (int)(n ? n : 1) * row + 34;
	double max = as_rate ? 1 : 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > max)
			max = v[i];
	if (max <= 0)
		max = 1;
	svg_open(b, h, title);
	if (!n) {
		sg_buf_addf(b, "<text x=\"%d\" y=\"%d\" fill=\"#6b7280\">no data this week</text>"
			    "</svg>\n", left, top + 15);
		return;
	}
	double span = W - left - right;
	for (size_t i = 0; i < n; i++) {
		int y = top + (int)i * row;
		sg_buf_addf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 15);
		esc(b, labels[i]);
		sg_buf_adds(b, "</text>");
		char t[32];
		if (as_rate)
			fmt_pct(t, sizeof(t), v[i]);
		else
			fmt_num(t, sizeof(t), v[i]);
		double bw = isnan(v[i]) ? 0 : span * v[i] / max;
		const char *color = palette[0];
		if (as_rate && nlines && !isnan(v[i]) && v[i] < lines[0])
			color = "#dc2626";
		sg_buf_addf(b, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			    "fill=\"%s\"><title>", left, y + 3, bw, row - 6, color);
		esc(b, labels[i]);
		sg_buf_addf(b, ": %s</title></rect><text x=\"%.1f\" y=\"%d\">%s</text>",
			    t, left + bw + 4, y + 15, t);
	}
	for (size_t k = 0; as_rate && k < nlines; k++) {
		double x = left + span * lines[k];
		sg_buf_addf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
			    "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
			    "text-anchor=\"middle\">%.0f %%</text>",
			    x, top - 2, x, top + (int)n * row, k ? "#16a34a" : "#dc2626", x,
			    top + (int)n * row + 12 + 10 * (int)k, lines[k] * 100);
	}
	sg_buf_adds(b, "</svg>\n");
}

/* Week-over-week lines; v[s * npoints + i], NaN for no value. as_rate: a
 * 0..100 % axis, else 0..max. */
static void svg_lines(struct sg_buf *b, const char *title, const char *const *x, size_t np,
		      const char *const *names, const double *v, size_t ns, int as_rate)
{
	int h = 300, left = 50, right = 170, top = 34, bottom = 40;
	double max = as_rate ? 1 : 0;
	for (size_t i = 0; i < np * ns; i++)
		if (!isnan(v[i]) && v[i] > max)
			max = v[i];
	if (max <= 0)
		max = 1;
	double pw = W - left - right, ph = h - top - bottom;
	svg_open(b, h, title);
	for (int g = 0; g <= 4; g++) {
		double y = top + ph - ph * g / 4;
		sg_buf_addf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
			    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">",
			    left, y, left + pw, y, left - 4, y + 3);
		if (as_rate)
			sg_buf_addf(b, "%d %%", g * 25);
		else
			sg_buf_addf(b, "%.0f", max * g / 4);
		sg_buf_adds(b, "</text>");
	}
	for (size_t i = 0; i < np; i++) {
		double xx = left + (np > 1 ? pw * (double)i / (double)(np - 1) : pw / 2);
		if (np <= 13 || i % 4 == 0 || i + 1 == np) {
			sg_buf_addf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
				    "font-size=\"10\">", xx, h - bottom + 14);
			esc(b, x[i] + (strlen(x[i]) > 5 ? 5 : 0)); /* "W49" */
			sg_buf_adds(b, "</text>");
		}
	}
	for (size_t s = 0; s < ns; s++) {
		const char *color = palette[s % (sizeof(palette) / sizeof(palette[0]))];
		sg_buf_addf(b, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
			    "stroke-width=\"2\" points=\"", color);
		for (size_t i = 0; i < np; i++) {
			double val = v[s * np + i];
			if (isnan(val))
				continue;
			double xx = left + (np > 1 ? pw * (double)i / (double)(np - 1) : pw / 2);
			sg_buf_addf(b, "%.1f,%.1f ", xx, top + ph - ph * val / max);
		}
		sg_buf_adds(b, "\"/>");
		for (size_t i = 0; i < np; i++) {
			double val = v[s * np + i];
			if (isnan(val))
				continue;
			double xx = left + (np > 1 ? pw * (double)i / (double)(np - 1) : pw / 2);
			char t[32];
			if (as_rate)
				fmt_pct(t, sizeof(t), val);
			else
				fmt_num(t, sizeof(t), val);
			sg_buf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
				    xx, top + ph - ph * val / max, color);
			esc(b, names[s]);
			sg_buf_adds(b, " ");
			esc(b, x[i]);
			sg_buf_addf(b, ": %s</title></circle>", t);
		}
		sg_buf_addf(b, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			    "<text x=\"%.1f\" y=\"%d\">", left + pw + 12, top + (int)s * 18, color,
			    left + pw + 26, top + (int)s * 18 + 9);
		esc(b, names[s]);
		sg_buf_adds(b, "</text>");
	}
	sg_buf_adds(b, "</svg>\n");
}

/* Series from the trend: field of each point (or field.sub). */
static size_t trend_x(const json_t *card, const char **x)
{
	const json_t *trend = json_object_get(card, "trend");
	size_t n = json_array_size(trend);
	if (n > MAX_POINTS)
		n = MAX_POINTS;
	for (size_t i = 0; i < n; i++)
		x[i] = str(json_array_get(trend, i), "period");
	return n;
}

/* The keys of the map `field` over all trend points, in first-seen order. */
static size_t trend_keys(const json_t *card, const char *field, const char **keys)
{
	size_t nk = 0, i;
	json_t *p;
	json_array_foreach(json_object_get(card, "trend"), i, p) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(p, field), k, v) {
			int seen = 0;
			for (size_t j = 0; j < nk; j++)
				seen |= !strcmp(keys[j], k);
			if (!seen && nk < MAX_SERIES)
				keys[nk++] = k;
		}
	}
	return nk;
}

int sg_qa_chart_svg(struct sg_buf *b, const json_t *card, const char *name,
		    struct sg_error *err)
{
	const json_t *w = json_object_get(card, "week");
	const char *x[MAX_POINTS], *labels[64];
	double v[MAX_SERIES * MAX_POINTS];
	size_t n = 0, i;
	json_t *o;
	char title[160];
	if (!strcmp(name, "trend")) {
		static const char *const fields[] = {"deflection", "qa_accuracy", "approval_rate",
						     "fcr"};
		static const char *const names[] = {"deflection", "QA accuracy", "approval rate",
						    "first contact"};
		size_t np = trend_x(card, x);
		for (size_t s = 0; s < 4; s++)
			for (i = 0; i < np; i++)
				v[s * np + i] = num(json_array_get(json_object_get(card, "trend"), i),
						    fields[s]);
		svg_lines(b, "Headline rates by week", x, np, names, v, 4, 1);
	} else if (!strcmp(name, "tiers") || !strcmp(name, "categories")) {
		int tiers = !strcmp(name, "tiers");
		const char *field = tiers ? "approval_by_tier" : "accuracy_by_category";
		const char *keys[MAX_SERIES];
		size_t np = trend_x(card, x), nk = trend_keys(card, field, keys);
		for (size_t s = 0; s < nk; s++)
			for (i = 0; i < np; i++)
				v[s * np + i] = num(json_object_get(json_array_get(
							    json_object_get(card, "trend"), i), field),
						    keys[s]);
		svg_lines(b, tiers ? "Approval rate by risk tier, by week"
				   : "QA accuracy by category, by week",
			  x, np, keys, v, nk, 1);
	} else if (!strcmp(name, "accuracy")) {
		json_array_foreach(json_object_get(json_object_get(w, "qa_accuracy"), "by_category"),
				   i, o) {
			if (n == 64)
				break;
			labels[n] = str(o, "category");
			v[n++] = num(o, "rate");
		}
		const json_t *th = json_object_get(card, "thresholds");
		double lines[2] = {num(th, "pause_below"), num(th, "expand_above")};
		snprintf(title, sizeof(title), "QA accuracy by category, %s", str(card, "period"));
		svg_bars(b, title, labels, v, n, 1, lines, 2);
	} else if (!strcmp(name, "guardrails")) {
		json_array_foreach(json_object_get(w, "guardrails"), i, o) {
			if (n == 64)
				break;
			labels[n] = str(o, "type");
			v[n++] = num(o, "blocked");
		}
		snprintf(title, sizeof(title), "Guardrail blocks by type, %s", str(card, "period"));
		svg_bars(b, title, labels, v, n, 0, NULL, 0);
	} else if (!strcmp(name, "reply")) {
		json_array_foreach(json_object_get(w, "reply_times"), i, o) {
			if (n == 64)
				break;
			labels[n] = str(o, "ai_mode");
			v[n++] = num(o, "first_reply_median_min");
		}
		snprintf(title, sizeof(title), "Median minutes to first reply by AI mode, %s",
			 str(card, "period"));
		svg_bars(b, title, labels, v, n, 0, NULL, 0);
	} else {
		return sg_error_set(err, SG_ENOTFOUND, "chart '%.40s': expected trend, accuracy, "
				    "tiers, categories, guardrails or reply", name);
	}
	return b->oom ? sg_error_set(err, SG_ENOMEM, "out of memory") : 0;
}

/* ---- the headline table ------------------------------------------------- */

struct headline {
	const char *label, *obj, *field; /* obj NULL: a top-level field of the week */
	int is_rate;
};

static const struct headline heads[] = {
	{"Tickets", NULL, "tickets", 0},
	{"Deflection (auto-resolved)", "deflection", "rate", 1},
	{"QA accuracy", "qa_accuracy", "rate", 1},
	{"QA scored", "qa_accuracy", "scored", 0},
	{"Approval rate", NULL, "approval_rate", 1},
	{"Draft edits", "overrides", "edits", 0},
	{"Draft rejections", "overrides", "rejections", 0},
	{"Edit rate", "overrides", "edit_rate", 1},
	{"Mean edit distance (chars)", "overrides", "edit_distance_mean", 0},
	{"First-contact resolution", "fcr", "rate", 1},
	{"CSAT mean (1-5)", "csat", "mean", 0},
	{"CSAT responses", "csat", "responses", 0},
	{"Escalations", NULL, "escalations", 0},
	{"Guardrail blocks", NULL, "guardrail_blocks", 0},
	{"SLA breaches", "sla_breaches", "total", 0},
	{"QA incidents opened", "incidents", "opened", 0},
};

static void head_values(const json_t *card, const struct headline *h, double *cur,
			double *prev, double *chg)
{
	const json_t *w = json_object_get(card, "week"), *p = json_object_get(card, "previous");
	const json_t *wo = h->obj ? json_object_get(w, h->obj) : w;
	const json_t *po = h->obj ? json_object_get(p, h->obj) : p;
	*cur = num(wo, h->field);
	*prev = num(po, h->field);
	*chg = num(json_object_get(wo, "change"), h->field);
}

void sg_qa_scorecard_text(struct sg_buf *b, const json_t *card)
{
	const json_t *w = json_object_get(card, "week");
	sg_buf_addf(b, "Scorecard %s (%s to %s), against %s\n\n", str(card, "period"),
		    str(card, "from"), str(card, "to"), str(card, "previous_period"));
	sg_buf_addf(b, "%-30s %12s %12s %12s\n", "", "this week", "previous", "change");
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		double c, p, d;
		char cs[32], ps[32], ds[32];
		head_values(card, &heads[i], &c, &p, &d);
		if (heads[i].is_rate) {
			fmt_pct(cs, sizeof(cs), c);
			fmt_pct(ps, sizeof(ps), p);
		} else {
			fmt_num(cs, sizeof(cs), c);
			fmt_num(ps, sizeof(ps), p);
		}
		fmt_change(ds, sizeof(ds), d, heads[i].is_rate);
		sg_buf_addf(b, "%-30s %12s %12s %12s\n", heads[i].label, cs, ps, ds);
	}
	size_t i;
	json_t *o;
	char a[32], c[32];
	sg_buf_adds(b, "\nQA accuracy by category\n");
	json_array_foreach(json_object_get(json_object_get(w, "qa_accuracy"), "by_category"), i, o) {
		fmt_pct(a, sizeof(a), num(o, "rate"));
		fmt_change(c, sizeof(c), num(json_object_get(o, "change"), "rate"), 1);
		sg_buf_addf(b, "  %-28s %8s  (%ld of %ld)  %s\n", str(o, "category"), a,
			    (long)num(o, "accurate"), (long)num(o, "scored"), c);
	}
	sg_buf_adds(b, "\nApproval rate by risk tier\n");
	json_array_foreach(json_object_get(w, "approval_by_tier"), i, o) {
		fmt_pct(a, sizeof(a), num(o, "rate"));
		fmt_change(c, sizeof(c), num(json_object_get(o, "change"), "rate"), 1);
		sg_buf_addf(b, "  %-28s %8s  (approved %ld, edited %ld, rejected %ld)  %s\n",
			    str(o, "tier"), a, (long)num(o, "approved"), (long)num(o, "edited"),
			    (long)num(o, "rejected"), c);
	}
	sg_buf_adds(b, "\nTime to first reply and handle time by AI mode (minutes)\n");
	json_array_foreach(json_object_get(w, "reply_times"), i, o) {
		char f1[32], f2[32];
		fmt_num(f1, sizeof(f1), num(o, "first_reply_median_min"));
		fmt_num(f2, sizeof(f2), num(o, "handle_median_min"));
		sg_buf_addf(b, "  %-28s first reply median %s, handle median %s (%ld tickets)\n",
			    str(o, "ai_mode"), f1, f2, (long)num(o, "tickets"));
	}
	sg_buf_adds(b, "\nEscalation reasons\n");
	json_array_foreach(json_object_get(w, "escalation_reasons"), i, o)
		sg_buf_addf(b, "  %-40s %-9s %ld\n", str(o, "reason"), str(o, "source"),
			    (long)num(o, "count"));
	sg_buf_adds(b, "\nGuardrails by type (blocked / hits)\n");
	json_array_foreach(json_object_get(w, "guardrails"), i, o)
		sg_buf_addf(b, "  %-28s %ld / %ld\n", str(o, "type"), (long)num(o, "blocked"),
			    (long)num(o, "hits"));
	sg_buf_adds(b, "\nDefects\n");
	json_array_foreach(json_object_get(w, "defects"), i, o)
		sg_buf_addf(b, "  %-28s %ld\n", str(o, "tag"), (long)num(o, "count"));
	sg_buf_adds(b, "\nAuto-send paused\n");
	json_array_foreach(json_object_get(card, "paused"), i, o) {
		fmt_pct(a, sizeof(a), num(o, "accuracy"));
		sg_buf_addf(b, "  %-28s since %s (%s, accuracy %s)\n", str(o, "category"),
			    str(o, "since"), str(o, "period"), a);
	}
	sg_buf_adds(b, "\nSuggested for expansion\n");
	json_array_foreach(json_object_get(w, "expansion_suggested"), i, o)
		sg_buf_addf(b, "  %s\n", str(o, "category"));
	sg_buf_adds(b, "\nOpen QA incidents\n");
	json_array_foreach(json_object_get(card, "open_incidents"), i, o)
		sg_buf_addf(b, "  %s ticket %s (%s), report due %s\n", str(o, "id"),
			    str(o, "ticket_id"), str(o, "category"), str(o, "report_due"));
}

/* ---- HTML ---------------------------------------------------------------- */

static void html_table_rows(struct sg_buf *b, const json_t *arr, const char *const *cols,
			    const int *rate_cols, size_t nc)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		sg_buf_adds(b, "<tr>");
		for (size_t c = 0; c < nc; c++) {
			const json_t *v = json_object_get(o, cols[c]);
			char t[64];
			if (!strcmp(cols[c], "change")) {
				fmt_change(t, sizeof(t), num(json_object_get(o, "change"), "rate"), 1);
				sg_buf_adds(b, "<td>");
				esc(b, t);
			} else if (json_is_string(v)) {
				sg_buf_adds(b, "<td>");
				esc(b, json_string_value(v));
			} else {
				if (rate_cols[c])
					fmt_pct(t, sizeof(t), numv(v));
				else
					fmt_num(t, sizeof(t), numv(v));
				sg_buf_adds(b, "<td class=\"n\">");
				esc(b, t);
			}
			sg_buf_adds(b, "</td>");
		}
		sg_buf_adds(b, "</tr>\n");
	}
}

static void html_section(struct sg_buf *b, const char *title, const char *const *heads_,
			 const json_t *arr, const char *const *cols, const int *rate_cols,
			 size_t nc)
{
	sg_buf_adds(b, "<h2>");
	esc(b, title);
	sg_buf_adds(b, "</h2>\n<table><tr>");
	for (size_t c = 0; c < nc; c++) {
		sg_buf_adds(b, "<th>");
		esc(b, heads_[c]);
		sg_buf_adds(b, "</th>");
	}
	sg_buf_adds(b, "</tr>\n");
	html_table_rows(b, arr, cols, rate_cols, nc);
	sg_buf_adds(b, "</table>\n");
}

void sg_qa_scorecard_html(struct sg_buf *b, const json_t *card)
{
	const json_t *w = json_object_get(card, "week");
	sg_buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<title>sopgate scorecard ");
	esc(b, str(card, "period"));
	sg_buf_adds(b, "</title><style>body{font-family:sans-serif;margin:2em;color:#111}"
		    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid "
		    "#d1d5db;padding:4px 8px;text-align:left}td.n{text-align:right}"
		    "th{background:#f3f4f6}svg{display:block;margin:1em 0;border:1px solid "
		    "#e5e7eb}</style></head><body>\n<h1>Weekly scorecard ");
	esc(b, str(card, "period"));
	sg_buf_adds(b, "</h1>\n<p>");
	esc(b, str(card, "from"));
	sg_buf_adds(b, " to ");
	esc(b, str(card, "to"));
	sg_buf_adds(b, ", compared with ");
	esc(b, str(card, "previous_period"));
	sg_buf_adds(b, ".</p>\n<table id=\"headline\"><tr><th>Figure</th><th>This week</th>"
		    "<th>Previous</th><th>Change</th></tr>\n");
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		double c, p, d;
		char cs[32], ps[32], ds[32];
		head_values(card, &heads[i], &c, &p, &d);
		if (heads[i].is_rate) {
			fmt_pct(cs, sizeof(cs), c);
			fmt_pct(ps, sizeof(ps), p);
		} else {
			fmt_num(cs, sizeof(cs), c);
			fmt_num(ps, sizeof(ps), p);
		}
		fmt_change(ds, sizeof(ds), d, heads[i].is_rate);
		sg_buf_adds(b, "<tr><td>");
		esc(b, heads[i].label);
		sg_buf_addf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			    "<td class=\"n\">%s</td></tr>\n", cs, ps, ds);
	}
	sg_buf_adds(b, "</table>\n");
	for (size_t i = 0; sg_qa_chart_names[i]; i++)
		sg_qa_chart_svg(b, card, sg_qa_chart_names[i], NULL);
	static const char *const acc_h[] = {"Category", "Scored", "Accurate", "Accuracy", "Change"};
	static const char *const acc_c[] = {"category", "scored", "accurate", "rate", "change"};
	static const int acc_r[] = {0, 0, 0, 1, 0};
	html_section(b, "QA accuracy by category", acc_h,
		     json_object_get(json_object_get(w, "qa_accuracy"), "by_category"), acc_c, acc_r,
		     5);
	static const char *const tier_h[] = {"Tier", "Approved", "Edited", "Rejected", "Rate",
					     "Change"};
	static const char *const tier_c[] = {"tier", "approved", "edited", "rejected", "rate",
					     "change"};
	static const int tier_r[] = {0, 0, 0, 0, 1, 0};
	html_section(b, "Approval rate by risk tier", tier_h,
		     json_object_get(w, "approval_by_tier"), tier_c, tier_r, 6);
	static const char *const rt_h[] = {"AI mode", "Tickets", "Replied",
					   "First reply median (min)", "Handle median (min)"};
	static const char *const rt_c[] = {"ai_mode", "tickets", "replied",
					   "first_reply_median_min", "handle_median_min"};
	static const int rt_r[] = {0, 0, 0, 0, 0};
	html_section(b, "Time to first reply and handle time by AI mode", rt_h,
		     json_object_get(w, "reply_times"), rt_c, rt_r, 5);
	static const char *const es_h[] = {"Reason", "Source", "Count"};
	static const char *const es_c[] = {"reason", "source", "count"};
	static const int es_r[] = {0, 0, 0};
	html_section(b, "Escalation reasons", es_h, json_object_get(w, "escalation_reasons"), es_c,
		     es_r, 3);
	static const char *const gr_h[] = {"Type", "Blocked", "Hits"};
	static const char *const gr_c[] = {"type", "blocked", "hits"};
	html_section(b, "Guardrails by type", gr_h, json_object_get(w, "guardrails"), gr_c, es_r,
		     3);
	static const char *const df_h[] = {"Defect", "Count"};
	static const char *const df_c[] = {"tag", "count"};
	html_section(b, "Defects found by QA", df_h, json_object_get(w, "defects"), df_c, es_r, 2);
	static const char *const pa_h[] = {"Category", "Week", "Accuracy", "Since"};
	static const char *const pa_c[] = {"category", "period", "accuracy", "since"};
	static const int pa_r[] = {0, 0, 1, 0};
	html_section(b, "Auto-send paused (review required)", pa_h, json_object_get(card, "paused"),
		     pa_c, pa_r, 4);
	static const char *const in_h[] = {"Incident", "Ticket", "Category", "Report due"};
	static const char *const in_c[] = {"id", "ticket_id", "category", "report_due"};
	html_section(b, "Open QA incidents", in_h, json_object_get(card, "open_incidents"), in_c,
		     es_r, 4);
	sg_buf_adds(b, "<p>Generated by sopgate.</p>\n</body></html>\n");
}
