/*
 * ticket_fuzz.c - libFuzzer target: any bytes as a ticket event. The parser
 * must answer with a ticket or an error naming the field, never crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "decide/ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		sg_json_init();
		init = 1;
	}
	struct sg_arena a;
	struct sg_ticket t;
	struct sg_error err = SG_ERROR_INIT;
	sg_arena_init(&a, 0);
	if (sg_ticket_parse(&t, (const char *)data, size, &a, &err) == 0) {
		size_t len;
		(void)sg_ticket_text(&t, &a, &len);
		(void)sg_ticket_fact(&t, "a.b.c");
		sg_ticket_release(&t);
	}
	sg_arena_release(&a);
	return 0;
}
