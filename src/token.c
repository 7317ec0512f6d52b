/* See token.h.  All randomness is libsodium's (getrandom underneath). */
#include "token.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/*
 * Random bytes drawn ahead, 512 at a time, in a process that enabled the
 * pool (the FastCGI worker): a system call for each value a request needs
 * cost about as much as the worker's own work for a start.  Every byte is
 * handed out once and wiped.  A child forked from such a process starts
 * with the pool empty and off, so no two processes can hand out the same
 * bytes; without the pool token_random() reads libsodium directly.
 */
static unsigned char g_pool[512];
static size_t g_pool_left;
static int g_pool_on;

static void pool_forget(void)
{
	sodium_memzero(g_pool, sizeof g_pool);
	g_pool_left = 0;
	g_pool_on = 0;
}

void token_pool_enable(void)
{
	if (!g_pool_on)
		pthread_atfork(NULL, NULL, pool_forget);
	g_pool_on = 1;
}

void token_random(void *out, size_t n)
{
	unsigned char *from;

	if (n > g_pool_left) {
		if (!g_pool_on || n > sizeof g_pool) {
			randombytes_buf(out, n);
			return;
		}
		randombytes_buf(g_pool, sizeof g_pool);
		g_pool_left = sizeof g_pool;
	}
	from = g_pool + sizeof g_pool - g_pool_left;
	memcpy(out, from, n);
	sodium_memzero(from, n);
	g_pool_left -= n;
}

