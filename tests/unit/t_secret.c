/* Unit tests of a mail's secret: codes, links, their hashes and their seals. */
#include "unit.h"
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mail_verification.h"
#include "secret.h"

#define ID "ev_0123456789ABCDEFGHJKMNPQRS"

static void config_of(struct config *cfg, int with_previous)
{
	memset(cfg, 0, sizeof *cfg);
	memset(cfg->secret_key, 7, sizeof cfg->secret_key);
	if (with_previous) {
		memset(cfg->secret_key_previous, 9, sizeof cfg->secret_key_previous);
		cfg->have_secret_key_previous = 1;
	}
	cfg->public_base_url = "https://v.example";
}

START_TEST(each_kind_has_its_parts)
{
	struct config cfg;
	struct secret s;
	char want[TOKEN_HASH_HEX_LEN];

	config_of(&cfg, 0);
	secret_new(&cfg, ID, SECRET_CODE, TOKEN_FORMAT_NUMERIC, 6, 0, NULL, &s);
	ck_assert_uint_eq(strlen(s.code), 6);
	ck_assert_uint_eq(strspn(s.code, TOKEN_FORMAT_NUMERIC), 6);
	ck_assert_str_eq(s.token, "");
	ck_assert_str_eq(s.link, "");
	ck_assert_str_eq(s.link_hash, "");
	token_code_hash_hex(cfg.secret_key, ID, s.code, want);
	ck_assert_str_eq(s.hash, want);

	secret_new(&cfg, ID, SECRET_LINK, NULL, 0, 0, NULL, &s);
	ck_assert_str_eq(s.code, "");
	ck_assert_uint_eq(strlen(s.token), SECRET_TOKEN_LEN);
	ck_assert_int_eq(strncmp(s.link, "https://v.example/v1/link/", 26), 0);
	token_hash_hex(cfg.secret_key, "link", s.token, NULL, want);
	ck_assert_str_eq(s.hash, want);
	ck_assert_str_eq(s.link_hash, "");

	/* both: the code's hash is the verification's, the token's its link_hash */
	secret_new(&cfg, ID, SECRET_CODE_AND_LINK, TOKEN_FORMAT_ALNUM, 8, 0, NULL, &s);
	ck_assert_uint_eq(strlen(s.code), 8);
	ck_assert_uint_eq(strlen(s.token), SECRET_TOKEN_LEN);
	token_code_hash_hex(cfg.secret_key, ID, s.code, want);
	ck_assert_str_eq(s.hash, want);
	token_hash_hex(cfg.secret_key, "link", s.token, NULL, want);
	ck_assert_str_eq(s.link_hash, want);
	secret_wipe(&s);
}
END_TEST

START_TEST(hex_and_custom_codes)
{
	struct config cfg;
	struct secret s;
	char upper[TOKEN_HEX_CODE_LEN + 1], h[TOKEN_HASH_HEX_LEN];

	config_of(&cfg, 0);
	secret_new(&cfg, ID, SECRET_CODE, NULL, 64, 1, NULL, &s);
	ck_assert_uint_eq(strlen(s.code), 64);
	ck_assert_uint_eq(strspn(s.code, "0123456789abcdef"), 64);
	/* typed in either case, a hex code matches: it is hashed upper-cased */
	for (int i = 0; i <= 64; i++)
		upper[i] = (char)(s.code[i] >= 'a' && s.code[i] <= 'f' ? s.code[i] - 32 : s.code[i]);
	token_code_hash_hex(cfg.secret_key, ID, upper, h);
	ck_assert_str_eq(s.hash, h);
	upper[63] = '\0';
	token_code_hash_hex(cfg.secret_key, ID, upper, h);
	ck_assert_str_ne(s.hash, h);

	secret_new(&cfg, ID, SECRET_CODE, TOKEN_FORMAT_NUMERIC, 4, 0, "4711", &s);
	ck_assert_str_eq(s.code, "4711");
	token_code_hash_hex(cfg.secret_key, ID, "4711", h);
	ck_assert_str_eq(s.hash, h);
}
END_TEST

