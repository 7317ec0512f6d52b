/* Unit tests of ids, keys and keyed hashes. */
#include "unit.h"
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "token.h"

START_TEST(base32_known_values)
{
	unsigned char zero[16] = { 0 }, ff[16];
	char out[32];

	memset(ff, 0xff, sizeof ff);
	ck_assert_int_eq(token_base32(zero, 16, out, sizeof out), 0);
	ck_assert_str_eq(out, "00000000000000000000000000");
	ck_assert_int_eq(token_base32(ff, 16, out, sizeof out), 0);
	/* 128 one bits, then two zero bits of padding: the last digit is 11100b */
	ck_assert_str_eq(out, "ZZZZZZZZZZZZZZZZZZZZZZZZZW");
	ck_assert_int_eq(token_base32((const unsigned char *)"f", 1, out, sizeof out), 0);
	ck_assert_str_eq(out, "CR");
	ck_assert_int_eq(token_base32(ff, 16, out, 26), -1);
}
END_TEST

START_TEST(random_ids_have_the_spec_shape)
{
	char a[40], b[40];

	ck_assert_int_eq(token_random_id("ev_", a, sizeof a), 0);
	ck_assert_int_eq(token_random_id("ev_", b, sizeof b), 0);
	ck_assert_uint_eq(strlen(a), 29);
	ck_assert_int_eq(strncmp(a, "ev_", 3), 0);
	ck_assert_uint_eq(strspn(a + 3, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(token_random_id("ev_", a, 29), -1);
}
END_TEST

START_TEST(api_keys_and_webhook_secrets)
{
	char k[TOKEN_API_KEY_LEN + 1], s[TOKEN_WHSEC_LEN + 1];
	unsigned char raw[32];
	size_t n;

	token_api_key(k);
	ck_assert_uint_eq(strlen(k), 47);
	ck_assert_int_eq(strncmp(k, "mpk_", 4), 0);
	ck_assert_int_eq(sodium_base642bin(raw, sizeof raw, k + 4, 43, NULL, &n, NULL,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	ck_assert_uint_eq(n, 32);
	token_webhook_secret(s);
	ck_assert_uint_eq(strlen(s), 50);
	ck_assert_int_eq(sodium_base642bin(raw, sizeof raw, s + 6, 44, NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(n, 32);
}
END_TEST

START_TEST(hash_is_keyed_bound_and_domain_separated)
{
	unsigned char k1[32] = { 1 }, k2[32] = { 2 }, a[32], b[32];

	token_hash(k1, "otp", "ev_1", "123456", a);
	token_hash(k1, "otp", "ev_1", "123456", b);
	ck_assert(token_hash_equal(a, b));
	token_hash(k2, "otp", "ev_1", "123456", b);
	ck_assert(!token_hash_equal(a, b));
	token_hash(k1, "otp", "ev_2", "123456", b);
	ck_assert(!token_hash_equal(a, b));
	token_hash(k1, "link", "ev_1", "123456", b);
	ck_assert(!token_hash_equal(a, b));
	/* the separators keep ("ev_1", "23456") apart from ("ev_12", "3456") */
	token_hash(k1, "otp", "ev_12", "3456", a);
	token_hash(k1, "otp", "ev_1", "23456", b);
	ck_assert(!token_hash_equal(a, b));
}
END_TEST

START_TEST(hash_matches_plain_keyed_blake2b)
{
	/* Tests and operators recompute it as BLAKE2b-256(key, "otp\0" id "\0" code). */
	unsigned char key[32], a[32], b[32];
	const unsigned char msg[] = "otp\0ev_1\0" "123456";

	memset(key, 7, sizeof key);
	token_hash(key, "otp", "ev_1", "123456", a);
	crypto_generichash(b, 32, msg, sizeof msg - 1, key, 32);
	ck_assert(token_hash_equal(a, b));
}
END_TEST

START_TEST(codes_use_their_alphabet_evenly)
{
	int seen[10] = { 0 };
	char code[TOKEN_CODE_MAX + 1];

	for (int i = 0; i < 2000; i++) {
		token_code(TOKEN_FORMAT_NUMERIC, 6, code);
		ck_assert_uint_eq(strlen(code), 6);
		ck_assert_uint_eq(strspn(code, TOKEN_FORMAT_NUMERIC), 6);
		for (int j = 0; j < 6; j++)
			seen[code[j] - '0']++;
	}
	/* 12000 digits: each expected 1200 times; 1000-1400 is far outside chance */
	for (int d = 0; d < 10; d++)
		ck_assert_msg(seen[d] > 1000 && seen[d] < 1400, "digit %d seen %d times", d, seen[d]);
	token_code(TOKEN_FORMAT_ALNUM, 12, code);
	ck_assert_uint_eq(strspn(code, TOKEN_FORMAT_ALNUM), 12);
	ck_assert_ptr_null(strpbrk(code, "01ILOU"));
	token_code(TOKEN_FORMAT_ALPHA, 4, code);
	ck_assert_uint_eq(strspn(code, TOKEN_FORMAT_ALPHA), 4);
}
END_TEST

START_TEST(the_pool_hands_out_each_byte_once)
{
	unsigned char a[300], b[300], z[300] = { 0 };
	int fd[2];
	pid_t pid;

	token_pool_enable();
	token_random(a, sizeof a);	/* draws the pool */
	token_random(b, sizeof b);	/* more than is left: draws it again */
	ck_assert_mem_ne(a, z, sizeof a);
	ck_assert_mem_ne(b, z, sizeof b);
	ck_assert_mem_ne(a, b, sizeof a);
	/* a child does not hand out what its parent will */
	token_random(a, 16);
	ck_assert_int_eq(pipe(fd), 0);
	if ((pid = fork()) == 0) {
		token_random(b, 16);
		_exit(write(fd[1], b, 16) == 16 ? 0 : 1);
	}
	ck_assert_int_eq(read(fd[0], b, 16), 16);
	waitpid(pid, NULL, 0);
	token_random(a, 16);
	ck_assert_mem_ne(a, b, 16);
	close(fd[0]);
	close(fd[1]);
}
END_TEST

UNIT_MAIN("token",
	  the_pool_hands_out_each_byte_once,
	  codes_use_their_alphabet_evenly,
	  base32_known_values,
	  random_ids_have_the_spec_shape,
	  api_keys_and_webhook_secrets,
	  hash_is_keyed_bound_and_domain_separated,
	  hash_matches_plain_keyed_blake2b)
