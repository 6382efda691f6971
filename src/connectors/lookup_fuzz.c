/*
 * lookup_fuzz.c - libFuzzer target for the lookup answers: the input is a
 * vendor's response body, parsed by the salesforce and http lookup
 * connectors (status check, JSON, record path, field mapping). Whatever
 * the bytes, they must return a record or an error, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors_int.h"
#include "connectors/lookup.h"
#include "core/json.h"
#include "policy/policy.h"

static struct sg_pnode str_node(const char *s)
{
	struct sg_pnode n;
	memset(&n, 0, sizeof(n));
	n.kind = SG_PN_STR;
	n.text = s;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		sg_json_init();
		ready = 1;
	}
	/* connectors.x.lookups.crm.account: {record, fields: {a, b, c}} */
	struct sg_pnode fa = str_node("Name"), fb = str_node("$.Owner.Email"),
			fc = str_node("items[0].sku"), rec = str_node("$.data");
	struct sg_pnode *fitems[] = {&fa, &fb, &fc};
	const char *fkeys[] = {"name", "owner", "sku"};
	struct sg_pnode fields = {.kind = SG_PN_MAP, .n = 3, .items = fitems, .keys = fkeys};
	struct sg_pnode *litems[] = {&rec, &fields};
	const char *lkeys[] = {"record", "fields"};
	struct sg_pnode entry = {.kind = SG_PN_MAP, .n = 2, .items = litems, .keys = lkeys};
	struct sg_pnode *kitems[] = {&entry};
	const char *kkeys[] = {"crm.account"};
	struct sg_pnode lookups = {.kind = SG_PN_MAP, .n = 1, .items = kitems, .keys = kkeys};
	struct sg_pnode *citems[] = {&lookups};
	const char *ckeys[] = {"lookups"};
	struct sg_pnode node = {.kind = SG_PN_MAP, .n = 1, .items = citems, .keys = ckeys};

	char *body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = 0;
	struct sg_conn_response resp;
	memset(&resp, 0, sizeof(resp));
	resp.status = size && data[0] < 16 ? 400 + data[0] : 200;
	resp.body = body;
	resp.body_len = size;
	const struct sg_connector_ops *ops[] = {&sg_conn_salesforce_ops, &sg_conn_http_ops};
	for (size_t i = 0; i < 2; i++) {
		struct sg_connector c;
		memset(&c, 0, sizeof(c));
		c.ops = ops[i];
		c.cfg.name = "x";
		c.cfg.type = ops[i]->type;
		c.cfg.node = &node;
		json_t *out = NULL;
		struct sg_error err = SG_ERROR_INIT;
		int rc = ops[i]->lookup_parse(&out, &c, "crm.account", &resp, &err);
		if ((rc == 0) != (out != NULL) || (out && !json_is_object(out)))
			abort();
		json_decref(out);
	}
	free(body);
	return 0;
}
