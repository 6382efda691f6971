/*
 * id.c - ULIDs and time formatting (reentrant calls only: see banned.h).
 */
#include "core/id.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/banned.h"

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static _Thread_local uint8_t pool[250];
static _Thread_local size_t pool_left;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* in the child, only the forking thread exists: its pool is the one to drop */
static void pool_child(void)
{
	memset(pool, 0, sizeof(pool));
	pool_left = 0;
}

static void pool_atfork(void)
{
	pthread_atfork(NULL, NULL, pool_child);
}

int sg_id_new(char out[SG_ID_LEN])
{
	uint8_t raw[16];
	uint64_t ms = (uint64_t)sg_now_ms();
	for (int i = 5; i >= 0; i--) {
		raw[i] = (uint8_t)(ms & 0xff);
		ms >>= 8;
	}
	/* Ten random bytes per id, drawn from a per-thread pool refilled
	 * from the CSPRNG 25 ids at a time: one RAND_bytes call (and its
	 * locks) per id was a few percent of a stored ticket, which takes
	 * several ids. A forked child empties the pool it inherited, so
	 * parent and child never hand out the same bytes. */
	pthread_once(&pool_once, pool_atfork);
	if (pool_left < 10) {
		if (sg_random_bytes(pool, sizeof(pool)))
			return -SG_EINTERNAL;
		pool_left = sizeof(pool);
	}
	memcpy(raw + 6, pool + sizeof(pool) - pool_left, 10);
	memset(pool + sizeof(pool) - pool_left, 0, 10);
	pool_left -= 10;
	/* 128 bits -> 26 base32 digits, most significant first (2 pad bits). */
	for (int i = 0; i < 26; i++) {
		int bit = i * 5 - 2; /* first digit covers 3 bits */
		unsigned v = 0;
		for (int k = 0; k < 5; k++, bit++) {
			v <<= 1;
			if (bit >= 0)
				v |= (raw[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = b32[v];
	}
	out[26] = '\0';
	return 0;
}

int64_t sg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t sg_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sg_time_iso(int64_t ms, char out[25])
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)t * 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 25, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
		 (unsigned)frac % 1000u);
}

int sg_time_parse_iso(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int ms = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -SG_EINVALID;
	const char *p = s + n;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*p != 'Z' || p[1] != '\0')
		return -SG_EINVALID;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -SG_EINVALID;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}
