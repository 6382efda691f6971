/*
 * eval.c - the policy expression language, evaluating half: walks the node
 * array expr.c built with no allocation, appending the operands it saw to a
 * trace so decisions can cite them ("facts.refund_amount = 750 > 500").
 */
#include "policy/policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/expr_int.h"
#include "core/banned.h"

/* ---- evaluation ----------------------------------------------------- */

int sg_value_truthy(const struct sg_value *v)
{
	switch (v->type) {
	case SG_V_BOOL: return v->b;
	case SG_V_NUM: return v->num != 0;
	case SG_V_STR: return v->len != 0;
	case SG_V_LIST: return v->len != 0;
	default: return 0;
	}
}

static int vequal(const struct sg_value *x, const struct sg_value *y)
{
	if (x->type != y->type)
		return 0;
	switch (x->type) {
	case SG_V_NULL: return 1;
	case SG_V_BOOL: return !x->b == !y->b;
	case SG_V_NUM: return x->num == y->num;
	case SG_V_STR: return x->len == y->len && !memcmp(x->str, y->str, x->len);
	case SG_V_LIST:
		if (x->len != y->len)
			return 0;
		for (size_t i = 0; i < x->len; i++)
			if (!vequal(&x->items[i], &y->items[i]))
				return 0;
		return 1;
	}
	return 0;
}

static int list_has(const struct sg_value *list, const struct sg_value *v)
{
	for (size_t i = 0; i < list->len; i++)
		if (vequal(&list->items[i], v))
			return 1;
	return 0;
}

static int str_has(const struct sg_value *hay, const struct sg_value *needle)
{
	if (needle->len == 0)
		return 1;
	if (needle->len > hay->len)
		return 0;
	const char *h = hay->str, *end = hay->str + hay->len - needle->len;
	for (; h <= end; h++) {
		h = memchr(h, needle->str[0], (size_t)(end - h) + 1);
		if (!h)
			return 0;
		if (!memcmp(h, needle->str, needle->len))
			return 1;
	}
	return 0;
}

static int contains(const struct sg_value *x, const struct sg_value *y)
{
	if (x->type == SG_V_LIST)
		return list_has(x, y);
	if (x->type == SG_V_STR && y->type == SG_V_STR)
		return str_has(x, y);
	return 0;
}

static int compare(uint8_t op, const struct sg_value *x, const struct sg_value *y)
{
	if (op == OP_EQ)
		return vequal(x, y);
	if (op == OP_NE)
		return !vequal(x, y);
	int c;
	if (x->type == SG_V_NUM && y->type == SG_V_NUM) {
		c = x->num < y->num ? -1 : x->num > y->num ? 1 : 0;
		if (isnan(x->num) || isnan(y->num))
			return 0;
	} else if (x->type == SG_V_STR && y->type == SG_V_STR) {
		size_t n = x->len < y->len ? x->len : y->len;
		c = memcmp(x->str, y->str, n);
		if (!c)
			c = x->len < y->len ? -1 : x->len > y->len;
	} else {
		return 0; /* ordering across types (or with null) is false */
	}
	switch (op) {
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	default: return c >= 0;
	}
}

static int re_match(const struct node *n, const struct sg_value *v)
{
	if (v->type == SG_V_STR) {
		pthread_mutex_lock(n->lock);
		int rc = pcre2_match(n->re, (PCRE2_SPTR)v->str, v->len, 0, 0, n->md, NULL);
		pthread_mutex_unlock(n->lock);
		return rc >= 0;
	}
	if (v->type == SG_V_LIST) {
		for (size_t i = 0; i < v->len; i++)
			if (re_match(n, &v->items[i]))
				return 1;
	}
	return 0;
}

struct ev {
	const struct sg_expr *e;
	sg_resolver_fn resolve;
	void *ctx;
	struct sg_expr_trace *trace;
};

static void record(struct ev *ev, uint32_t node, const struct sg_value *l,
		   const struct sg_value *r, int result)
{
	struct sg_expr_trace *t = ev->trace;
	if (!t)
		return;
	if (t->n >= SG_EXPR_TRACE_MAX) {
		t->truncated = 1;
		return;
	}
	struct sg_trace_item *it = &t->items[t->n++];
	it->expr = ev->e;
	it->node = node;
	it->lhs = *l;
	if (r)
		it->rhs = *r;
	else
		it->rhs.type = SG_V_NULL;
	it->result = result;
}

static int eval(struct ev *ev, uint32_t i, struct sg_value *out);

/* Operand of and/or/not: a bare field path is recorded as a citation. */
static int eval_cond(struct ev *ev, uint32_t i, int *truth)
{
	struct sg_value v;
	int rc = eval(ev, i, &v);
	if (rc < 0)
		return rc;
	*truth = sg_value_truthy(&v);
	if (ev->e->nodes[i].op == OP_PATH)
		record(ev, i, &v, NULL, *truth);
	return 0;
}

static void set_bool(struct sg_value *out, int b)
{
	out->type = SG_V_BOOL;
	out->b = b;
}

