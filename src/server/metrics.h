/*
 * metrics.h - a small metrics registry rendered in the Prometheus text
 * exposition format (GET /metrics).
 *
 * Families are registered once (counter, gauge or histogram with fixed
 * buckets, up to SG_METRIC_MAX_LABELS label names); updates are lock-free
 * atomics on a series found by its label values. A new label set takes the
 * family's lock once; past SG_MAX_METRIC_SERIES label sets, samples go to a
 * series whose labels are all "overflow". Label values must come from a
 * bounded set: gates, tiers, routes, status codes, never ids or e-mails.
 *
 *   struct sg_metric *m;
 *   const char *labels[] = {"gate", "tier", NULL};
 *   sg_metrics_counter(&m, reg, "sopgate_decisions_total",
 *                      "Decisions by gate and tier.", labels, &err);
 *   const char *v[] = {"auto_send", "standard"};
 *   sg_metric_inc(m, v);
 */
#ifndef SG_SERVER_METRICS_H
#define SG_SERVER_METRICS_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

#define SG_METRIC_MAX_LABELS 4
#define SG_METRIC_MAX_BUCKETS 24

struct sg_metrics; /* the registry */
struct sg_metric;  /* one family */

/* 0 or -SG_ENOMEM; free with sg_metrics_free. */
int sg_metrics_new(struct sg_metrics **out);
void sg_metrics_free(struct sg_metrics *reg);

/*
 * Registration. `labels` is a NULL-terminated list of label names (NULL for
 * none). Registering the same name again with the same type, labels (and
 * buckets) returns the existing family, so two modules may share one.
 * Errors (-SG_EINVALID, message naming the metric): bad metric or label
 * name, a counter not ending in "_total", a name already used with another
 * shape, too many labels or buckets, buckets not strictly increasing.
 * Families live as long as the registry.
 */
int sg_metrics_counter(struct sg_metric **out, struct sg_metrics *reg,
		       const char *name, const char *help,
		       const char *const *labels, struct sg_error *err);
int sg_metrics_gauge(struct sg_metric **out, struct sg_metrics *reg,
		     const char *name, const char *help,
		     const char *const *labels, struct sg_error *err);
/* `bounds` are the finite upper bounds in increasing order; +Inf is
 * implicit. */
int sg_metrics_histogram(struct sg_metric **out, struct sg_metrics *reg,
			 const char *name, const char *help,
			 const char *const *labels, const double *bounds,
			 size_t nbounds, struct sg_error *err);

/*
 * Updates. `values` holds one value per label name, in order (NULL for a
 * family without labels). Calls that do not fit the family's type are
 * ignored (a counter never goes down: negative adds are dropped).
 */
void sg_metric_inc(struct sg_metric *m, const char *const *values);
void sg_metric_add(struct sg_metric *m, const char *const *values, double v);
void sg_metric_set(struct sg_metric *m, const char *const *values, double v);
void sg_metric_observe(struct sg_metric *m, const char *const *values,
		       double v);

/* Called at the start of every render, e.g. to set a queue-depth gauge
 * from the store. At most 16 callbacks; 0 or -SG_ELIMIT. */
int sg_metrics_on_collect(struct sg_metrics *reg,
			  void (*fn)(void *ctx, struct sg_metrics *reg),
			  void *ctx);

/* Appends the exposition text (every family in registration order) to out;
 * check out->oom. */
void sg_metrics_render(struct sg_metrics *reg, struct sg_buf *out);

#define SG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
