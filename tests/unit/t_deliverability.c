/*
 * Unit tests of the typo suggestions (didYouMean) against the shipped list
 * of common mail domains: the slips people make are caught, and no listed
 * domain, nor one far from all of them, is ever "corrected".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "config.h"
#include "deliverability.h"

static char g_path[4096];

static struct config shipped(void)
{
	const char *top = getenv("top_srcdir");
	struct config cfg;

	memset(&cfg, 0, sizeof cfg);
	snprintf(g_path, sizeof g_path, "%s/data/common-domains.txt", top ? top : ".");
	cfg.common_domains_file = g_path;
	return cfg;
}

START_TEST(slips_of_common_domains_are_suggested)
{
	static const struct { const char *typed, *meant; } cases[] = {
		{ "gmial.com", "gmail.com" }, { "gamil.com", "gmail.com" },
		{ "hotmial.com", "hotmail.com" }, { "yaho.com", "yahoo.com" },
		{ "GMIAL.COM", "gmail.com" }, { "gmail.co", "gmail.com" },
		{ "gmail.con", "gmail.com" }, { "gmaill.com", "gmail.com" },
		{ "yahoo.cm", "yahoo.com" }, { "outlok.com", "outlook.com" },
		{ "icloud.co", "icloud.com" }, { "hotmai.fr", "hotmail.fr" },
		{ "wed.de", "web.de" }, { "protonmial.com", "protonmail.com" },
	};
	struct config cfg = shipped();
	char out[DELIVERABILITY_DOMAIN_MAX + 1];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(deliverability_suggest(&cfg, cases[i].typed, out) == 1,
			      "no suggestion for %s", cases[i].typed);
		ck_assert_str_eq(out, cases[i].meant);
	}
}
END_TEST

START_TEST(no_listed_domain_is_ever_corrected)
{
	struct config cfg = shipped();
	char line[256], out[DELIVERABILITY_DOMAIN_MAX + 1];
	FILE *f = fopen(g_path, "r");
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n# ")] = '\0';
		if (line[0] == '\0')
			continue;
		n++;
		ck_assert_msg(deliverability_suggest(&cfg, line, out) == 0,
			      "%s, a listed domain, was corrected to %s", line, out);
	}
	fclose(f);
	ck_assert_int_eq(n, 100);
}
END_TEST

START_TEST(far_or_ambiguous_domains_get_nothing)
{
	static const char *const none[] = { "example.com", "mailproof.test", "university.edu",
					    "gmai.de", "a.b", "", "x",
					    "averyveryveryveryveryveryveryveryveryveryveryveryverylongdomain.com" };
	struct config cfg = shipped();
	char out[DELIVERABILITY_DOMAIN_MAX + 1];

	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(deliverability_suggest(&cfg, none[i], out) == 0,
			      "%s was corrected to %s", none[i], out);
}
END_TEST

UNIT_MAIN("deliverability", slips_of_common_domains_are_suggested,
	  no_listed_domain_is_ever_corrected, far_or_ambiguous_domains_get_nothing)
