/* Unit tests of API key scopes: the names mailproofctl accepts and prints. */
#include "unit.h"
#include "scope.h"

START_TEST(names_parse_to_bits)
{
	unsigned bits;

	ck_assert_int_eq(scope_parse("verifications:read", &bits), 0);
	ck_assert_uint_eq(bits, SCOPE_READ);
	ck_assert_int_eq(scope_parse("verifications:check,verifications:write", &bits), 0);
	ck_assert_uint_eq(bits, SCOPE_CHECK | SCOPE_WRITE);
	ck_assert_int_eq(scope_parse("verifications:write,verifications:check,verifications:read",
				     &bits), 0);
	ck_assert_uint_eq(bits, SCOPE_WRITE | SCOPE_CHECK | SCOPE_READ);
	ck_assert_int_eq(scope_parse("verifications:deliver,verifications:write", &bits), 0);
	ck_assert_uint_eq(bits, SCOPE_WRITE | SCOPE_DELIVER);
}
END_TEST

START_TEST(bad_lists_are_refused)
{
	const char *bad[] = { "", ",", "verifications:reads", "verifications:rea",
			      "verifications:read,admin", "VERIFICATIONS:READ", "read",
			      "verifications:delivery" };
	unsigned bits;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(scope_parse(bad[i], &bits) < 0, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(bits_format_in_order_and_name_one)
{
	char out[96], tiny[8];

	ck_assert_int_eq(scope_format(SCOPE_READ | SCOPE_WRITE, out, sizeof out), 0);
	ck_assert_str_eq(out, "verifications:write,verifications:read");
	ck_assert_int_eq(scope_format(SCOPE_WRITE | SCOPE_CHECK | SCOPE_READ | SCOPE_DELIVER, out,
				      sizeof out), 0);
	ck_assert_str_eq(out, "verifications:write,verifications:check,verifications:read,"
			 "verifications:deliver");
	ck_assert_int_eq(scope_format(SCOPE_CHECK, tiny, sizeof tiny), -1);
	ck_assert_str_eq(scope_name(SCOPE_CHECK), "verifications:check");
	ck_assert_str_eq(scope_name(SCOPE_WRITE), "verifications:write");
	ck_assert_str_eq(scope_name(SCOPE_DELIVER), "verifications:deliver");
}
END_TEST

UNIT_MAIN("scope", names_parse_to_bits, bad_lists_are_refused, bits_format_in_order_and_name_one)
