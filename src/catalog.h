/*
 * The words of mail and pages: one message catalogue per language,
 * template_dir/LOCALE/messages.txt, lines of "key = text" that a
 * translator edits without a compiler (see templates/en/messages.txt).  A
 * catalogue loaded for a chain of languages answers each key from the
 * first of them that has it, and English, which has every key, comes last.
 */
#ifndef MAILPROOF_CATALOG_H
#define MAILPROOF_CATALOG_H

#include <stddef.h>

#include "buf.h"
#include "locale.h"

#define CATALOG_FILES 4
#define CATALOG_MAX_BYTES (64 * 1024)

struct catalog_entry {
	const char *key;
	const char *text;
	int file;	/* which of the chain's files */
};

struct catalog {
	char locale[LOCALE_TAG_MAX];	/* the first of the chain, whose plural rules apply */
	struct buf files[CATALOG_FILES];
	struct catalog_entry *entries;
	size_t n, cap;
};

/* Whether template_dir has a catalogue for locale (a canonical tag). */
int catalog_exists(const char *template_dir, const char *locale);

/*
 * Loads the catalogues of locales[0..n) that exist, then English's.  0, or
 * -1 with a reason in err (a file that cannot be read, a line without
 * "=", text that is not UTF-8).  Free it with catalog_free() either way.
 */
int catalog_load(struct catalog *c, const char *template_dir, const char locales[][LOCALE_TAG_MAX],
		 size_t n, char *err, size_t errlen);

/* The text of key, or NULL. */
const char *catalog_get(const struct catalog *c, const char *key);

/*
 * The form of plural message key for whole number n: key.CATEGORY of the
 * catalogue's language, else key.other, from the first file that has
 * either.  NULL when none has.
 */
const char *catalog_plural(const struct catalog *c, const char *key, long n);

void catalog_free(struct catalog *c);

/* Whether s is valid UTF-8 (no overlongs, no surrogates). */
int catalog_utf8_valid(const char *s, size_t len);

#endif
