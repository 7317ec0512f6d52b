/*
 * Unit tests of the pure parts of verify.c: id shapes, code normalizing,
 * and what the database's rows and words come to.
 */
#include <string.h>

#include "unit.h"
#include "db_verify.h"
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

/* An expired verification is refused as expired, whatever it stores. */
START_TEST(refusals_follow_the_status)
{
	const struct {
		enum verification_status stored, eff;
		enum verify_outcome want;
	} c[] = {
		{ VS_PENDING, VS_EXPIRED, VO_EXPIRED },
		{ VS_VERIFIED, VS_VERIFIED, VO_ALREADY_VERIFIED },
		{ VS_CANCELED, VS_CANCELED, VO_CANCELED },
		{ VS_FAILED, VS_FAILED, VO_FAILED },
		{ VS_PENDING, VS_PENDING, VO_FAILED },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		ck_assert_int_eq(verify_refusal(c[i].stored, c[i].eff), c[i].want);
}
END_TEST

START_TEST(outcome_words_are_known_or_errors)
{
	const struct {
		const char *word;
		enum verify_outcome want;
	} c[] = {
		{ "created", VO_OK }, { "resent", VO_OK }, { "replay", VO_REPLAY },
		{ "idem_conflict", VO_IDEM_CONFLICT }, { "idem_in_progress", VO_IDEM_IN_PROGRESS },
		{ "rate_failed", VO_RATE_FAILED }, { "rate_email", VO_RATE_EMAIL },
		{ "quota", VO_QUOTA }, { "disposable", VO_DISPOSABLE },
		{ "undeliverable", VO_UNDELIVERABLE }, { "not_found", VO_NOT_FOUND },
		{ "refused", VO_ERROR }, { "", VO_ERROR }, { "CREATED", VO_ERROR },
		{ "idem_", VO_ERROR },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		ck_assert_msg(verify_outcome_of(c[i].word) == c[i].want, "word \"%s\"", c[i].word);
}
END_TEST

START_TEST(code_checks_come_to_one_outcome)
{
	struct db_verify_code none = { 0 };
	struct db_verify_code expired = { 1, VS_PENDING, VS_EXPIRED, 0, VS_PENDING, 0, NULL };
	struct db_verify_code right = { 1, VS_PENDING, VS_PENDING, 1, VS_VERIFIED, 3, "{}" };
	struct db_verify_code wrong = { 1, VS_PENDING, VS_PENDING, 1, VS_PENDING, 2, NULL };
	struct db_verify_code last = { 1, VS_PENDING, VS_PENDING, 1, VS_FAILED, 0, NULL };

	ck_assert_int_eq(verify_code_outcome(&none), VO_NOT_FOUND);
	ck_assert_int_eq(verify_code_outcome(&expired), VO_EXPIRED);
	ck_assert_int_eq(verify_code_outcome(&right), VO_OK);
	ck_assert_int_eq(verify_code_outcome(&wrong), VO_INVALID_CODE);
	ck_assert_int_eq(verify_code_outcome(&last), VO_ATTEMPTS_EXHAUSTED);
}
END_TEST

UNIT_MAIN("verify", ids_have_one_shape, codes_lose_spaces_and_hyphens_and_case,
	  refusals_follow_the_status, outcome_words_are_known_or_errors,
	  code_checks_come_to_one_outcome)
