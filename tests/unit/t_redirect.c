/* Unit tests of redirect URL matching (open-redirect tricks). */
#include <string.h>

#include "unit.h"
#include "redirect.h"

static const char *const allow[] = { "https://shop.example.com/done", "http://localhost:3000/" };

START_TEST(allowed_prefixes)
{
	const char *good[] = { "https://shop.example.com/done", "https://shop.example.com/done?x=1",
			       "https://shop.example.com/done/step2", "https://SHOP.example.com/done",
			       "https://shop.example.com:443/done#top", "http://localhost:3000/anything",
			       "http://localhost:3000/" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(redirect_allowed(good[i], allow, 2), "refused %s", good[i]);
}
END_TEST

START_TEST(tricks_are_refused)
{
	const char *bad[] = {
		"https://shop.example.com/doneevil", "https://shop.example.com/",
		"https://shop.example.com.evil.com/done", "https://evil.com/done",
		"https://shop.example.com@evil.com/done", "https://user:pw@shop.example.com/done",
		"//evil.com/done", "/done", "shop.example.com/done", "javascript:alert(1)",
		"https:\\\\evil.com/done", "https://shop.example.com\\@evil.com/done",
		"https://shop.example.com/done\r\nSet-Cookie: x", "https://shop.example.com/do ne",
		"ftp://shop.example.com/done", "http://shop.example.com/done",
		"https://shop.example.com:8443/done", "http://localhost:3001/",
		"data:text/html,hi", "https:/shop.example.com/done", ""
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!redirect_allowed(bad[i], allow, 2), "accepted %s", bad[i]);
	ck_assert(!redirect_allowed("https://shop.example.com/done", allow, 0));
}
END_TEST

START_TEST(params_keep_the_query_and_fragment)
{
	struct buf b;

	buf_init(&b, 4096);
	redirect_with_params("https://a.example/done", "verified=true", &b);
	ck_assert_str_eq(b.data, "https://a.example/done?verified=true");
	buf_reset(&b);
	redirect_with_params("https://a.example/done?lang=de#x", "verified=true&verificationId=ev_1", &b);
	ck_assert_str_eq(b.data, "https://a.example/done?lang=de&verified=true&verificationId=ev_1#x");
	buf_reset(&b);
	redirect_with_params("https://a.example/done?", "verified=false", &b);
	ck_assert_str_eq(b.data, "https://a.example/done?verified=false");
	buf_free(&b);
}
END_TEST

START_TEST(origins)
{
	char o[300];

	ck_assert_int_eq(redirect_origin("https://Shop.example.com/done?x", o, sizeof o), 0);
	ck_assert_str_eq(o, "https://shop.example.com:443");
	ck_assert_int_eq(redirect_origin("//evil.com/", o, sizeof o), -1);
}
END_TEST

UNIT_MAIN("redirect",
	  allowed_prefixes,
	  tricks_are_refused,
	  params_keep_the_query_and_fragment,
	  origins)