START_TEST(longer_than_any_code_matches_none)
{
	unsigned char key[32] = { 1 };
	char code[80], a[TOKEN_HASH_HEX_LEN], b[TOKEN_HASH_HEX_LEN];

	memset(code, 'A', 70);
	code[70] = '\0';
	token_code_hash_hex(key, ID, code, a);
	code[64] = '\0';
	token_code_hash_hex(key, ID, code, b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(seals_open_to_the_same_secret)
{
	struct config cfg;
	struct secret s, o;
	struct buf sealed;

	config_of(&cfg, 0);
	for (enum secret_kind k = SECRET_CODE; k <= SECRET_CODE_AND_LINK; k++) {
		secret_new(&cfg, ID, k, TOKEN_FORMAT_ALPHA, 6, 0, NULL, &s);
		buf_init(&sealed, 1024);
		ck_assert_int_eq(secret_seal(&cfg, ID, &s, &sealed), 0);
		ck_assert_ptr_null(strstr(sealed.data, s.code[0] ? s.code : s.token));
		ck_assert_int_eq(secret_open(&cfg, ID, k, sealed.data + 2, &o), 0);
		ck_assert_int_eq(memcmp(&s, &o, sizeof s), 0);
		ck_assert(secret_current(&o, s.hash + 2));
		ck_assert(secret_current(&o, s.hash));
		buf_free(&sealed);
	}
	secret_new(&cfg, ID, SECRET_CODE, TOKEN_FORMAT_ALPHA, 6, 0, NULL, &o);
	ck_assert(!secret_current(&o, s.hash + 2));
	ck_assert(!secret_current(&o, "beef"));
}
END_TEST

START_TEST(version_18_seals_and_the_previous_key)
{
	struct config cfg, old;
	struct secret s;
	struct buf sealed;
	char want[TOKEN_HASH_HEX_LEN];

	/* what version 18 sealed: the code, or the token, alone */
	config_of(&old, 0);
	memset(old.secret_key, 9, sizeof old.secret_key);
	buf_init(&sealed, 1024);
	ck_assert_int_eq(token_seal(old.secret_key, "ABCDEF", 6, &sealed), 0);
	config_of(&cfg, 1);
	ck_assert_int_eq(secret_open(&cfg, ID, SECRET_CODE, sealed.data + 2, &s), 0);
	ck_assert_str_eq(s.code, "ABCDEF");
	ck_assert_str_eq(s.token, "");
	/* hashed under the key that sealed it, as the start hashed it */
	token_code_hash_hex(old.secret_key, ID, "ABCDEF", want);
	ck_assert_str_eq(s.hash, want);
	buf_free(&sealed);

	buf_init(&sealed, 1024);
	ck_assert_int_eq(token_seal(cfg.secret_key, "tok-en", 6, &sealed), 0);
	ck_assert_int_eq(secret_open(&cfg, ID, SECRET_LINK, sealed.data + 2, &s), 0);
	ck_assert_str_eq(s.code, "");
	ck_assert_str_eq(s.token, "tok-en");
	ck_assert_str_eq(s.link, "https://v.example/v1/link/tok-en");
	buf_free(&sealed);

	/* another key entirely, or damage: not opened */
	config_of(&cfg, 0);
	memset(cfg.secret_key, 3, sizeof cfg.secret_key);
	buf_init(&sealed, 1024);
	ck_assert_int_eq(token_seal(old.secret_key, "ABCDEF", 6, &sealed), 0);
	ck_assert_int_eq(secret_open(&cfg, ID, SECRET_CODE, sealed.data + 2, &s), -1);
	ck_assert_int_eq(secret_open(&cfg, ID, SECRET_CODE, "00ff", &s), -1);
	buf_free(&sealed);
}
END_TEST

START_TEST(a_mail_points_at_what_it_has)
{
	struct config cfg;
	struct secret s;
	struct mail_verification vm;

	config_of(&cfg, 0);
	secret_new(&cfg, ID, SECRET_CODE_AND_LINK, TOKEN_FORMAT_NUMERIC, 6, 0, NULL, &s);
	secret_mail(&s, &vm);
	ck_assert_str_eq(vm.code, s.code);
	ck_assert_str_eq(vm.link, s.link);
	secret_new(&cfg, ID, SECRET_CODE, TOKEN_FORMAT_NUMERIC, 6, 0, NULL, &s);
	secret_mail(&s, &vm);
	ck_assert_ptr_null(vm.link);
	ck_assert_int_eq(secret_kind_of("CODE_AND_LINK"), SECRET_CODE_AND_LINK);
	ck_assert_int_eq(secret_kind_of("MAGIC_LINK"), SECRET_LINK);
	ck_assert_int_eq(secret_kind_of("OTP"), SECRET_CODE);
}
END_TEST

UNIT_MAIN("secret", each_kind_has_its_parts, hex_and_custom_codes,
	  longer_than_any_code_matches_none, seals_open_to_the_same_secret,
	  version_18_seals_and_the_previous_key, a_mail_points_at_what_it_has)
