/*
 * qa_api.h - the QA loop over HTTP for `sopgate serve`: the weekly
 * scorecard (JSON, SVG charts, an HTML report), samples, scoring, pauses,
 * incidents and CSAT. Its own store connection; the API (api.c) registers
 * the routes and hands it the policy's QA settings and the engine to
 * refresh when a pause opens or is lifted. docs/qa.md lists the routes.
 */
#ifndef SG_SERVER_QA_API_H
#define SG_SERVER_QA_API_H

#include <stddef.h>

#include "core/error.h"
#include "qa/qa.h"
#include "server/server.h"

struct sg_qa_api;

struct sg_qa_api_options {
	const char *store_url;     /* "sqlite:FILE" or "postgres://..." */
	const char *writer;        /* this connection's audit chain */
	/* the QA settings of the policy in force (it may be reloaded) */
	void (*config)(void *ctx, struct sg_qa_config *out);
	/* called after a pause opened or was lifted */
	void (*pauses_changed)(void *ctx);
	void *ctx;
};

#define SG_QA_API_NROUTES 13

int sg_qa_api_new(struct sg_qa_api **out, const struct sg_qa_api_options *o,
		  struct sg_error *err);
void sg_qa_api_free(struct sg_qa_api *q); /* NULL is fine */
/* Writes the routes into out (room for SG_QA_API_NROUTES); returns how many. */
size_t sg_qa_api_routes(struct sg_qa_api *q, struct sg_route *out);
/* Background work, called every second by the server: once an hour it
 * samples the week that ended if no one has (sg_qa_auto_sample). Returns
 * 1 when it drew a sample, 0, or a negative SG_E... */
int sg_qa_api_tick(struct sg_qa_api *q, int64_t now_ms, struct sg_error *err);
/* Hands the categories paused now to the engine. */
int sg_qa_api_pauses_to_engine(struct sg_qa_api *q, struct sg_engine *e, struct sg_error *err);

#endif
