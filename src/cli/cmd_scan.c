/*
 * cmd_scan.c - `sopgate scan`: the guardrail scanner on a text or a JSONL
 * stream. The output never carries raw PII: findings are offsets and the
 * `masked` text has every MASK/BLOCK finding replaced by a placeholder.
 */
#define _GNU_SOURCE /* memrchr, sched_getaffinity */
#include "cli/cli.h"
#include "classify/classify.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/json_flat.h"
#include "core/limits.h"
#include "scan/scan.h"
#include "core/banned.h"

#define MAX_ALLOW 256

extern const struct sg_cmd sg_cmd_scan;

struct opts {
	enum sg_scan_mode mode;
	int json;
	const char *allow[MAX_ALLOW];
	size_t nallow;
	const char *path;
};

/* Appends a string literal (its length known at compile time). */
#define add_lit(b, lit) sg_buf_add((b), (lit), sizeof(lit) - 1)

/* Appends v in decimal: printf costs more than the rest of a finding. */
static void add_uint(struct sg_buf *b, size_t v)
{
	char t[24];
	size_t n = 0;
	do
		t[sizeof(t) - ++n] = (char)('0' + v % 10);
	while (v /= 10);
	sg_buf_add(b, t + sizeof(t) - n, n);
}

static void add_json(struct sg_buf *b, const struct sg_scan_result *r)
{
	add_lit(b, "{\"findings\":[");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sg_scan_finding *f = &r->findings[i];
		if (i)
			sg_buf_addc(b, ',');
		add_lit(b, "{\"type\":");
		sg_buf_add_json_str(b, f->type, strlen(f->type));
		add_lit(b, ",\"start\":");
		add_uint(b, f->start);
		add_lit(b, ",\"end\":");
		add_uint(b, f->end);
		add_lit(b, ",\"rule\":");
		sg_buf_add_json_str(b, f->rule, strlen(f->rule));
		add_lit(b, ",\"action\":\"");
		sg_buf_adds(b, sg_scan_action_name(f->action));
		add_lit(b, "\"}");
	}
	add_lit(b, "],\"masked\":");
	sg_buf_add_json_str(b, r->masked, r->masked_len);
	if (r->blocked)
		add_lit(b, ",\"blocked\":true}\n");
	else
		add_lit(b, ",\"blocked\":false}\n");
}

static void report(FILE *fp, const struct sg_scan_result *r)
{
	const char *bold = sg_cli_sgr(fp, "1"), *red = sg_cli_sgr(fp, "31"),
		   *yel = sg_cli_sgr(fp, "33"), *off = sg_cli_sgr(fp, "0");
	fprintf(fp, "%s%zu finding%s%s", bold, r->nfindings, r->nfindings == 1 ? "" : "s", off);
	if (r->blocked)
		fprintf(fp, ", %sBLOCKED%s", red, off);
	fputc('\n', fp);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sg_scan_finding *f = &r->findings[i];
		fprintf(fp, "  %s%-18s%s %6zu-%-6zu %-6s %s\n", yel, f->type, off, f->start,
			f->end, sg_scan_action_name(f->action), f->rule);
	}
	fprintf(fp, "%smasked:%s\n%.*s", bold, off, (int)r->masked_len, r->masked);
	if (!r->masked_len || r->masked[r->masked_len - 1] != '\n')
		fputc('\n', fp);
}

/* Original text of each PII finding of an input scan, for PII_ECHO. */
static int input_pii(struct sg_scan_ctx *ctx, const char *text, char ***vals,
		     size_t *n, struct sg_error *err)
{
	struct sg_scan_result *r;
	*vals = NULL;
	*n = 0;
	int rc = sg_scan_run(ctx, SG_SCAN_INPUT, text, strlen(text), NULL, &r, err);
	if (rc)
		return rc;
	char **v = sg_calloc(r->nfindings + 1, sizeof(char *));
	if (!v)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < r->nfindings; i++) {
		int t = sg_scan_type_from_name(r->findings[i].type);
		if (t < 0 || t > SG_T_SECRET)
			continue;
		v[k] = sg_strndup(text + r->findings[i].start,
				  r->findings[i].end - r->findings[i].start);
		if (!v[k])
			break;
		k++;
	}
	*vals = v;
	*n = k;
	return 0;
}

