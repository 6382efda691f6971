/*
 * hash.h - SHA-256, HMAC-SHA256, hex and constant-time comparison
 * (OpenSSL libcrypto underneath).
 */
#ifndef SG_CORE_HASH_H
#define SG_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SG_SHA256_LEN 32
#define SG_SHA256_HEX (2 * SG_SHA256_LEN + 1)

void sg_sha256(const void *data, size_t len, uint8_t out[SG_SHA256_LEN]);
/* Lower-case hex, NUL-terminated. */
void sg_sha256_hex(const void *data, size_t len, char out[SG_SHA256_HEX]);
void sg_hmac_sha256(const void *key, size_t keylen, const void *data,
		    size_t len, uint8_t out[SG_SHA256_LEN]);
void sg_hex(const uint8_t *bytes, size_t n, char *out /* 2n+1 */);
/* 1 when equal; time depends only on n. */
int sg_ct_equal(const void *a, const void *b, size_t n);
/* Fills out with n cryptographically random bytes; 0 or -SG_EINTERNAL. */
int sg_random_bytes(void *out, size_t n);
/* 64-bit FNV-1a, for hashing features and hash tables (not security). */
uint64_t sg_fnv1a64(const void *data, size_t len, uint64_t seed);

#endif
