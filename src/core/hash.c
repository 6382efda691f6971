/*
 * hash.c - digests and MACs through OpenSSL, plus a fast non-crypto hash.
 */
#include "core/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/error.h"
#include "core/banned.h"

void sg_sha256(const void *data, size_t len, uint8_t out[SG_SHA256_LEN])
{
	unsigned int n = 0;
	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		SG_BUG("EVP_Digest(sha256) failed");
}

void sg_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

void sg_sha256_hex(const void *data, size_t len, char out[SG_SHA256_HEX])
{
	uint8_t d[SG_SHA256_LEN];
	sg_sha256(data, len, d);
	sg_hex(d, sizeof(d), out);
}

void sg_hmac_sha256(const void *key, size_t keylen, const void *data,
		    size_t len, uint8_t out[SG_SHA256_LEN])
{
	unsigned int n = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n))
		SG_BUG("HMAC(sha256) failed");
}

int sg_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int sg_random_bytes(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -SG_EINTERNAL;
}

uint64_t sg_fnv1a64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}
