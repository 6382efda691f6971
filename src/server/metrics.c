/*
 * metrics.c - the metrics registry: families with an append-only array of
 * series (published with release/acquire so readers never lock), values as
 * atomic 64-bit words (doubles updated with compare-and-swap), and the
 * Prometheus text renderer with HELP and label-value escaping.
 */
#include "server/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/banned.h"

enum kind { COUNTER, GAUGE, HISTOGRAM };
static const char *const kind_name[] = {"counter", "gauge", "histogram"};

struct series {
	uint64_t hash;
	char *values[SG_METRIC_MAX_LABELS]; /* owned copies */
	_Atomic uint64_t value;             /* double bits: counter, gauge, sum */
	_Atomic uint64_t count;             /* histogram observations */
	_Atomic uint64_t *buckets;          /* histogram, nbounds entries */
};

struct sg_metric {
	struct sg_metrics *reg;
	enum kind kind;
	char *name, *help;
	char *labels[SG_METRIC_MAX_LABELS];
	size_t nlabels;
	double bounds[SG_METRIC_MAX_BUCKETS];
	size_t nbounds;
	pthread_mutex_t lock; /* creating series */
	struct series *series[SG_MAX_METRIC_SERIES];
	_Atomic size_t nseries;
	struct series *overflow;
	struct sg_metric *next;
};

struct collector {
	void (*fn)(void *ctx, struct sg_metrics *reg);
	void *ctx;
};

struct sg_metrics {
	pthread_mutex_t lock; /* the family list and collectors */
	struct sg_metric *head, *tail;
	struct collector collect[16];
	size_t ncollect;
};

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
	uint64_t old = atomic_load_explicit(p, memory_order_relaxed), nv;
	do
		nv = dbits(bitsd(old) + v);
	while (!atomic_compare_exchange_weak_explicit(
		p, &old, nv, memory_order_relaxed, memory_order_relaxed));
}

int sg_metrics_new(struct sg_metrics **out)
{
	*out = NULL;
	struct sg_metrics *reg = sg_calloc(1, sizeof(*reg));
	if (!reg)
		return -SG_ENOMEM;
	pthread_mutex_init(&reg->lock, NULL);
	*out = reg;
	return 0;
}

static void series_free(struct series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SG_METRIC_MAX_LABELS; i++)
		sg_free(s->values[i]);
	sg_free((void *)s->buckets);
	sg_free(s);
}

static void family_free(struct sg_metric *m)
{
	size_t n = atomic_load(&m->nseries);
	for (size_t i = 0; i < n; i++)
		series_free(m->series[i]);
	series_free(m->overflow);
	for (size_t i = 0; i < m->nlabels; i++)
		sg_free(m->labels[i]);
	sg_free(m->name);
	sg_free(m->help);
	pthread_mutex_destroy(&m->lock);
	sg_free(m);
}

void sg_metrics_free(struct sg_metrics *reg)
{
	if (!reg)
		return;
	for (struct sg_metric *m = reg->head, *next; m; m = next) {
		next = m->next;
		family_free(m);
	}
	pthread_mutex_destroy(&reg->lock);
	sg_free(reg);
}

static int valid_name(const char *s, int colon)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' ||
		      (colon && *s == ':')))
			return 0;
	return 1;
}

static int same_shape(const struct sg_metric *m, enum kind kind,
		      const char *const *labels, size_t nlabels,
		      const double *bounds, size_t nbounds)
{
	if (m->kind != kind || m->nlabels != nlabels || m->nbounds != nbounds)
		return 0;
	for (size_t i = 0; i < nlabels; i++)
		if (strcmp(m->labels[i], labels[i]) != 0)
			return 0;
	for (size_t i = 0; i < nbounds; i++)
		if (m->bounds[i] != bounds[i])
			return 0;
	return 1;
}

static struct series *find_series(struct sg_metric *m,
				  const char *const *values);

