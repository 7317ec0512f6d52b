/*
 * Fuzz target: language tags, as the start body's "locale" and the
 * Accept-Language header bring them.  The input is a tag or header, a NUL,
 * and a number for the plural rules.  A canonical tag must be a fixed
 * point (canonical again is itself), every tag of its fallback chain and
 * of an Accept-Language list must be canonical, and a plural category must
 * be one of CLDR's six.
 */
#include "fuzz.h"

#include "locale.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	return 0;
}

static void assert_canonical(const char *tag)
{
	char again[LOCALE_TAG_MAX];

	FUZZ_ASSERT(locale_canonical(tag, again) == 0 && strcmp(again, tag) == 0, tag, strlen(tag));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const categories[] = { "zero", "one", "two", "few", "many", "other" };
	struct fuzz_fields ff;
	char canon[LOCALE_TAG_MAX], tags[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
	long n = 0;
	size_t k;

	fuzz_split(&ff, data, size, '\0', 2);
	for (const char *p = ff.f[1]; *p && p < ff.f[1] + sizeof n; p++)
		n = (long)((unsigned long)n << 8 | (unsigned char)*p);
	if (locale_canonical(ff.f[0], canon) == 0) {
		const char *cat = locale_plural(canon, n);
		int known = 0;

		assert_canonical(canon);
		k = locale_chain(canon, tags, LOCALE_CHAIN_MAX);
		FUZZ_ASSERT(k <= LOCALE_CHAIN_MAX, NULL, 0);
		for (size_t i = 0; i < k; i++)
			assert_canonical(tags[i]);
		for (size_t i = 0; i < 6 && cat; i++)
			known |= strcmp(cat, categories[i]) == 0;
		FUZZ_ASSERT(known, canon, strlen(canon));
	}
	k = locale_accept(ff.f[0], tags, LOCALE_CHAIN_MAX);
	FUZZ_ASSERT(k <= LOCALE_CHAIN_MAX, NULL, 0);
	for (size_t i = 0; i < k; i++)
		assert_canonical(tags[i]);
	fuzz_fields_free(&ff);
	return 0;
}