static void free_vals(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sg_free(v[i]);
	sg_free(v);
}

/* Scans one record's text (with, in output mode, the PII values of its
 * input_text as echo candidates) and appends its JSON line to outb. */
static int scan_record(struct sg_scan_ctx *ctx, const struct opts *o, const char *text,
		       size_t len, const char *input_text, const char **allow,
		       size_t nallow, struct sg_buf *outb, struct sg_error *err)
{
	char **vals = NULL;
	size_t nvals = 0;
	struct sg_scan_result *r;
	int rc = 0;
	if (o->mode == SG_SCAN_OUTPUT && input_text &&
	    (rc = input_pii(ctx, input_text, &vals, &nvals, err)) < 0)
		goto cleanup;
	struct sg_scan_input in = {0};
	in.allow_urls = allow;
	in.nallow_urls = nallow;
	in.pii_values = (const char *const *)vals;
	in.npii_values = nvals;
	rc = sg_scan_run(ctx, o->mode, text, len, &in, &r, err);
	if (rc == 0)
		add_json(outb, r);
cleanup:
	free_vals(vals, nvals);
	return rc < 0 ? rc : 0;
}

/* The general path: jansson parses the line (any JSON; its errors name
 * line and column). */
static int scan_line_jansson(struct sg_scan_ctx *ctx, const struct opts *o,
			     const char *line, size_t len, struct sg_buf *outb,
			     struct sg_error *err)
{
	json_t *obj = NULL;
	const char *text, *input_text = NULL;
	const char *allow[MAX_ALLOW];
	size_t nallow = 0;
	int rc = sg_json_parse(&obj, line, len, err);
	if (rc)
		goto cleanup;
	if (!json_is_object(obj)) {
		rc = sg_error_set(err, SG_EJSON, "expected a JSON object, got %s",
				  sg_json_type_name(obj));
		goto cleanup;
	}
	if ((rc = sg_json_str(obj, "text", "text", 1, &text, err)) < 0 ||
	    (rc = sg_json_str(obj, "input_text", "input_text", 0, &input_text, err)) < 0)
		goto cleanup;
	for (size_t i = 0; i < o->nallow; i++)
		allow[nallow++] = o->allow[i];
	json_t *arr = NULL;
	if ((rc = sg_json_arr(obj, "allow_urls", "allow_urls", 0, &arr, err)) < 0)
		goto cleanup;
	if (arr) {
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v)) {
				rc = sg_error_set(err, SG_EINVALID,
						  "field 'allow_urls[%zu]': expected a string, got %s",
						  i, sg_json_type_name(v));
				goto cleanup;
			}
			if (nallow < MAX_ALLOW)
				allow[nallow++] = json_string_value(v);
		}
	}
	rc = scan_record(ctx, o, text, json_string_length(json_object_get(obj, "text")),
			 input_text, allow, nallow, outb, err);
cleanup:
	json_decref(obj);
	return rc < 0 ? rc : 0;
}

/* One scanning thread's state. */
struct worker {
	const struct opts *o;
	const struct sg_scanner *scanner;
	struct sg_scan_ctx *ctx;
	struct sg_json_flat flat;
};

/* The fast path: a flat record whose fields have the expected types.
 * Returns 1 to hand the line to jansson (which then reports the same
 * result or the same error as it always did). */
static int scan_line_flat(struct worker *w, struct sg_buf *outb, struct sg_error *err)
{
	const struct opts *o = w->o;
	const struct sg_json_flat *f = &w->flat;
	const struct sg_json_flat_val *text = sg_json_flat_get(f, "text");
	const struct sg_json_flat_val *itext = sg_json_flat_get(f, "input_text");
	const struct sg_json_flat_val *urls = sg_json_flat_get(f, "allow_urls");
	const char *allow[MAX_ALLOW];
	size_t nallow = 0;
	if (!text || text->type != JSON_STRING)
		return 1;
	if (itext && itext->type != JSON_STRING && itext->type != JSON_NULL)
		return 1;
	if (urls && urls->type != JSON_ARRAY && urls->type != JSON_NULL)
		return 1;
	for (size_t i = 0; i < o->nallow; i++)
		allow[nallow++] = o->allow[i];
	if (urls && urls->type == JSON_ARRAY) {
		for (size_t i = 0; i < urls->len; i++) {
			const struct sg_json_flat_val *u = &f->items[urls->first + i];
			if (u->type != JSON_STRING)
				return 1;
			if (nallow < MAX_ALLOW)
				allow[nallow++] = u->str;
		}
	}
	return scan_record(w->ctx, o, text->str, text->len,
			   itext && itext->type == JSON_STRING ? itext->str : NULL, allow,
			   nallow, outb, err);
}

