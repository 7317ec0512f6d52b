/* Unit tests of language tags, fallback chains, Accept-Language and plurals. */
#include <string.h>

#include "unit.h"
#include "locale.h"

static const char *canon(const char *tag)
{
	static char out[LOCALE_TAG_MAX];

	return locale_canonical(tag, out) == 0 ? out : NULL;
}

START_TEST(well_formed_tags_are_written_in_their_case)
{
	ck_assert_str_eq(canon("de"), "de");
	ck_assert_str_eq(canon("PT-br"), "pt-BR");
	ck_assert_str_eq(canon("zh-hant"), "zh-Hant");
	ck_assert_str_eq(canon("sr-latn-rs"), "sr-Latn-RS");
	ck_assert_str_eq(canon("es-419"), "es-419");
	ck_assert_str_eq(canon("de-CH-1996"), "de-CH-1996");
	ck_assert_str_eq(canon("en-US-u-ca-gregory"), "en-US-u-ca-gregory");
	ck_assert_str_eq(canon("zh-yue-HK"), "zh-yue-HK");
	ck_assert_str_eq(canon("x-whatever"), "x-whatever");
}
END_TEST

START_TEST(malformed_tags_are_refused)
{
	const char *bad[] = { "", "d", "deutsch-", "-de", "de--CH", "de_DE", "de CH", "1de",
			      "de-CH-x", "en-u", "en-a-b", "toolonglanguage", "de-ÄT", "abcd",
			      "en-US-u-ca-gregory-1234567890123456", "<script>", "de-123456789" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(canon(bad[i]) == NULL, "%s accepted", bad[i]);
}
END_TEST

/* Checks that the n tags of c, joined by spaces, are want. */
static void tags_are(char c[][LOCALE_TAG_MAX], size_t n, const char *want)
{
	char got[256] = "";

	for (size_t i = 0; i < n; i++) {
		strncat(got, i ? " " : "", sizeof got - strlen(got) - 1);
		strncat(got, c[i], sizeof got - strlen(got) - 1);
	}
	ck_assert_str_eq(got, want);
}

static void chain_is(const char *tag, const char *want)
{
	char c[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];

	tags_are(c, locale_chain(tag, c, LOCALE_CHAIN_MAX), want);
}

START_TEST(a_tag_falls_back_one_subtag_at_a_time)
{
	chain_is("pt-BR", "pt-BR pt");
	chain_is("de", "de");
	chain_is("ca-ES-valencia", "ca-ES-valencia ca-ES ca");
	chain_is("en-US-u-ca-gregory", "en-US en");
	chain_is("zh", "zh zh-Hans");
	chain_is("zh-CN", "zh-CN zh-Hans zh");
	chain_is("zh-TW", "zh-TW zh-Hant zh");
	chain_is("zh-Hant-HK", "zh-Hant-HK zh-Hant zh");
}
END_TEST

static void accept_is(const char *header, const char *want)
{
	char c[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];

	tags_are(c, locale_accept(header, c, LOCALE_CHAIN_MAX), want);
}

START_TEST(accept_language_is_ordered_by_weight)
{
	accept_is("de-DE,de;q=0.9,en;q=0.8", "de-DE de en");
	accept_is("en;q=0.5, fr , ja;q=0.7", "fr ja en");
	accept_is("*, he;q=0, ar", "ar");
	accept_is("", "");
	accept_is("bad tag, ;;;, q=1, es", "es");
}
END_TEST

/* Found by tests/fuzz/fuzz_locale.c: q=nan and q=1e300 were converted to int unchecked. */
START_TEST(accept_language_weights_out_of_range)
{
	accept_is("fr;q=nan, de;q=1e300, en;q=-1, ja;q=0.5, sv;q=inf", "de sv ja");
}
END_TEST

START_TEST(plural_categories_follow_cldr)
{
	ck_assert_str_eq(locale_plural("en", 1), "one");
	ck_assert_str_eq(locale_plural("en", 0), "other");
	ck_assert_str_eq(locale_plural("fr", 0), "one");
	ck_assert_str_eq(locale_plural("pt-BR", 0), "one");
	ck_assert_str_eq(locale_plural("pt", 0), "other");
	ck_assert_str_eq(locale_plural("ru", 1), "one");
	ck_assert_str_eq(locale_plural("ru", 21), "one");
	ck_assert_str_eq(locale_plural("ru", 11), "many");
	ck_assert_str_eq(locale_plural("uk", 3), "few");
	ck_assert_str_eq(locale_plural("uk", 13), "many");
	ck_assert_str_eq(locale_plural("pl", 22), "few");
	ck_assert_str_eq(locale_plural("pl", 21), "many");
	ck_assert_str_eq(locale_plural("ar", 0), "zero");
	ck_assert_str_eq(locale_plural("ar", 2), "two");
	ck_assert_str_eq(locale_plural("ar", 103), "few");
	ck_assert_str_eq(locale_plural("ar", 15), "many");
	ck_assert_str_eq(locale_plural("ar", 100), "other");
	ck_assert_str_eq(locale_plural("he", 2), "two");
	ck_assert_str_eq(locale_plural("he", 20), "other");
	ck_assert_str_eq(locale_plural("ja", 1), "other");
	ck_assert_str_eq(locale_plural("zh-Hans", 1), "other");
	ck_assert_str_eq(locale_plural("es", 1000000), "many");
}
END_TEST

UNIT_MAIN("locale",
	  well_formed_tags_are_written_in_their_case,
	  malformed_tags_are_refused,
	  a_tag_falls_back_one_subtag_at_a_time,
	  accept_language_is_ordered_by_weight,
	  accept_language_weights_out_of_range,
	  plural_categories_follow_cldr)
