/*
 * route_fuzz.c - libFuzzer target for the router and URL decoding: the
 * first byte picks a method, the rest is a request path. Checks that
 * matching, percent-decoding and the static-file path check never crash and
 * that an accepted static path can never leave the root.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "server/server_int.h"

static int nop(void *ctx, const struct sg_http_req *req,
	       struct sg_http_resp *resp, struct sg_error *err)
{
	(void)ctx;
	(void)req;
	(void)resp;
	(void)err;
	return 0;
}

static const struct sg_route routes[] = {
	{"GET", "/healthz", SG_ROLE_NONE, 0, nop, NULL},
	{"GET", "/v1/tickets/{id}", SG_ROLE_AGENT, 0, nop, NULL},
	{"GET", "/v1/tickets/stats", SG_ROLE_AGENT, 0, nop, NULL},
	{"POST", "/v1/tickets", SG_ROLE_AGENT, 0, nop, NULL},
	{"POST", "/v1/tickets/{id}/approve", SG_ROLE_LEAD, 0, nop, NULL},
	{"POST", "/v1/tickets/{id}/edit", SG_ROLE_LEAD, 0, nop, NULL},
	{"DELETE", "/v1/session", SG_ROLE_AGENT, 0, nop, NULL},
	{"POST", "/v1/webhooks/{vendor}", SG_ROLE_NONE, SG_ROUTE_PUBLIC, nop, NULL},
	{"GET", "/v1/a/{x}/b/{y}", SG_ROLE_AGENT, 0, nop, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_router rt;
	static int ready;
	static const char *const methods[] = {"GET", "POST", "HEAD", "DELETE",
					      "PUT", "PATCH", "BREW"};
	if (!ready) {
		if (sg_router_init(&rt, routes, sizeof(routes) / sizeof(routes[0]),
				   NULL))
			abort();
		ready = 1;
	}
	if (size == 0)
		return 0;
	const char *method = methods[data[0] % 7];
	char *path = sg_malloc(size);
	if (!path)
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';

	struct sg_route_match m;
	int rc = sg_router_match(&rt, method, path, &m, NULL);
	if (rc == 0) {
		if (!m.entry)
			abort();
		for (size_t i = 0; i < m.nparams; i++)
			if (!m.values[i][0])
				abort(); /* parameters are never empty */
	}
	sg_route_match_release(&m);

	size_t len = strlen(path);
	char *out = sg_malloc(len + 11);
	if (out) {
		long n = sg_static_path(out, len + 11, path);
		if (n >= 0) {
			if ((size_t)n != strlen(out) || out[0] == '/' ||
			    out[0] == '.' || strstr(out, "/.") ||
			    strchr(out, '\\') || strstr(out, "//"))
				abort();
		}
		long d = sg_url_decode(out, path, len, 1);
		if (d > (long)len)
			abort();
		sg_free(out);
	}
	sg_free(path);
	return 0;
}