static int scan_line(struct worker *w, const char *line, size_t len, struct sg_buf *outb,
		     struct sg_error *err)
{
	if (!sg_json_flat_parse(&w->flat, line, len)) {
		int rc = scan_line_flat(w, outb, err);
		if (rc <= 0)
			return rc;
	}
	return scan_line_jansson(w->ctx, w->o, line, len, outb, err);
}

/* A run of whole input lines and what scanning them produced. */
struct batch {
	char *data;            /* the lines, '\n'-separated; the last may lack it */
	size_t len, cap;
	unsigned long lineno;  /* number of the line before the first one */
	unsigned long too_long; /* not 0: this batch only reports that line */
	struct sg_buf out;     /* for stdout */
	struct sg_buf msgs;    /* for stderr */
	int failed;
};

static void batch_release(struct batch *b)
{
	sg_free(b->data);
	sg_buf_release(&b->out);
	sg_buf_release(&b->msgs);
	memset(b, 0, sizeof(*b));
	sg_buf_init(&b->out);
	sg_buf_init(&b->msgs);
}

/* A failed line: its message on stderr and an {"error":...} in its place. */
static void line_error(struct batch *b, unsigned long lineno, const struct sg_error *err)
{
	char msg[600];
	sg_error_format(err, msg, sizeof(msg));
	/* the JSON parser quotes the text near the error, which may be PII:
	 * drop the quote */
	char *near = strstr(msg, " near '");
	if (near)
		*near = '\0';
	sg_buf_addf(&b->msgs, "sopgate scan: line %lu: %s\n", lineno, msg);
	sg_buf_addf(&b->out, "{\"error\":\"line %lu: ", lineno);
	/* the message, JSON-escaped without its quotes */
	size_t at = b->out.len;
	sg_buf_add_json_str(&b->out, msg, strlen(msg));
	if (!b->out.oom) {
		memmove(b->out.data + at, b->out.data + at + 1, b->out.len - at - 1);
		b->out.len--;
		b->out.data[b->out.len] = '\0';
	}
	add_lit(&b->out, "}\n");
	b->failed = 1;
}

static void scan_batch(struct worker *w, struct batch *b)
{
	sg_buf_reset(&b->out);
	sg_buf_reset(&b->msgs);
	b->failed = 0;
	if (b->too_long) {
		struct sg_error err = SG_ERROR_INIT;
		sg_error_set(&err, SG_ELIMIT, "longer than %u bytes", (unsigned)SG_MAX_LINE_BYTES);
		line_error(b, b->too_long, &err);
		return;
	}
	const char *p = b->data, *end = b->data + b->len;
	unsigned long lineno = b->lineno;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct sg_error err = SG_ERROR_INIT;
		lineno++;
		if (len > SG_MAX_LINE_BYTES) {
			sg_error_set(&err, SG_ELIMIT, "longer than %u bytes",
				     (unsigned)SG_MAX_LINE_BYTES);
			line_error(b, lineno, &err);
		} else {
			if (len && p[len - 1] == '\r')
				len--;
			size_t k = len;
			while (k && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\r'))
				k--;
			/* blank lines are skipped */
			if (k && scan_line(w, p, len, &b->out, &err) < 0)
				line_error(b, lineno, &err);
		}
		p = nl ? nl + 1 : end;
	}
}

/* Cuts the input into batches of whole lines with large reads. A read
 * that returns less (a pipe, a terminal) still makes a batch, so lines
 * typed one by one are answered one by one. */
