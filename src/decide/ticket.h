/*
 * ticket.h - the ticket event (input contract v1, see docs/contracts.md).
 *
 * sg_ticket_parse checks an event and fills a struct whose strings point into
 * the parsed JSON (kept alive by the struct) or into the given arena. Every
 * problem is reported with the field's path: "field 'customer.tier': 'gold'
 * is not one of free, starter, paid, premium, enterprise".
 */
#ifndef SG_DECIDE_TICKET_H
#define SG_DECIDE_TICKET_H

#include <jansson.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define SG_TICKET_MAX_HISTORY 64 /* turns kept; older ones are dropped */

struct sg_turn {
	const char *role;   /* customer | ai | agent */
	const char *text;
	const char *intent; /* for ai turns: the intent it answered; may be NULL */
	int rejected;       /* an ai draft a human rejected */
};

struct sg_customer {
	const char *id, *name, *email, *phone, *tier; /* any may be NULL */
	double tenure_months, ltv, contract_value;    /* 0 when absent */
	int vip;
	int present;                                  /* the object was given */
};

struct sg_ticket {
	json_t *json;           /* the whole event (owned reference) */
	const char *id;         /* required */
	const char *event_id;   /* given, or derived from the event's SHA-256 */
	const char *channel;    /* email | chat | in_app | social | voice; default email */
	const char *subject;    /* may be NULL */
	const char *body;       /* required, may be empty */
	const char *priority;   /* P0..P3 or NULL */
	struct sg_customer customer;
	struct sg_turn *history;
	size_t nhistory;
	json_t *facts;          /* borrowed from json, may be NULL */
	const char *draft_text; /* an existing draft to scan and gate, or NULL */
	const char **draft_sources;
	size_t ndraft_sources;
	const char *created_at; /* ISO time the helpdesk gave, or NULL */
};

/* Parses one event from a JSON value (a new reference is taken). Strings
 * derived here (event_id) live in `arena`. On failure *out is cleared and
 * err names the field. Returns 0, -SG_EINVALID or -SG_ENOMEM. */
int sg_ticket_from_json(struct sg_ticket *out, json_t *event,
			struct sg_arena *arena, struct sg_error *err);
/* The same from text (one JSON object). */
int sg_ticket_parse(struct sg_ticket *out, const char *text, size_t len,
		    struct sg_arena *arena, struct sg_error *err);
void sg_ticket_release(struct sg_ticket *t);

/* Subject and body joined as the text the guardrails and classifier see;
 * lives in arena. */
const char *sg_ticket_text(const struct sg_ticket *t, struct sg_arena *arena,
			   size_t *len);

/* Looks up a fact by dotted path ("shipment.status"); NULL when absent. */
json_t *sg_ticket_fact(const struct sg_ticket *t, const char *path);

#endif
