/* token.c -- see token.h. */
#include "token.h"

#include <sodium.h>
#include <string.h>

int token_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void token_random(char *out, size_t outlen, size_t nbytes)
{
	unsigned char raw[64];
	if (nbytes > sizeof raw)
		nbytes = sizeof raw;
	randombytes_buf(raw, nbytes);
	sodium_bin2base64(out, outlen, raw, nbytes,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

void token_sha256_hex(const void *data, size_t len, char out[TOKEN_HEX_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, TOKEN_HEX_LEN, h, sizeof h);
}

int token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb || la == 0)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}
