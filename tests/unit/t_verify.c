/* Unit tests of the pure parts of verify.c: id shapes and code normalizing. */
#include <string.h>

#include "unit.h"
#include "token.h"
#include "verify.h"

START_TEST(ids_have_one_shape)
{
	char id[64];
	const char *bad[] = { "", "ev_", "ev_01J0000000000000000000000", "ev_01J00000000000000000000000X",
			      "EV_01J00000000000000000000000", "xx_01J00000000000000000000000",
			      "ev_01J0000000000000000000000I", "ev_01J0000000000000000000000u",
			      "ev_01J000000000000000000000 0", "ev_../../etc/passwd0000000000" };

	ck_assert_int_eq(token_random_id("ev_", id, sizeof id), 0);
	ck_assert_msg(verify_id_valid(id), "refused its own id %s", id);
	ck_assert(verify_id_valid("ev_01J00000000000000000000000"));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!verify_id_valid(bad[i]), "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(codes_lose_spaces_and_hyphens_and_case)
{
	const char *in[] = { "123 456", "123-456", " 12-3 45 6 ", "ab-cd", "aBc", "", " - " };
	const char *out[] = { "123456", "123456", "123456", "ABCD", "ABC", "", "" };

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		char code[32];

		memcpy(code, in[i], strlen(in[i]) + 1);
		verify_normalize_code(code);
		ck_assert_str_eq(code, out[i]);
	}
}
END_TEST

UNIT_MAIN("verify", ids_have_one_shape, codes_lose_spaces_and_hyphens_and_case)