static int reg_family(struct sg_metric **out, struct sg_metrics *reg,
		      enum kind kind, const char *name, const char *help,
		      const char *const *labels, const double *bounds,
		      size_t nbounds, struct sg_error *err)
{
	*out = NULL;
	size_t nlabels = 0;
	while (labels && labels[nlabels])
		nlabels++;
	if (!valid_name(name, 1))
		return sg_error_set(err, SG_EINVALID,
				    "metric '%s': invalid name", name);
	size_t nl = strlen(name);
	if (kind == COUNTER && (nl < 6 || strcmp(name + nl - 6, "_total") != 0))
		return sg_error_set(err, SG_EINVALID,
				    "metric '%s': a counter name must end in "
				    "'_total'", name);
	if (nlabels > SG_METRIC_MAX_LABELS)
		return sg_error_set(err, SG_EINVALID,
				    "metric '%s': more than %d labels", name,
				    SG_METRIC_MAX_LABELS);
	for (size_t i = 0; i < nlabels; i++) {
		if (!valid_name(labels[i], 0) ||
		    strncmp(labels[i], "__", 2) == 0 ||
		    (kind == HISTOGRAM && strcmp(labels[i], "le") == 0))
			return sg_error_set(err, SG_EINVALID,
					    "metric '%s': invalid label name '%s'",
					    name, labels[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return sg_error_set(err, SG_EINVALID,
						    "metric '%s': label '%s' "
						    "repeated", name, labels[i]);
	}
	if (kind == HISTOGRAM) {
		if (nbounds < 1 || nbounds > SG_METRIC_MAX_BUCKETS)
			return sg_error_set(err, SG_EINVALID,
					    "metric '%s': expected 1 to %d buckets",
					    name, SG_METRIC_MAX_BUCKETS);
		for (size_t i = 0; i < nbounds; i++)
			if (!isfinite(bounds[i]) ||
			    (i && !(bounds[i] > bounds[i - 1])))
				return sg_error_set(err, SG_EINVALID,
						    "metric '%s': buckets must be "
						    "finite and increasing", name);
	}
	int rc = 0;
	pthread_mutex_lock(&reg->lock);
	for (struct sg_metric *m = reg->head; m; m = m->next) {
		if (strcmp(m->name, name) != 0)
			continue;
		if (same_shape(m, kind, labels, nlabels, bounds, nbounds))
			*out = m;
		else
			rc = sg_error_set(err, SG_EINVALID,
					  "metric '%s': already registered with "
					  "another type, labels or buckets", name);
		goto cleanup;
	}
	struct sg_metric *m = sg_calloc(1, sizeof(*m));
	if (!m) {
		rc = sg_error_set(err, SG_ENOMEM, "metric '%s': out of memory",
				  name);
		goto cleanup;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->reg = reg;
	m->kind = kind;
	m->name = sg_strdup(name);
	m->help = sg_strdup(help ? help : "");
	m->nlabels = nlabels;
	int oom = !m->name || !m->help;
	for (size_t i = 0; i < nlabels; i++)
		oom |= !(m->labels[i] = sg_strdup(labels[i]));
	m->nbounds = nbounds;
	for (size_t i = 0; i < nbounds; i++)
		m->bounds[i] = bounds[i];
	if (oom) {
		family_free(m);
		rc = sg_error_set(err, SG_ENOMEM, "metric '%s': out of memory",
				  name);
		goto cleanup;
	}
	if (reg->tail)
		reg->tail->next = m;
	else
		reg->head = m;
	reg->tail = m;
	*out = m;
	/* A family without labels has exactly one series: show it from the
	 * start (as 0) rather than only after its first update. */
	if (nlabels == 0 && !find_series(m, NULL))
		rc = sg_error_set(err, SG_ENOMEM, "metric '%s': out of memory",
				  name);
cleanup:
	pthread_mutex_unlock(&reg->lock);
	return rc;
}

int sg_metrics_counter(struct sg_metric **out, struct sg_metrics *reg,
		       const char *name, const char *help,
		       const char *const *labels, struct sg_error *err)
{
	return reg_family(out, reg, COUNTER, name, help, labels, NULL, 0, err);
}

int sg_metrics_gauge(struct sg_metric **out, struct sg_metrics *reg,
		     const char *name, const char *help,
		     const char *const *labels, struct sg_error *err)
{
	return reg_family(out, reg, GAUGE, name, help, labels, NULL, 0, err);
}

int sg_metrics_histogram(struct sg_metric **out, struct sg_metrics *reg,
			 const char *name, const char *help,
			 const char *const *labels, const double *bounds,
			 size_t nbounds, struct sg_error *err)
{
	return reg_family(out, reg, HISTOGRAM, name, help, labels, bounds,
			  nbounds, err);
}

static uint64_t hash_values(const struct sg_metric *m,
			    const char *const *values)
{
	uint64_t h = 0x6d657472696373ull;
	for (size_t i = 0; i < m->nlabels; i++) {
		const char *v = values[i] ? values[i] : "";
		h = sg_fnv1a64(v, strlen(v) + 1, h);
	}
	return h;
}

static int same_values(const struct series *s, const struct sg_metric *m,
		       const char *const *values)
{
	for (size_t i = 0; i < m->nlabels; i++)
		if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
			return 0;
	return 1;
}

static struct series *series_new(const struct sg_metric *m,
				 const char *const *values, uint64_t h)
{
	struct series *s = sg_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hash = h;
	int oom = 0;
	for (size_t i = 0; i < m->nlabels; i++)
		oom |= !(s->values[i] = sg_strdup(values[i] ? values[i] : ""));
	if (m->kind == HISTOGRAM) {
		s->buckets = sg_calloc(m->nbounds, sizeof(*s->buckets));
		oom |= !s->buckets;
	}
	if (oom) {
		series_free(s);
		return NULL;
	}
	return s;
}

/* The series for these values, created on first use; NULL only when out of
 * memory (the update is then dropped). */
static struct series *find_series(struct sg_metric *m,
				  const char *const *values)
{
	uint64_t h = hash_values(m, values);
	size_t n = atomic_load_explicit(&m->nseries, memory_order_acquire);
	for (size_t i = 0; i < n; i++)
		if (m->series[i]->hash == h && same_values(m->series[i], m, values))
			return m->series[i];
	struct series *s = NULL;
	pthread_mutex_lock(&m->lock);
	size_t n2 = atomic_load_explicit(&m->nseries, memory_order_relaxed);
	for (size_t i = n; i < n2; i++)
		if (m->series[i]->hash == h && same_values(m->series[i], m, values)) {
			s = m->series[i];
			goto cleanup;
		}
	if (n2 < SG_MAX_METRIC_SERIES) {
		s = series_new(m, values, h);
		if (s) {
			m->series[n2] = s;
			atomic_store_explicit(&m->nseries, n2 + 1,
					      memory_order_release);
		}
		goto cleanup;
	}
	if (!m->overflow) {
		const char *ov[SG_METRIC_MAX_LABELS];
		for (size_t i = 0; i < m->nlabels; i++)
			ov[i] = "overflow";
		m->overflow = series_new(m, ov, 0);
	}
	s = m->overflow;
cleanup:
	pthread_mutex_unlock(&m->lock);
	return s;
}

void sg_metric_add(struct sg_metric *m, const char *const *values, double v)
{
	if (!m || m->kind == HISTOGRAM || isnan(v) ||
	    (m->kind == COUNTER && v < 0))
		return;
	struct series *s = find_series(m, values);
	if (s)
		atomic_add_double(&s->value, v);
}

void sg_metric_inc(struct sg_metric *m, const char *const *values)
{
	sg_metric_add(m, values, 1.0);
}

void sg_metric_set(struct sg_metric *m, const char *const *values, double v)
{
	if (!m || m->kind != GAUGE)
		return;
	struct series *s = find_series(m, values);
	if (s)
		atomic_store_explicit(&s->value, dbits(v), memory_order_relaxed);
}

void sg_metric_observe(struct sg_metric *m, const char *const *values,
		       double v)
{
	if (!m || m->kind != HISTOGRAM || isnan(v))
		return;
	struct series *s = find_series(m, values);
	if (!s)
		return;
	/* Buckets are stored non-cumulative; the renderer sums them. */
	size_t b = 0;
	while (b < m->nbounds && v > m->bounds[b])
		b++;
	if (b < m->nbounds)
		atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
	atomic_add_double(&s->value, v);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

int sg_metrics_on_collect(struct sg_metrics *reg,
			  void (*fn)(void *ctx, struct sg_metrics *reg),
			  void *ctx)
{
	int rc = 0;
	pthread_mutex_lock(&reg->lock);
	if (reg->ncollect == sizeof(reg->collect) / sizeof(reg->collect[0]))
		rc = -SG_ELIMIT;
	else
		reg->collect[reg->ncollect++] = (struct collector){fn, ctx};
	pthread_mutex_unlock(&reg->lock);
	return rc;
}

/* Renders a sample value: integers without a fraction, NaN and +-Inf as the
 * format spells them. */
static void add_value(struct sg_buf *out, double v)
{
	if (isnan(v))
		sg_buf_adds(out, "NaN");
	else if (isinf(v))
		sg_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		sg_buf_addf(out, "%.0f", v);
	else
		sg_buf_addf(out, "%.15g", v);
}

static void add_escaped(struct sg_buf *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sg_buf_adds(out, "\\\\");
		else if (*s == '\n')
			sg_buf_adds(out, "\\n");
		else if (quote && *s == '"')
			sg_buf_adds(out, "\\\"");
		else
			sg_buf_addc(out, *s);
	}
}

/* name{l1="v1",...[,le="x"]} */
static void add_series_name(struct sg_buf *out, const struct sg_metric *m,
			    const char *suffix, const struct series *s,
			    const char *le)
{
	sg_buf_adds(out, m->name);
	sg_buf_adds(out, suffix);
	if (!m->nlabels && !le)
		return;
	sg_buf_addc(out, '{');
	for (size_t i = 0; i < m->nlabels; i++) {
		if (i)
			sg_buf_addc(out, ',');
		sg_buf_adds(out, m->labels[i]);
		sg_buf_adds(out, "=\"");
		add_escaped(out, s->values[i], 1);
		sg_buf_addc(out, '"');
	}
	if (le) {
		if (m->nlabels)
			sg_buf_addc(out, ',');
		sg_buf_addf(out, "le=\"%s\"", le);
	}
	sg_buf_addc(out, '}');
}

static void render_series(struct sg_buf *out, const struct sg_metric *m,
			  const struct series *s)
{
	if (m->kind != HISTOGRAM) {
		add_series_name(out, m, "", s, NULL);
		sg_buf_addc(out, ' ');
		add_value(out, bitsd(atomic_load_explicit(
			&s->value, memory_order_relaxed)));
		sg_buf_addc(out, '\n');
		return;
	}
	/* Read the count first: buckets observed later only add to +Inf's
	 * share of a racing scrape, never make a bucket exceed the count. */
	uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
	uint64_t cum = 0;
	for (size_t b = 0; b < m->nbounds; b++) {
		cum += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
		if (cum > count)
			cum = count;
		char le[40];
		struct sg_buf lb = SG_BUF_INIT;
		add_value(&lb, m->bounds[b]);
		size_t n = lb.len < sizeof(le) - 1 ? lb.len : sizeof(le) - 1;
		memcpy(le, lb.data, n);
		le[n] = '\0';
		sg_buf_release(&lb);
		add_series_name(out, m, "_bucket", s, le);
		sg_buf_addf(out, " %llu\n", (unsigned long long)cum);
	}
	add_series_name(out, m, "_bucket", s, "+Inf");
	sg_buf_addf(out, " %llu\n", (unsigned long long)count);
	add_series_name(out, m, "_sum", s, NULL);
	sg_buf_addc(out, ' ');
	add_value(out, bitsd(atomic_load_explicit(&s->value,
						  memory_order_relaxed)));
	sg_buf_addc(out, '\n');
	add_series_name(out, m, "_count", s, NULL);
	sg_buf_addf(out, " %llu\n", (unsigned long long)count);
}

void sg_metrics_render(struct sg_metrics *reg, struct sg_buf *out)
{
	struct collector collect[16];
	pthread_mutex_lock(&reg->lock);
	size_t nc = reg->ncollect;
	memcpy(collect, reg->collect, nc * sizeof(collect[0]));
	pthread_mutex_unlock(&reg->lock);
	for (size_t i = 0; i < nc; i++)
		collect[i].fn(collect[i].ctx, reg);

	pthread_mutex_lock(&reg->lock);
	for (const struct sg_metric *m = reg->head; m; m = m->next) {
		sg_buf_addf(out, "# HELP %s ", m->name);
		add_escaped(out, m->help, 0);
		sg_buf_addf(out, "\n# TYPE %s %s\n", m->name, kind_name[m->kind]);
		size_t n = atomic_load_explicit(&m->nseries, memory_order_acquire);
		for (size_t i = 0; i < n; i++)
			render_series(out, m, m->series[i]);
		pthread_mutex_lock((pthread_mutex_t *)&m->lock);
		const struct series *ov = m->overflow;
		pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
		if (ov)
			render_series(out, m, ov);
	}
	pthread_mutex_unlock(&reg->lock);
}
