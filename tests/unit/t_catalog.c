/*
 * Unit tests of the message catalogues: the loader, and every shipped
 * translation against English (the same keys, the same placeholders, the
 * plural forms its language needs, its direction).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "catalog.h"
#include "mail_verification.h"
#include "template.h"

static char dir[4096];

static void set_dir(void)
{
	const char *top = getenv("top_srcdir");

	snprintf(dir, sizeof dir, "%s/templates", top ? top : ".");
}

static void load(struct catalog *c, const char *locale)
{
	char chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX], err[512];
	size_t n = locale_chain(locale, chain, LOCALE_CHAIN_MAX);

	set_dir();
	ck_assert_msg(catalog_load(c, dir, chain, n, err, sizeof err) == 0, "%s", err);
}

/* The {{...}} of s, sorted and joined, to compare two messages' sets. */
static void placeholders(const char *s, char *out, size_t len)
{
	char names[16][32];
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = s; (p = strstr(p, "{{")) != NULL && n < 16; p += 2) {
		const char *e = strstr(p, "}}");
		if (e == NULL)
			break;
		snprintf(names[n++], 32, "%.*s", (int)(e - p - 2), p + 2);
	}
	qsort(names, n, 32, (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0) {
			strncat(out, names[i], len - strlen(out) - 1);
			strncat(out, " ", len - strlen(out) - 1);
		}
}

/* Whether key is a form of a plural message (ends in a CLDR category). */
static const char *plural_stem(const char *key, char *stem, size_t len)
{
	static const char *const cats[] = { ".zero", ".one", ".two", ".few", ".many", ".other" };

	for (size_t i = 0; i < 6; i++) {
		size_t kl = strlen(key), cl = strlen(cats[i]);
		if (kl > cl && strcmp(key + kl - cl, cats[i]) == 0) {
			snprintf(stem, len, "%.*s", (int)(kl - cl), key);
			return cats[i] + 1;
		}
	}
	return NULL;
}

static void check_locale(const char *locale, const struct catalog *en)
{
	struct catalog c;

	load(&c, locale);
	ck_assert_str_eq(c.locale, locale);
	for (size_t i = 0; i < en->n; i++) {
		const char *key = en->entries[i].key, *cat;
		char stem[96], a[256], b[256];

		if ((cat = plural_stem(key, stem, sizeof stem)) != NULL) {
			/* every category the language uses for 0..1000 has its form */
			for (long n = 0; n <= 1000; n++) {
				char form[128];
				const char *want = locale_plural(locale, n);
				snprintf(form, sizeof form, "%s.%s", stem, want);
				int found = 0;
				for (size_t j = 0; j < c.n; j++)
					if (c.entries[j].file == 0 && strcmp(c.entries[j].key, form) == 0)
						found = 1;
				ck_assert_msg(found, "%s: no %s for n = %ld", locale, form, n);
			}
			continue;
		}
		const char *t = NULL;
		for (size_t j = 0; j < c.n; j++)
			if (c.entries[j].file == 0 && strcmp(c.entries[j].key, key) == 0)
				t = c.entries[j].text;
		ck_assert_msg(t != NULL, "%s: %s is not translated", locale, key);
		placeholders(en->entries[i].text, a, sizeof a);
		placeholders(t, b, sizeof b);
		ck_assert_msg(strcmp(a, b) == 0, "%s: %s has {{%s}}, English {{%s}}", locale, key, b,
			      a);
	}
	ck_assert_str_eq(catalog_get(&c, "language.dir"),
			 strcmp(locale, "ar") == 0 || strcmp(locale, "he") == 0 ? "rtl" : "ltr");
	catalog_free(&c);
}

START_TEST(every_shipped_language_has_every_message)
{
	struct catalog en;
	struct dirent *d;
	DIR *dp;
	int seen = 0;

	load(&en, "en");
	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		char path[8192];
		snprintf(path, sizeof path, "%s/%s/messages.txt", dir, d->d_name);
		if (d->d_name[0] == '.' || strcmp(d->d_name, "en") == 0 || !catalog_exists(dir, d->d_name))
			continue;
		check_locale(d->d_name, &en);
		seen++;
	}
	closedir(dp);
	ck_assert_int_ge(seen, 16);
	catalog_free(&en);
}
END_TEST

START_TEST(a_missing_message_falls_back_to_english)
{
	struct catalog c;

	load(&c, "pt-BR");
	ck_assert_str_eq(c.locale, "pt-BR");
	ck_assert_str_eq(catalog_get(&c, "language.name"), "Português (Brasil)");
	catalog_free(&c);
	load(&c, "ca");
	ck_assert_str_eq(c.locale, "en");
	ck_assert_str_eq(catalog_get(&c, "language.name"), "English");
	ck_assert_ptr_null(catalog_get(&c, "no.such.key"));
	catalog_free(&c);
}
END_TEST

static const char *duration(const char *locale, int seconds)
{
	static char out[128];
	struct catalog c;
	struct buf b;

	load(&c, locale);
	buf_init(&b, 128);
	ck_assert_int_eq(mail_duration(&c, seconds, &b), 0);
	snprintf(out, sizeof out, "%s", b.data);
	buf_free(&b);
	catalog_free(&c);
	return out;
}

START_TEST(durations_are_words_with_plurals)
{
	ck_assert_str_eq(duration("en", 900), "15 minutes");
	ck_assert_str_eq(duration("en", 60), "1 minute");
	ck_assert_str_eq(duration("en", 3600), "1 hour");
	ck_assert_str_eq(duration("en", 2592000), "30 days");
	ck_assert_str_eq(duration("en", 90), "2 minutes");
	ck_assert_str_eq(duration("de", 7200), "2 Stunden");
	ck_assert_str_eq(duration("ru", 300), "5 минут");
	ck_assert_str_eq(duration("ru", 1260), "21 минуту");
	ck_assert_str_eq(duration("pl", 120), "2 minuty");
	ck_assert_str_eq(duration("ar", 120), "دقيقتين");
	ck_assert_str_eq(duration("ja", 900), "15分");
}
END_TEST

START_TEST(a_catalogue_that_is_not_utf8_is_refused)
{
	ck_assert(catalog_utf8_valid("caf\xc3\xa9", 5));
	ck_assert(!catalog_utf8_valid("caf\xe9", 4));
	ck_assert(!catalog_utf8_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!catalog_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!catalog_utf8_valid("\xe2\x82", 2));		/* cut short */
}
END_TEST

UNIT_MAIN("catalog",
	  every_shipped_language_has_every_message,
	  a_missing_message_falls_back_to_english,
	  durations_are_words_with_plurals,
	  a_catalogue_that_is_not_utf8_is_refused)