struct reader {
	int fd;
	size_t chunk;            /* bytes asked of one read */
	char *carry;             /* a line begun by the previous read */
	size_t carry_len, carry_cap;
	unsigned long lineno;    /* lines handed out so far */
	unsigned long long bytes; /* read so far */
	int eof;
	int too_long;            /* the carried line outgrew SG_MAX_LINE_BYTES */
	int skipping;            /* dropping the rest of that line */
};

static int reserve(char **p, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	char *q = sg_realloc(*p, c);
	if (!q)
		return -SG_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static unsigned long count_lines(const char *s, size_t len)
{
	unsigned long n = 0;
	const char *end = s + len;
	for (const char *p = s; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		n++;
	return len && s[len - 1] != '\n' ? n + 1 : n; /* a last line ended by EOF */
}

/* Fills b: 1 with a batch, 0 at the end of the input, <0 on an error. */
static int next_batch(struct reader *rd, struct batch *b, struct sg_error *err)
{
	b->too_long = 0;
	b->len = 0;
	b->lineno = rd->lineno;
	if (rd->too_long) {
		/* reported on its own, after the lines before it */
		rd->too_long = 0;
		rd->skipping = 1;
		b->too_long = ++rd->lineno;
		return 1;
	}
	for (;;) {
		if (rd->eof && !rd->carry_len)
			return 0;
		if (reserve(&b->data, &b->cap, rd->carry_len + rd->chunk + 1))
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		if (rd->carry_len)
			memcpy(b->data, rd->carry, rd->carry_len);
		b->len = rd->carry_len;
		rd->carry_len = 0;
		if (!rd->eof) {
			ssize_t n;
			do
				n = read(rd->fd, b->data + b->len, rd->chunk);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return sg_error_set(err, SG_EIO, "read error: %s", strerror(errno));
			if (n == 0)
				rd->eof = 1;
			b->len += (size_t)n;
			rd->bytes += (size_t)n;
		}
		char *start = b->data;
		if (rd->skipping) {
			char *nl = memchr(b->data, '\n', b->len);
			if (!nl) {
				b->len = 0;
				continue;
			}
			rd->skipping = 0;
			start = nl + 1;
		}
		size_t have = b->len - (size_t)(start - b->data);
		char *last = have ? memrchr(start, '\n', have) : NULL;
		size_t whole = last ? (size_t)(last + 1 - start) : rd->eof ? have : 0;
		size_t rest = have - whole;
		if (rest > SG_MAX_LINE_BYTES) {
			rd->too_long = 1;
		} else {
			/* the unfinished line waits for the next read */
			if (reserve(&rd->carry, &rd->carry_cap, rest + 1))
				return sg_error_set(err, SG_ENOMEM, "out of memory");
			if (rest)
				memcpy(rd->carry, start + whole, rest);
			rd->carry_len = rest;
		}
		if (start != b->data)
			memmove(b->data, start, whole);
		b->len = whole;
		if (!whole) {
			if (rd->too_long)
				return next_batch(rd, b, err);
			continue;
		}
		rd->lineno += count_lines(b->data, whole);
		return 1;
	}
}

/* Writes a scanned batch: its messages, then its lines, then a flush so a
 * reader waiting on the other end of a pipe sees them. */
static int write_batch(struct batch *b)
{
	if (b->out.oom || b->msgs.oom) {
		fputs("sopgate scan: out of memory\n", stderr);
		return 1;
	}
	if (b->msgs.len)
		fwrite(b->msgs.data, 1, b->msgs.len, stderr);
	if (b->out.len)
		fwrite(b->out.data, 1, b->out.len, stdout);
	fflush(stdout);
	return b->failed;
}

/* Input asked of one read: the batch one thread scans at a time. Batches
 * are smaller with several threads so the work spreads evenly. */
#define CHUNK_BYTES (1u << 20)
#define THREAD_CHUNK_BYTES (256u << 10)
/* With the default thread count, an input this large (a file of this size,
 * or a stream once this much has been read) is scanned by every core. */
#define THREADS_AFTER_BYTES (4u << 20)

/* ---- several scanning threads ------------------------------------------
 * The calling thread reads batches into a ring of slots, N workers scan
 * them (each with its own sg_scan_ctx), and a writer thread writes them in
 * input order: a batch is written only after every batch before it. */

enum { SLOT_FREE, SLOT_FILLED, SLOT_DONE };

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *slots;
	int *state;
	size_t nslots;
	unsigned long filled, taken, written; /* batches so far, in order */
	int eof;                              /* no batch after `filled` */
	int failed;
};

struct worker_arg {
	struct pool *p;
	struct worker w;
	pthread_t tid;
};

static void *worker_main(void *arg)
{
	struct worker_arg *a = arg;
	struct pool *p = a->p;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->taken == p->filled && !p->eof)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->taken == p->filled)
			break;
		size_t i = p->taken++ % p->nslots;
		pthread_mutex_unlock(&p->mu);
		scan_batch(&a->w, &p->slots[i]);
		pthread_mutex_lock(&p->mu);
		p->state[i] = SLOT_DONE;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void *writer_main(void *arg)
{
	struct pool *p = arg;
	int failed = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!(p->written < p->filled && p->state[p->written % p->nslots] == SLOT_DONE) &&
		       !(p->written == p->filled && p->eof))
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->written == p->filled)
			break;
		size_t i = p->written % p->nslots;
		pthread_mutex_unlock(&p->mu);
		failed |= write_batch(&p->slots[i]);
		pthread_mutex_lock(&p->mu);
		p->state[i] = SLOT_FREE;
		p->written++;
		pthread_cond_broadcast(&p->cv);
	}
	p->failed |= failed;
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Goes on reading rd with nthreads scanning threads; w0's context serves
 * the first one. Returns 1 when a line failed, like run_json. */
