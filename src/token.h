/*
 * Secrets and identifiers, all from libsodium: random ids, API keys, webhook
 * secrets, and the keyed BLAKE2b hashes under which codes, link tokens and
 * API keys are stored.  Nothing here ever writes a secret to a log.
 */
#ifndef MAILPROOF_TOKEN_H
#define MAILPROOF_TOKEN_H

#include <stddef.h>

#include "buf.h"

#define TOKEN_HASH_BYTES 32
#define TOKEN_ID_CHARS 26			/* Crockford base32 of 16 bytes */
#define TOKEN_API_KEY_LEN (4 + 43)	/* "mpk_" + base64url(32 bytes) */
#define TOKEN_WHSEC_LEN (6 + 44)		/* "whsec_" + base64(32 bytes) */

/* OTP alphabets: numeric, alpha (A-Z), alphanumeric (no 0 1 I L O U). */
#define TOKEN_FORMAT_NUMERIC "0123456789"
#define TOKEN_FORMAT_ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define TOKEN_FORMAT_ALNUM "23456789ABCDEFGHJKMNPQRSTVWXYZ"
#define TOKEN_CODE_MAX 12
/* tokenFormat hex: 64 lower-case hex digits of 32 random bytes, codeLength ignored. */
#define TOKEN_HEX_CODE_LEN 64

/*
 * n random bytes.  After token_pool_enable() (the FastCGI worker calls it) they
 * come from a pool drawn ahead from libsodium, one system call for many
 * requests; a forked child starts without it.  Every random value below
 * goes through token_random().
 */
void token_pool_enable(void);
void token_random(void *out, size_t n);

/*
 * A one-time code of len (1..TOKEN_CODE_MAX) characters drawn uniformly from
 * alphabet: the rejection of randombytes_uniform(), so no modulo bias, on
 * one draw of random bytes for the whole code.
 */
void token_code(const char *alphabet, int len, char out[TOKEN_CODE_MAX + 1]);

/* A hex code: out needs TOKEN_HEX_CODE_LEN + 1. */
void token_hex_code(char out[TOKEN_HEX_CODE_LEN + 1]);

/*
 * The keyed hash under which the code of verification id is stored and
 * checked ("otp" of the id and the code): of the code in upper case, the
 * form verify_normalize_code() checks, so that a hex code mailed in lower
 * case verifies as typed.  A longer text, which is no code, matches none.
 */
void token_code_hash(const unsigned char key[32], const char *id, const char *code,
		     unsigned char out[TOKEN_HASH_BYTES]);

/* Crockford base32 of n bytes, big-endian, zero bits padded at the end. */
int token_base32(const unsigned char *in, size_t n, char *out, size_t outlen);

/* prefix + 26 Crockford base32 characters from 16 random bytes. */
int token_random_id(const char *prefix, char *out, size_t outlen);

/* "mpk_" + 43 characters: a new API key.  out needs TOKEN_API_KEY_LEN + 1. */
void token_api_key(char out[TOKEN_API_KEY_LEN + 1]);

/* "whsec_" + base64 of 32 random bytes.  out needs TOKEN_WHSEC_LEN + 1. */
void token_webhook_secret(char out[TOKEN_WHSEC_LEN + 1]);

/*
 * Keyed BLAKE2b-256 of domain, NUL, part1, NUL, part2 (part2 may be NULL).
 * The domain ("apikey", "otp", "link") keeps a hash of one kind from ever
 * matching another; part1 binds a code to its verification id.
 */
void token_hash(const unsigned char key[32], const char *domain, const char *part1,
		const char *part2, unsigned char out[TOKEN_HASH_BYTES]);

/*
 * Seals a message for storage (secretbox under a key derived from key):
 * appends "\\x" and the hex of nonce and box to out, as PostgreSQL reads
 * bytea.  Returns 0, or -1 when out is full.
 */
int token_seal(const unsigned char key[32], const char *msg, size_t len, struct buf *out);

/*
 * Opens what token_seal made (hex, without "\\x") into out (NUL-terminated).
 * Returns 0, or -1 when it was sealed under another key or is damaged.
 */
int token_unseal(const unsigned char key[32], const char *hex, struct buf *out);

/*
 * token_unseal with key, else with prev (the previous secret_key, or NULL):
 * returns 0 or 1 for the key that opened it, or -1 when neither did.
 */
int token_unseal_any(const unsigned char key[32], const unsigned char *prev, const char *hex,
		     struct buf *out);

/*
 * The token of the "Didn't ask for this?" link of verification id: the
 * same in every mail of it, unguessable without key (base64url of a keyed
 * hash).  What is stored is its own keyed hash (token_hash_hex, "report").
 */
#define TOKEN_REPORT_LEN 43
void token_report(const unsigned char key[32], const char *id, char out[TOKEN_REPORT_LEN + 1]);

/* token_hash() written as a PostgreSQL bytea literal: "\\x" and 64 hex digits. */
#define TOKEN_HASH_HEX_LEN (2 + 2 * TOKEN_HASH_BYTES + 1)
void token_hash_hex(const unsigned char key[32], const char *domain, const char *part1,
		    const char *part2, char out[TOKEN_HASH_HEX_LEN]);
/* token_code_hash() as that literal. */
void token_code_hash_hex(const unsigned char key[32], const char *id, const char *code,
			 char out[TOKEN_HASH_HEX_LEN]);
/* Any hash (or TOKEN_HASH_BYTES of bytes) as that literal. */
void token_hex(const unsigned char hash[TOKEN_HASH_BYTES], char out[TOKEN_HASH_HEX_LEN]);

/* Constant-time equality of two hashes. */
int token_hash_equal(const unsigned char *a, const unsigned char *b);

#endif
