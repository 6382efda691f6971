/*
 * types.c - the scanner's type and action names.
 *
 * The names are part of the CLI and policy contracts: policies refer to
 * them (`scan.input.types contains "SSN"`) and the JSON output carries them.
 */
#include "scan/scan.h"

#include <string.h>

#include "core/banned.h"

static const char *const type_names[SG_T__COUNT] = {
	"EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS",
	"DATE_OF_BIRTH", "ADDRESS", "PERSON", "SECRET",
	"PROMPT_INJECTION", "LEGAL_THREAT", "CHARGEBACK_THREAT",
	"SECURITY_INCIDENT", "HUMAN_REQUEST", "SELF_HARM", "PRESS", "REGULATORY",
	"REFUND_COMMITMENT", "PRICING_COMMITMENT", "LEGAL_POSITION",
	"SECURITY_STATEMENT", "OUTAGE_APOLOGY", "UNAPPROVED_LINK", "PII_ECHO",
	"TONE",
};

static const char *const action_names[] = {
	"default", "allow", "flag", "mask", "block",
};

const char *const *sg_scan_type_names(size_t *count)
{
	if (count)
		*count = SG_T__COUNT;
	return type_names;
}

int sg_scan_type_from_name(const char *name)
{
	for (int i = 0; i < SG_T__COUNT; i++)
		if (strcmp(type_names[i], name) == 0)
			return i;
	return -1;
}

const char *sg_scan_action_name(enum sg_scan_action a)
{
	if ((unsigned)a >= sizeof(action_names) / sizeof(action_names[0]))
		return "flag";
	return action_names[a];
}

int sg_scan_action_from_name(const char *name)
{
	for (int i = 1; i < (int)(sizeof(action_names) / sizeof(action_names[0])); i++)
		if (strcmp(action_names[i], name) == 0)
			return i;
	return -1;
}

enum sg_scan_action sg_scan_default_action(enum sg_scan_type t)
{
	if (t <= SG_T_SECRET)
		return SG_SCAN_MASK;
	if (t == SG_T_PROMPT_INJECTION)
		return SG_SCAN_BLOCK;
	return SG_SCAN_FLAG;
}