static int run_threads(struct worker *w0, struct reader *rd, unsigned nthreads)
{
	struct pool p;
	struct worker_arg *args = sg_calloc(nthreads, sizeof(*args));
	size_t nslots = 2 * (size_t)nthreads + 2;
	unsigned started = 0;
	pthread_t wtid;
	int writer = 0, failed = 0;
	struct sg_error err = SG_ERROR_INIT;
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	p.nslots = nslots;
	p.slots = sg_calloc(nslots, sizeof(*p.slots));
	p.state = sg_calloc(nslots, sizeof(*p.state));
	if (!args || !p.slots || !p.state) {
		sg_error_set(&err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nslots; i++)
		batch_release(&p.slots[i]);
	for (; started < nthreads; started++) {
		struct worker_arg *a = &args[started];
		a->p = &p;
		a->w.o = w0->o;
		a->w.ctx = w0->ctx;
		sg_json_flat_init(&a->w.flat);
		if (started && sg_scan_ctx_new(&a->w.ctx, w0->scanner, &err) < 0)
			goto cleanup;
		if (pthread_create(&a->tid, NULL, worker_main, a)) {
			if (started)
				sg_scan_ctx_free(a->w.ctx);
			sg_json_flat_release(&a->w.flat);
			sg_error_set(&err, SG_EINTERNAL, "unable to start a scanning thread");
			goto cleanup;
		}
	}
	if (pthread_create(&wtid, NULL, writer_main, &p)) {
		sg_error_set(&err, SG_EINTERNAL, "unable to start the writer thread");
		goto cleanup;
	}
	writer = 1;
	for (;;) {
		pthread_mutex_lock(&p.mu);
		while (p.filled - p.written == nslots)
			pthread_cond_wait(&p.cv, &p.mu);
		size_t i = p.filled % nslots;
		pthread_mutex_unlock(&p.mu);
		int rc = next_batch(rd, &p.slots[i], &err);
		if (rc <= 0)
			break;
		pthread_mutex_lock(&p.mu);
		p.state[i] = SLOT_FILLED;
		p.filled++;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
	}
cleanup:
	pthread_mutex_lock(&p.mu);
	p.eof = 1;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(args[i].tid, NULL);
		if (i)
			sg_scan_ctx_free(args[i].w.ctx);
		sg_json_flat_release(&args[i].w.flat);
	}
	if (writer)
		pthread_join(wtid, NULL);
	failed = p.failed;
	if (err.code) {
		/* after every line before it has been written */
		sg_cli_print_error(&err);
		failed = 1;
	}
	for (size_t i = 0; p.slots && i < nslots; i++)
		batch_release(&p.slots[i]);
	sg_free(p.slots);
	sg_free(p.state);
	sg_free(args);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	return failed;
}

