/* Unit tests of the verification status names. */
#include "unit.h"
#include "vstatus.h"

START_TEST(every_name_round_trips)
{
	const enum verification_status all[] = { VS_PENDING, VS_VERIFIED, VS_FAILED, VS_EXPIRED,
						 VS_CANCELED };

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		enum verification_status s = VS_PENDING;

		ck_assert_int_eq(vstatus_parse(vstatus_name(all[i]), &s), 0);
		ck_assert_int_eq(s, all[i]);
	}
	ck_assert_str_eq(vstatus_name(VS_CANCELED), "CANCELED");
	ck_assert_str_eq(vstatus_name(VS_PENDING), "PENDING");
}
END_TEST

START_TEST(other_text_is_no_status)
{
	const char *bad[] = { "", "pending", "CANCELLED", "VERIFIED ", "SUPERSEDED", "PEND" };
	enum verification_status s = VS_VERIFIED;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(vstatus_parse(bad[i], &s) < 0, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(s, VS_VERIFIED);
		ck_assert_int_eq(vstatus_of(bad[i]), VS_FAILED);
	}
	ck_assert_int_eq(vstatus_of("EXPIRED"), VS_EXPIRED);
}
END_TEST

UNIT_MAIN("vstatus", every_name_round_trips, other_text_is_no_status)
