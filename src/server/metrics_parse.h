/*
 * metrics_parse.h - a strict reader for the Prometheus text exposition
 * format, used to check what /metrics serves (tests, smoke checks): it
 * enforces the rules the renderer promises (HELP/TYPE once and before the
 * samples, samples of a family grouped, valid names and escapes, histogram
 * buckets cumulative with le="+Inf" equal to _count, final newline).
 */
#ifndef SG_SERVER_METRICS_PARSE_H
#define SG_SERVER_METRICS_PARSE_H

#include <stddef.h>

#include "core/error.h"

struct sg_prom;

/* 0, or -SG_EINVALID with "line N: why"; -SG_ENOMEM. Free with
 * sg_prom_free. */
int sg_prom_parse(struct sg_prom **out, const char *text, size_t len,
		  struct sg_error *err);
void sg_prom_free(struct sg_prom *p);

/* The sample `name` whose labels, unescaped and in rendered order, read
 * "k1=v1,k2=v2" ("" for none); NAN when there is no such sample. */
double sg_prom_value(const struct sg_prom *p, const char *name,
		     const char *labels);
/* TYPE and HELP (unescaped) of a family, NULL when absent. */
const char *sg_prom_type(const struct sg_prom *p, const char *name);
const char *sg_prom_help(const struct sg_prom *p, const char *name);
size_t sg_prom_count(const struct sg_prom *p); /* samples */

#endif