/* nthreads: how many scanning threads; auto: the default count, used
 * only once the input proves large. Returns 1 when a line failed. */
static int run_json(struct worker *w, FILE *in, unsigned nthreads, int auto_threads)
{
	struct reader rd = {0};
	struct batch b;
	struct stat st;
	int failed = 0;
	memset(&b, 0, sizeof(b));
	batch_release(&b);
	rd.fd = fileno(in);
	rd.chunk = CHUNK_BYTES;
	if (nthreads > 1 && (!auto_threads || (!fstat(rd.fd, &st) && S_ISREG(st.st_mode) &&
					       st.st_size >= THREADS_AFTER_BYTES))) {
		rd.chunk = THREAD_CHUNK_BYTES;
		failed = run_threads(w, &rd, nthreads);
		goto cleanup;
	}
	for (;;) {
		struct sg_error err = SG_ERROR_INIT;
		int rc = next_batch(&rd, &b, &err);
		if (rc == 0)
			break;
		if (rc < 0) {
			sg_cli_print_error(&err);
			failed = 1;
			break;
		}
		scan_batch(w, &b);
		failed |= write_batch(&b);
		if (nthreads > 1 && rd.bytes >= THREADS_AFTER_BYTES) {
			rd.chunk = THREAD_CHUNK_BYTES;
			failed |= run_threads(w, &rd, nthreads);
			break;
		}
	}
cleanup:
	batch_release(&b);
	sg_free(rd.carry);
	return failed;
}