static int eval(struct ev *ev, uint32_t i, struct sg_value *out)
{
	const struct node *n = &ev->e->nodes[i];
	struct sg_value x, y;
	int rc, t;
	switch (n->op) {
	case OP_NULL:
		out->type = SG_V_NULL;
		return 0;
	case OP_BOOL: case OP_NUM: case OP_STR: case OP_LIST:
		*out = n->v;
		return 0;
	case OP_PATH:
		memset(out, 0, sizeof *out);
		rc = ev->resolve ? ev->resolve(ev->ctx, n->path_id, n->path, out) : 0;
		return rc < 0 ? rc : 0;
	case OP_NOT:
		if ((rc = eval_cond(ev, n->a, &t)) < 0)
			return rc;
		set_bool(out, !t);
		return 0;
	case OP_AND: case OP_OR:
		if ((rc = eval_cond(ev, n->a, &t)) < 0)
			return rc;
		if (n->op == OP_AND ? !t : t) {
			set_bool(out, t);
			return 0;
		}
		if ((rc = eval_cond(ev, n->b, &t)) < 0)
			return rc;
		set_bool(out, t);
		return 0;
	default:
		break;
	}
	if ((rc = eval(ev, n->a, &x)) < 0)
		return rc;
	if (n->nargs > 1 && (rc = eval(ev, n->b, &y)) < 0)
		return rc;
	switch (n->op) {
	case OP_IN: case OP_NOTIN:
		t = contains(&y, &x);
		if (n->op == OP_NOTIN)
			t = !t;
		break;
	case OP_CONTAINS:
		t = contains(&x, &y);
		break;
	case OP_MATCHES:
		t = re_match(n, &x);
		break;
	case OP_ANY:
		if (n->nargs == 1) {
			t = x.type == SG_V_LIST ? x.len > 0 : sg_value_truthy(&x);
		} else {
			t = 0;
			if (x.type == SG_V_LIST) {
				for (size_t k = 0; k < x.len && !t; k++)
					t = y.type == SG_V_LIST ? list_has(&y, &x.items[k])
								: vequal(&y, &x.items[k]);
			} else if (x.type != SG_V_NULL) {
				t = y.type == SG_V_LIST ? list_has(&y, &x) : vequal(&x, &y);
			}
		}
		break;
	case OP_LEN:
		out->type = SG_V_NUM;
		out->num = x.type == SG_V_STR || x.type == SG_V_LIST ? (double)x.len : 0;
		record(ev, i, &x, NULL, 1);
		return 0;
	default:
		t = compare(n->op, &x, &y);
		break;
	}
	record(ev, i, &x, n->nargs > 1 ? &y : NULL, t);
	set_bool(out, t);
	return 0;
}

int sg_expr_eval(const struct sg_expr *e, sg_resolver_fn resolve, void *ctx,
		 struct sg_expr_trace *trace, struct sg_value *out)
{
	struct ev ev = {e, resolve, ctx, trace};
	int rc = eval(&ev, e->root, out);
	if (rc == 0 && e->nodes[e->root].op == OP_PATH)
		record(&ev, e->root, out, NULL, sg_value_truthy(out));
	return rc;
}

/* ---- citations ------------------------------------------------------ */

void sg_value_format(struct sg_buf *b, const struct sg_value *v)
{
	switch (v->type) {
	case SG_V_NULL: sg_buf_adds(b, "null"); break;
	case SG_V_BOOL: sg_buf_adds(b, v->b ? "true" : "false"); break;
	case SG_V_NUM: sg_buf_addf(b, "%.15g", v->num); break;
	case SG_V_STR: sg_buf_add_json_str(b, v->str, v->len); break;
	case SG_V_LIST:
		sg_buf_addc(b, '[');
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				sg_buf_adds(b, ", ");
			sg_value_format(b, &v->items[i]);
		}
		sg_buf_addc(b, ']');
		break;
	}
}

static void operand(struct sg_buf *b, const struct sg_expr *e, uint32_t i,
		    const struct sg_value *v)
{
	const struct node *n = &e->nodes[i];
	if (n->op == OP_PATH) {
		sg_buf_adds(b, n->path);
		sg_buf_adds(b, " = ");
		sg_value_format(b, v);
	} else if (is_const(n)) {
		sg_value_format(b, v);
	} else {
		sg_buf_add(b, e->src + n->start, n->len);
	}
}

void sg_trace_format_item(struct sg_buf *b, const struct sg_trace_item *it)
{
	const struct sg_expr *e = it->expr;
	const struct node *n = &e->nodes[it->node];
	if (n->op == OP_PATH) {
		operand(b, e, it->node, &it->lhs);
	} else if (n->op >= OP_EQ && n->op <= OP_NOTIN) {
		operand(b, e, n->a, &it->lhs);
		sg_buf_addf(b, " %s ", op_text[n->op]);
		if (e->nodes[n->b].op == OP_PATH) {
			sg_buf_adds(b, e->nodes[n->b].path);
			sg_buf_adds(b, " (");
			sg_value_format(b, &it->rhs);
			sg_buf_addc(b, ')');
		} else {
			operand(b, e, n->b, &it->rhs);
		}
	} else {
		sg_buf_addf(b, "%s(", op_text[n->op]);
		operand(b, e, n->a, &it->lhs);
		if (n->nargs > 1) {
			sg_buf_adds(b, ", ");
			operand(b, e, n->b, &it->rhs);
		}
		sg_buf_addc(b, ')');
		if (n->op == OP_LEN)
			return;
	}
	if (!it->result)
		sg_buf_adds(b, " [false]");
}

void sg_trace_format(struct sg_buf *b, const struct sg_expr_trace *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		if (i)
			sg_buf_adds(b, "; ");
		sg_trace_format_item(b, &t->items[i]);
	}
	if (t->truncated)
		sg_buf_adds(b, "; ...");
}
