/*
 * expr_int.h - shared by expr.c (parser) and eval.c (evaluator) only: the
 * flat node array a parsed expression is made of.
 */
#ifndef SG_POLICY_EXPR_INT_H
#define SG_POLICY_EXPR_INT_H

#include <pthread.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "policy/policy.h"

enum op {
	OP_NULL, OP_BOOL, OP_NUM, OP_STR, OP_LIST, OP_PATH,
	OP_NOT, OP_AND, OP_OR,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN,
	OP_CONTAINS, OP_MATCHES, OP_ANY, OP_LEN
};

/* Operator spelling, for citations and simple-compare queries. */
static const char *const op_text[] = {
	[OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<", [OP_LE] = "<=",
	[OP_GT] = ">", [OP_GE] = ">=", [OP_IN] = "in", [OP_NOTIN] = "not in",
	[OP_CONTAINS] = "contains", [OP_MATCHES] = "matches", [OP_ANY] = "any",
	[OP_LEN] = "len",
};

struct node {
	uint8_t op;
	uint8_t nargs;
	uint16_t a, b;        /* children */
	uint32_t start, len;  /* source span */
	struct sg_value v;    /* constants (list literal: items) */
	uint32_t path_id;
	const char *path;     /* OP_PATH, NUL-ended */
	pcre2_code *re;
	pcre2_match_data *md;   /* one per regex, guarded by lock */
	pthread_mutex_t *lock;
};

struct sg_expr {
	const char *src; /* NUL-ended copy */
	struct node *nodes;
	uint32_t n, root;
	int has_paths;
};

/* A literal (list literals are folded to constants at parse time). */
static inline int is_const(const struct node *n)
{
	return n->op == OP_NULL || n->op == OP_BOOL || n->op == OP_NUM || n->op == OP_STR ||
	       n->op == OP_LIST;
}

#endif