/* The cores this process may run on. */
static unsigned cpu_count(void)
{
	cpu_set_t set;
	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static int run(int argc, char **argv)
{
	struct opts o = {SG_SCAN_INPUT, 0, {0}, 0, NULL};
	int no_model = 0;
	unsigned threads = 0; /* 0: the default */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			o.json = 1;
		} else if (!strcmp(a, "--mode") || !strncmp(a, "--mode=", 7)) {
			const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
			if (v && !strcmp(v, "input"))
				o.mode = SG_SCAN_INPUT;
			else if (v && !strcmp(v, "output"))
				o.mode = SG_SCAN_OUTPUT;
			else
				return sg_cli_usage_error(&sg_cmd_scan,
							  "--mode: expected 'input' or 'output'");
		} else if (!strcmp(a, "--threads") || !strncmp(a, "--threads=", 10)) {
			const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
			char *end;
			long n = v && *v >= '0' && *v <= '9' ? strtol(v, &end, 10) : 0;
			if (n < 1 || n > SG_MAX_SCAN_THREADS || *end)
				return sg_cli_usage_error(&sg_cmd_scan,
							  "--threads: expected a number from 1 to %d",
							  SG_MAX_SCAN_THREADS);
			threads = (unsigned)n;
		} else if (!strcmp(a, "--no-model")) {
			no_model = 1;
		} else if (!strcmp(a, "--allow-url") || !strncmp(a, "--allow-url=", 12)) {
			const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !*v)
				return sg_cli_usage_error(&sg_cmd_scan, "--allow-url: expected a URL");
			if (o.nallow == MAX_ALLOW)
				return sg_cli_usage_error(&sg_cmd_scan, "--allow-url: at most %d",
							  MAX_ALLOW);
			o.allow[o.nallow++] = v;
		} else if (a[0] == '-' && a[1]) {
			return sg_cli_usage_error(&sg_cmd_scan, "unknown option '%s'", a);
		} else if (o.path) {
			return sg_cli_usage_error(&sg_cmd_scan, "more than one input file");
		} else {
			o.path = a;
		}
	}

	struct sg_error err = SG_ERROR_INIT;
	struct sg_scanner *sc = NULL;
	struct sg_scan_ctx *ctx = NULL;
	FILE *in = NULL;
	char *text = NULL;
	int status = SG_EXIT_USAGE;
	char cache[4096];
	struct sg_scan_options so = SG_SCAN_OPTIONS_INIT;
	const char *env = getenv("SOPGATE_SCAN_CACHE");
	if (env) {
		so.cache_path = *env ? env : NULL;
	} else if (snprintf(cache, sizeof(cache), "%s/scan-rules.hsdb", sg_cli_data_dir()) <
		   (int)sizeof(cache)) {
		so.cache_path = cache;
	}
	sg_json_init();
	/* the injection model, when the build made one (make does) */
	struct sg_classifier *inj = NULL;
	char model[4096];
	snprintf(model, sizeof(model), "%s/injection.model", sg_cli_data_dir());
	if (!no_model && o.mode == SG_SCAN_INPUT && access(model, R_OK) == 0) {
		if (sg_classifier_load(&inj, model, &err) < 0)
			goto fail;
		so.injection_model = inj;
	}
	if (sg_scanner_new(&sc, &so, &err) || sg_scan_ctx_new(&ctx, sc, &err))
		goto fail;
	if (o.json) {
		in = sg_cli_open_input(o.path, &err);
		if (!in)
			goto fail;
		struct worker w;
		w.o = &o;
		w.scanner = sc;
		w.ctx = ctx;
		sg_json_flat_init(&w.flat);
		unsigned n = threads ? threads : cpu_count();
		if (n > SG_MAX_SCAN_THREADS)
			n = SG_MAX_SCAN_THREADS;
		status = run_json(&w, in, n, !threads) ? SG_EXIT_FAIL : SG_EXIT_OK;
		sg_json_flat_release(&w.flat);
		goto cleanup;
	}
	size_t len;
	if (sg_read_file(o.path ? o.path : "-", &text, &len, &err))
		goto fail;
	if (len > SG_MAX_TEXT_BYTES) {
		sg_error_set(&err, SG_ELIMIT, "input is %zu bytes, at most %u are scanned as one text",
			     len, (unsigned)SG_MAX_TEXT_BYTES);
		status = SG_EXIT_FAIL;
		goto fail;
	}
	struct sg_scan_input si = {0};
	si.allow_urls = o.allow;
	si.nallow_urls = o.nallow;
	struct sg_scan_result *r;
	if (sg_scan_run(ctx, o.mode, text, len, &si, &r, &err)) {
		status = SG_EXIT_FAIL;
		goto fail;
	}
	report(stdout, r);
	status = SG_EXIT_OK;
	goto cleanup;
fail:
	sg_cli_print_error(&err);
cleanup:
	if (in && in != stdin)
		fclose(in);
	sg_free(text);
	sg_scan_ctx_free(ctx);
	sg_scanner_free(sc);
	sg_classifier_free(inj);
	return status;
}

const struct sg_cmd sg_cmd_scan = {
	"scan",
	"find PII and risky language in a text or a JSONL stream, and mask it",
	"sopgate scan [--mode input|output] [--json [--threads N]] [--allow-url URL]...\n"
	"             [FILE|-]\n"
	"\n"
	"  --mode input    PII + input risk (default): injection, threats, ...\n"
	"  --mode output   PII + output risk, for drafts: commitments, links, ...\n"
	"  --json          JSONL in (a \"text\" field per line; optional\n"
	"                  \"allow_urls\" and, in output mode, \"input_text\"),\n"
	"                  one JSON object out per line:\n"
	"                  {\"findings\":[...],\"masked\":\"...\",\"blocked\":false}\n"
	"  --threads N     with --json: N scanning threads (1 to 64); output stays in\n"
	"                  input order. Default: one per core once the input is\n"
	"                  over 4 MiB (a file that size, or a stream after 4 MiB)\n"
	"  --allow-url URL a link a draft may contain (repeatable)\n"
	"  --no-model      patterns only: skip the injection model (input mode\n"
	"                  uses <data>/injection.model when it exists)\n"
	"\n"
	"Offsets are UTF-8 byte offsets into the original text. The output never\n"
	"contains raw PII: only offsets and the masked text.\n"
	"Environment: SOPGATE_SCAN_CACHE (database cache file; empty: none).\n",
	run,
};