int token_base32(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t chars = (n * 8 + 4) / 5, o = 0;
	unsigned int acc = 0;
	int bits = 0;

	if (outlen < chars + 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = crockford[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = crockford[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

void token_code(const char *alphabet, int len, char out[TOKEN_CODE_MAX + 1])
{
	uint32_t n = (uint32_t)strlen(alphabet), draw[TOKEN_CODE_MAX];
	/* randombytes_uniform()'s rejection: the values below 2^32 mod n would make bias */
	uint32_t min = (1U + ~n) % n;
	int i = 0;

	if (len < 1 || len > TOKEN_CODE_MAX)
		len = TOKEN_CODE_MAX;
	/* one draw for the whole code (a system call each was most of a start's) */
	while (i < len) {
		int want = len - i;
		token_random(draw, (size_t)want * sizeof draw[0]);
		for (int j = 0; j < want; j++)
			if (draw[j] >= min)
				out[i++] = alphabet[draw[j] % n];
	}
	out[len] = '\0';
	sodium_memzero(draw, sizeof draw);
}

void token_hex_code(char out[TOKEN_HEX_CODE_LEN + 1])
{
	unsigned char raw[TOKEN_HEX_CODE_LEN / 2];

	token_random(raw, sizeof raw);
	sodium_bin2hex(out, TOKEN_HEX_CODE_LEN + 1, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
}

void token_code_hash(const unsigned char key[32], const char *id, const char *code,
		     unsigned char out[TOKEN_HASH_BYTES])
{
	char upper[TOKEN_HEX_CODE_LEN + 1];
	size_t i, n = strlen(code);

	/* longer than any code: it matches none, whatever its case */
	if (n > TOKEN_HEX_CODE_LEN) {
		token_hash(key, "otp", id, code, out);
		return;
	}
	for (i = 0; i <= n; i++)
		upper[i] = (char)toupper((unsigned char)code[i]);
	token_hash(key, "otp", id, upper, out);
	sodium_memzero(upper, sizeof upper);
}

int token_random_id(const char *prefix, char *out, size_t outlen)
{
	unsigned char raw[16];
	size_t plen = strlen(prefix);

	if (outlen < plen + TOKEN_ID_CHARS + 1)
		return -1;
	token_random(raw, sizeof raw);
	memcpy(out, prefix, plen);
	return token_base32(raw, sizeof raw, out + plen, outlen - plen);
}

/* prefix + base64 (variant) of 32 random bytes into out (outlen bytes). */
static void random_b64(const char *prefix, int variant, char *out, size_t outlen)
{
	unsigned char raw[32];
	size_t plen = strlen(prefix);

	token_random(raw, sizeof raw);
	memcpy(out, prefix, plen);
	sodium_bin2base64(out + plen, outlen - plen, raw, sizeof raw, variant);
	sodium_memzero(raw, sizeof raw);
}

void token_api_key(char out[TOKEN_API_KEY_LEN + 1])
{
	random_b64("mpk_", sodium_base64_VARIANT_URLSAFE_NO_PADDING, out, TOKEN_API_KEY_LEN + 1);
}

void token_webhook_secret(char out[TOKEN_WHSEC_LEN + 1])
{
	random_b64("whsec_", sodium_base64_VARIANT_ORIGINAL, out, TOKEN_WHSEC_LEN + 1);
}

void token_hash(const unsigned char key[32], const char *domain, const char *part1,
		const char *part2, unsigned char out[TOKEN_HASH_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, 32, TOKEN_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)domain, strlen(domain) + 1);
	crypto_generichash_update(&st, (const unsigned char *)part1, strlen(part1) + 1);
	if (part2)
		crypto_generichash_update(&st, (const unsigned char *)part2, strlen(part2));
	crypto_generichash_final(&st, out, TOKEN_HASH_BYTES);
}

void token_hex(const unsigned char hash[TOKEN_HASH_BYTES], char out[TOKEN_HASH_HEX_LEN])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, TOKEN_HASH_HEX_LEN - 2, hash, TOKEN_HASH_BYTES);
}

void token_hash_hex(const unsigned char key[32], const char *domain, const char *part1,
		    const char *part2, char out[TOKEN_HASH_HEX_LEN])
{
	unsigned char h[TOKEN_HASH_BYTES];

	token_hash(key, domain, part1, part2, h);
	token_hex(h, out);
}

void token_code_hash_hex(const unsigned char key[32], const char *id, const char *code,
			 char out[TOKEN_HASH_HEX_LEN])
{
	unsigned char h[TOKEN_HASH_BYTES];

	token_code_hash(key, id, code, h);
	token_hex(h, out);
}

int token_hash_equal(const unsigned char *a, const unsigned char *b)
{
	return sodium_memcmp(a, b, TOKEN_HASH_BYTES) == 0;
}

/* The secretbox key for stored mail, derived so it is never the hash key. */
static void seal_key(const unsigned char key[32], unsigned char out[crypto_secretbox_KEYBYTES])
{
	token_hash(key, "mail-seal", "", NULL, out);
}

int token_seal(const unsigned char key[32], const char *msg, size_t len, struct buf *out)
{
	unsigned char k[crypto_secretbox_KEYBYTES], *box;
	size_t boxlen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	char *hex;
	int rc = -1;

	if ((box = malloc(boxlen)) == NULL || (hex = malloc(2 * boxlen + 1)) == NULL) {
		free(box);
		return -1;
	}
	seal_key(key, k);
	token_random(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)msg, len,
			      box, k);
	sodium_bin2hex(hex, 2 * boxlen + 1, box, boxlen);
	if (buf_puts(out, "\\x") == 0 && buf_append(out, hex, 2 * boxlen) == 0)
		rc = 0;
	sodium_memzero(k, sizeof k);
	free(box);
	free(hex);
	return rc;
}

int token_unseal(const unsigned char key[32], const char *hex, struct buf *out)
{
	unsigned char k[crypto_secretbox_KEYBYTES], *box = NULL;
	size_t hexlen = strlen(hex), boxlen = 0, msglen;
	int rc = -1;

	if (hexlen / 2 < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
	    (box = malloc(hexlen / 2)) == NULL ||
	    sodium_hex2bin(box, hexlen / 2, hex, hexlen, NULL, &boxlen, NULL) != 0)
		goto out;
	msglen = boxlen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	seal_key(key, k);
	buf_reset(out);
	/* reserve, open in place, then set the length */
	if (buf_append(out, box, msglen) < 0)
		goto out;
	if (crypto_secretbox_open_easy((unsigned char *)out->data,
				       box + crypto_secretbox_NONCEBYTES,
				       boxlen - crypto_secretbox_NONCEBYTES, box, k) != 0) {
		buf_reset(out);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(k, sizeof k);
	free(box);
	return rc;
}

int token_unseal_any(const unsigned char key[32], const unsigned char *prev, const char *hex,
		     struct buf *out)
{
	if (token_unseal(key, hex, out) == 0)
		return 0;
	return prev && token_unseal(prev, hex, out) == 0 ? 1 : -1;
}

void token_report(const unsigned char key[32], const char *id, char out[TOKEN_REPORT_LEN + 1])
{
	unsigned char h[TOKEN_HASH_BYTES];

	token_hash(key, "report-token", id, NULL, h);
	sodium_bin2base64(out, TOKEN_REPORT_LEN + 1, h, sizeof h,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(h, sizeof h);
}
