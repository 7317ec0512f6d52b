/*
 * Unit tests of webhook signing (the Standard Webhooks test vector), the
 * endpoint rules, and the retry back-off of the outbox.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"
#include "buf.h"
#include "config.h"
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

/* A secret sealed at rest opens under its key, or the previous one during a rotation. */
START_TEST(secrets_are_sealed_and_open_across_a_key_rotation)
{
	static const char whsec[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
	struct config a = { 0 }, b = { 0 }, c = { 0 };
	char out[TOKEN_WHSEC_LEN + 1];
	struct buf sealed;

	memset(a.secret_key, 0x11, sizeof a.secret_key);
	memset(b.secret_key, 0x22, sizeof b.secret_key);	/* after a rotation from a */
	memcpy(b.secret_key_previous, a.secret_key, sizeof a.secret_key);
	b.have_secret_key_previous = 1;
	memset(c.secret_key, 0x33, sizeof c.secret_key);	/* a key that never sealed it */
	buf_init(&sealed, 256);
	ck_assert_int_eq(webhook_secret_seal(&a, whsec, &sealed), 0);
	ck_assert_ptr_null(strstr(sealed.data, "MfKQ9r8"));
	ck_assert_int_eq(webhook_secret_open(&a, sealed.data, out), 0);
	ck_assert_str_eq(out, whsec);
	ck_assert_int_eq(webhook_secret_open(&b, sealed.data, out), 1);	/* to seal again */
	ck_assert_str_eq(out, whsec);
	ck_assert_int_eq(webhook_secret_open(&c, sealed.data, out), -1);
	ck_assert_str_eq(out, "");
	/* from before version 11: in clear, to be sealed by migrate */
	ck_assert_int_eq(webhook_secret_open(&c, whsec, out), 1);
	ck_assert_str_eq(out, whsec);
	ck_assert_int_eq(webhook_secret_open(&c, "", out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(webhook_secret_open(&c, "\\xnothex", out), -1);
	ck_assert_int_eq(webhook_secret_open(&c, "garbage", out), -1);
	/* damaged: one hex digit changed */
	sealed.data[10] = sealed.data[10] == '0' ? '1' : '0';
	ck_assert_int_eq(webhook_secret_open(&a, sealed.data, out), -1);
	buf_free(&sealed);
}
END_TEST

/* Each address, as a delivery would meet it after DNS: 1 when it may be reached. */
START_TEST(address_table)
{
	static const struct { const char *addr; int open; } cases[] = {
		{ "93.184.216.34", 1 }, { "8.8.8.8", 1 }, { "100.63.255.255", 1 },
		{ "100.128.0.0", 1 }, { "172.32.0.1", 1 }, { "198.20.0.1", 1 },
		{ "0.1.2.3", 0 }, { "10.1.2.3", 0 }, { "100.64.0.1", 0 }, { "127.0.0.1", 0 },
		{ "169.254.169.254", 0 }, { "172.16.0.1", 0 }, { "172.31.255.255", 0 },
		{ "192.0.0.8", 0 }, { "192.0.2.1", 0 }, { "192.88.99.1", 0 }, { "192.168.1.1", 0 },
		{ "198.18.0.1", 0 }, { "198.19.255.255", 0 }, { "198.51.100.7", 0 },
		{ "203.0.113.9", 0 }, { "224.0.0.1", 0 }, { "239.255.255.250", 0 },
		{ "240.0.0.1", 0 }, { "255.255.255.255", 0 },
		{ "2606:2800:220:1::1", 1 }, { "2a00:1450:4001::200e", 1 }, { "2001:4860::8888", 1 },
		{ "::", 0 }, { "::1", 0 }, { "::10.0.0.1", 0 }, { "::8.8.8.8", 0 },
		{ "::ffff:8.8.8.8", 1 }, { "::ffff:10.0.0.1", 0 }, { "::ffff:127.0.0.1", 0 },
		{ "::ffff:0:192.168.0.1", 0 }, { "::ffff:0:8.8.8.8", 1 },
		{ "64:ff9b::8.8.8.8", 1 }, { "64:ff9b::10.1.1.1", 0 }, { "64:ff9b::169.254.169.254", 0 },
		{ "64:ff9b:1::8.8.8.8", 0 }, { "100::1", 0 },
		{ "2001::1", 0 }, { "2001:0:4136:e378:8000:63bf:3fff:fdd2", 0 },
		{ "2001:2::1", 0 }, { "2001:10::1", 0 }, { "2001:20::1", 0 }, { "2001:db8::1", 0 },
		{ "2002:0808:0808::1", 1 }, { "2002:0a00:0001::1", 0 }, { "2002:7f00:0001::1", 0 },
		{ "2002:c0a8:0101::1", 0 }, { "3fff::1", 0 },
		{ "fc00::1", 0 }, { "fd12:3456::1", 0 }, { "fe80::1", 0 }, { "febf::1", 0 },
		{ "fec0::1", 0 }, { "feff::1", 0 }, { "ff02::1", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof ss);
		if (strchr(cases[i].addr, ':')) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			a->sin6_family = AF_INET6;
			ck_assert_int_eq(inet_pton(AF_INET6, cases[i].addr, &a->sin6_addr), 1);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			a->sin_family = AF_INET;
			ck_assert_int_eq(inet_pton(AF_INET, cases[i].addr, &a->sin_addr), 1);
		}
		ck_assert_msg(webhook_addr_is_public((struct sockaddr *)&ss) == cases[i].open,
			      "%s should be %s", cases[i].addr, cases[i].open ? "open" : "refused");
	}
	{
		/* another family, such as a unix socket, is no address of the Internet */
		struct sockaddr_storage ss = { .ss_family = AF_UNIX };
		ck_assert_int_eq(webhook_addr_is_public((struct sockaddr *)&ss), 0);
	}
}
END_TEST

UNIT_MAIN("webhook", signature_matches_the_standard_vector, malformed_secrets_are_refused,
	  endpoint_rules, body_wraps_the_payload, backoff_doubles_with_jitter_up_to_its_cap,
	  address_table, secrets_are_sealed_and_open_across_a_key_rotation)
