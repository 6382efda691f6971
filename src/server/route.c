/*
 * route.c - the router: route patterns compiled into segments once, then a
 * request path split on '/', each segment percent-decoded on its own (so
 * "%2F" in an id never creates a segment), and matched against the table.
 * Also the strict percent-decoder and the static-file path check.
 */
#include "server/server_int.h"

#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/banned.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long sg_url_decode(char *out, const char *in, size_t len, int plus_space)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
				      "DELETE"};

static int known_method(const char *m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i]) == 0)
			return 1;
	return 0;
}

static int param_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		      (i && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

void sg_router_release(struct sg_router *rt)
{
	for (size_t i = 0; i < rt->n; i++) {
		struct sg_router_entry *e = &rt->e[i];
		for (size_t k = 0; k < e->nseg; k++)
			sg_free(e->seg[k].text);
		sg_free((char *)e->route.method);
		sg_free((char *)e->route.pattern);
	}
	sg_free(rt->e);
	rt->e = NULL;
	rt->n = 0;
}

static int compile(struct sg_router_entry *e, const struct sg_route *r,
		   struct sg_error *err)
{
	const char *p = r->pattern;
	if (!p || p[0] != '/')
		return sg_error_set(err, SG_EINVALID,
				    "route '%s %s': pattern must start with '/'",
				    r->method, p ? p : "(null)");
	if (strcmp(p, "/") == 0)
		return 0; /* the root: no segments */
	for (p++;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (e->nseg == SG_MAX_PATH_SEGMENTS)
			return sg_error_set(err, SG_EINVALID,
					    "route '%s %s': more than %d segments",
					    r->method, r->pattern,
					    SG_MAX_PATH_SEGMENTS);
		struct sg_route_seg *s = &e->seg[e->nseg];
		if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
			if (!param_name_ok(p + 1, n - 2))
				return sg_error_set(err, SG_EINVALID,
						    "route '%s %s': bad parameter "
						    "name '%.*s'", r->method,
						    r->pattern, (int)n, p);
			for (size_t k = 0; k < e->nseg; k++)
				if (e->seg[k].is_param &&
				    strlen(e->seg[k].text) == n - 2 &&
				    memcmp(e->seg[k].text, p + 1, n - 2) == 0)
					return sg_error_set(err, SG_EINVALID,
							    "route '%s %s': parameter "
							    "'%.*s' repeated", r->method,
							    r->pattern, (int)n, p);
			s->is_param = 1;
			s->text = sg_strndup(p + 1, n - 2);
		} else {
			if (n == 0 || memchr(p, '{', n) || memchr(p, '}', n) ||
			    memchr(p, '%', n))
				return sg_error_set(err, SG_EINVALID,
						    "route '%s %s': bad segment "
						    "'%.*s'", r->method, r->pattern,
						    (int)n, p);
			s->text = sg_strndup(p, n);
		}
		if (!s->text)
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		e->nseg++;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int same_shape(const struct sg_router_entry *a,
		      const struct sg_router_entry *b)
{
	if (a->nseg != b->nseg)
		return 0;
	for (size_t k = 0; k < a->nseg; k++) {
		if (a->seg[k].is_param != b->seg[k].is_param)
			return 0;
		if (!a->seg[k].is_param && strcmp(a->seg[k].text, b->seg[k].text))
			return 0;
	}
	return 1;
}

int sg_router_init(struct sg_router *rt, const struct sg_route *routes,
		   size_t n, struct sg_error *err)
{
	int rc = 0;
	rt->e = NULL;
	rt->n = 0;
	if (n > SG_MAX_ROUTES)
		return sg_error_set(err, SG_EINVALID, "more than %d routes",
				    SG_MAX_ROUTES);
	rt->e = sg_calloc(n ? n : 1, sizeof(*rt->e));
	if (!rt->e)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct sg_route *r = &routes[i];
		struct sg_router_entry *e = &rt->e[rt->n];
		if (!r->method || !known_method(r->method)) {
			rc = sg_error_set(err, SG_EINVALID,
					  "route %zu: unknown method '%s'", i,
					  r->method ? r->method : "(null)");
			goto cleanup;
		}
		if (!r->fn) {
			rc = sg_error_set(err, SG_EINVALID,
					  "route '%s %s': no handler", r->method,
					  r->pattern ? r->pattern : "(null)");
			goto cleanup;
		}
		if (strcmp(r->method, "GET") != 0 && r->min_role == SG_ROLE_NONE &&
		    !(r->flags & SG_ROUTE_PUBLIC)) {
			rc = sg_error_set(err, SG_EINVALID,
					  "route '%s %s': a mutating route needs a "
					  "minimum role (or SG_ROUTE_PUBLIC)",
					  r->method, r->pattern ? r->pattern : "");
			goto cleanup;
		}
		e->route = *r;
		e->route.method = sg_strdup(r->method);
		e->route.pattern = r->pattern ? sg_strdup(r->pattern) : NULL;
		rt->n++;
		if (!e->route.method || (r->pattern && !e->route.pattern)) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		if ((rc = compile(e, r, err)))
			goto cleanup;
		for (size_t k = 0; k + 1 < rt->n; k++)
			if (strcmp(rt->e[k].route.method, r->method) == 0 &&
			    same_shape(&rt->e[k], e)) {
				rc = sg_error_set(err, SG_EINVALID,
						  "route '%s %s': same as '%s %s'",
						  r->method, r->pattern,
						  rt->e[k].route.method,
						  rt->e[k].route.pattern);
				goto cleanup;
			}
	}
cleanup:
	if (rc)
		sg_router_release(rt);
	return rc;
}

void sg_route_match_release(struct sg_route_match *m)
{
	sg_free(m->buf);
	m->buf = NULL;
}

/* Literal segments beat parameters: "/v1/tickets/queue" wins over
 * "/v1/tickets/{id}". Returns the number of literal segments matched, or
 * -1 when the entry does not match. */
static int match_entry(const struct sg_router_entry *e, size_t nseg,
		       char *const *segs)
{
	if (e->nseg != nseg)
		return -1;
	int lit = 0;
	for (size_t k = 0; k < nseg; k++) {
		if (e->seg[k].is_param) {
			if (!segs[k][0])
				return -1; /* an empty id never matches */
			continue;
		}
		if (strcmp(e->seg[k].text, segs[k]) != 0)
			return -1;
		lit++;
	}
	return lit;
}

int sg_router_match(const struct sg_router *rt, const char *method,
		    const char *path, struct sg_route_match *m,
		    struct sg_error *err)
{
	memset(m, 0, sizeof(*m));
	if (path[0] != '/')
		return sg_error_set(err, SG_EINVALID,
				    "path: expected it to start with '/'");
	size_t len = strlen(path);
	m->buf = sg_malloc(len + 1);
	if (!m->buf)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	char *segs[SG_MAX_PATH_SEGMENTS];
	size_t nseg = 0, o = 0;
	if (len > 1) {
		for (const char *p = path + 1;;) {
			const char *end = strchr(p, '/');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			if (nseg == SG_MAX_PATH_SEGMENTS)
				return -SG_ENOTFOUND; /* no route is this deep */
			long d = sg_url_decode(m->buf + o, p, n, 0);
			if (d < 0)
				return sg_error_set(err, SG_EINVALID,
						    "path: invalid percent-encoding "
						    "or control character in "
						    "segment %zu", nseg + 1);
			segs[nseg++] = m->buf + o;
			o += (size_t)d + 1;
			if (!end)
				break;
			p = end + 1;
		}
	}
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	const struct sg_router_entry *best = NULL;
	int best_lit = -1, any = 0;
	/* Allow lists each method once, in table order. */
	for (size_t i = 0; i < rt->n; i++) {
		const struct sg_router_entry *e = &rt->e[i];
		int lit = match_entry(e, nseg, segs);
		if (lit < 0)
			continue;
		if (strcmp(e->route.method, want) == 0) {
			if (lit > best_lit) {
				best = e;
				best_lit = lit;
			}
		} else if (!strstr(m->allow, e->route.method)) {
			size_t al = strlen(m->allow);
			size_t ml = strlen(e->route.method);
			if (al + ml + 3 < sizeof(m->allow)) {
				if (al) {
					memcpy(m->allow + al, ", ", 2);
					al += 2;
				}
				memcpy(m->allow + al, e->route.method, ml + 1);
			}
		}
		any = 1;
	}
	if (!best)
		return any ? -SG_ECONFLICT : -SG_ENOTFOUND;
	m->entry = best;
	for (size_t k = 0; k < nseg; k++)
		if (best->seg[k].is_param) {
			m->names[m->nparams] = best->seg[k].text;
			m->values[m->nparams++] = segs[k];
		}
	return 0;
}

long sg_static_path(char *out, size_t outsz, const char *path)
{
	size_t len = strlen(path);
	if (path[0] != '/' || outsz < len + 11)
		return -1;
	if (len == 1) {
		memcpy(out, "index.html", 11);
		return 10;
	}
	size_t o = 0;
	for (const char *p = path + 1;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		long d = sg_url_decode(out + o, p, n, 0);
		if (d <= 0)
			return -1;
		const char *seg = out + o;
		if (seg[0] == '.' || strpbrk(seg, "/\\:"))
			return -1;
		o += (size_t)d;
		if (!end)
			break;
		out[o++] = '/';
		p = end + 1;
	}
	out[o] = '\0';
	return (long)o;
}

const char *sg_static_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".json", "application/json"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".txt", "text/plain; charset=utf-8"},
		{".woff2", "font/woff2"},
	};
	const char *dot = strrchr(name, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}
