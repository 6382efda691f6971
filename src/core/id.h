/*
 * id.h - time-ordered unique ids and clock helpers.
 *
 * Ids are ULIDs: 48 bits of milliseconds then 80 random bits, in Crockford
 * base32 (26 characters), so they sort by creation time in any database.
 */
#ifndef SG_CORE_ID_H
#define SG_CORE_ID_H

#include <stdint.h>

#define SG_ID_LEN 27 /* 26 characters + NUL */

/* 0 or -SG_EINTERNAL when no randomness is available. */
int sg_id_new(char out[SG_ID_LEN]);

int64_t sg_now_ms(void);           /* wall clock, ms since the epoch */
uint64_t sg_mono_ns(void);         /* monotonic clock, for durations */
/* "2026-11-22T18:04:05.123Z"; out must hold 25 bytes. */
void sg_time_iso(int64_t ms, char out[25]);
/* Parses the same form (and without milliseconds); 0 or -SG_EINVALID. */
int sg_time_parse_iso(const char *s, int64_t *out);

#endif
