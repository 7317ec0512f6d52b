/*
 * Unit tests of webhook signing (the Standard Webhooks test vector), the
 * endpoint rules, and the retry back-off of the outbox.
 */
#include <string.h>

#include "unit.h"
#include "buf.h"
#include "outbox.h"
#include "webhook.h"

START_TEST(signature_matches_the_standard_vector)
{
	char sig[128];

	ck_assert_int_eq(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
					   "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
					   "{\"test\": 2432232314}", sig, sizeof sig), 0);
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* one byte of the body changed: another signature */
	ck_assert_int_eq(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
					   "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
					   "{\"test\": 2432232315}", sig, sizeof sig), 0);
	ck_assert_str_ne(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
END_TEST

START_TEST(malformed_secrets_are_refused)
{
	const char *bad[] = { "", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!!",
			      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS" };
	char sig[128], tiny[8];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(webhook_signature(bad[i], "msg_1", 1, "{}", sig, sizeof sig) < 0,
			      "accepted \"%s\"", bad[i]);
	ck_assert_int_lt(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", 1, "{}",
					   tiny, sizeof tiny), 0);
}
END_TEST

START_TEST(endpoint_rules)
{
	const char *good[] = { "https://hooks.example.com/mailproof", "http://example.com:8080/h",
			       "https://example.com:443/" };
	const char *bad[] = { "", "ftp://example.com/", "https://", "https://user@example.com/",
			      "https://example.com:22/", "https://example.com:0/",
			      "https://example.com:70000/", "example.com/hooks", "javascript:alert(1)" };
	const char *why;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(webhook_url_ok(good[i], &why), "refused %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		ck_assert_msg(!webhook_url_ok(bad[i], &why), "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(body_wraps_the_payload)
{
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(webhook_body("email.verified", "2026-11-30T00:00:00Z", "{\"id\":\"ev_1\"}",
				      &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"type\":\"email.verified\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\"timestamp\":\"2026-11-30T00:00:00Z\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\"data\":{\"id\":\"ev_1\"}"));
	buf_free(&b);
}
END_TEST

START_TEST(backoff_doubles_with_jitter_up_to_its_cap)
{
	for (int attempt = 1; attempt <= 5; attempt++) {
		long long full = 1000LL << (attempt - 1);

		for (int i = 0; i < 200; i++) {
			long long d = outbox_backoff_ms(1000, attempt);

			ck_assert_int_ge(d, full / 2);
			ck_assert_int_le(d, full);
		}
	}
	for (int i = 0; i < 200; i++) {
		long long hi = outbox_backoff_ms(1000, 60), lo = outbox_backoff_ms(1000, 1000);

		ck_assert_int_le(hi, OUTBOX_BACKOFF_CAP_MS);
		ck_assert_int_ge(hi, OUTBOX_BACKOFF_CAP_MS / 2);
		ck_assert_int_le(lo, OUTBOX_BACKOFF_CAP_MS);
	}
}
END_TEST

UNIT_MAIN("webhook", signature_matches_the_standard_vector, malformed_secrets_are_refused,
	  endpoint_rules, body_wraps_the_payload, backoff_doubles_with_jitter_up_to_its_cap)
