/*
 * Languages: BCP 47 tags as start's "locale" and Accept-Language give
 * them, the chain a tag falls back along, and the CLDR plural category of
 * a whole number.  Which languages mailproof speaks is not known here: it
 * is whatever template_dir has a catalogue for (see catalog.h).
 */
#ifndef MAILPROOF_LOCALE_H
#define MAILPROOF_LOCALE_H

#include <stddef.h>

/* BCP 47 allows 8-character subtags; 35 characters is RFC 5646's advice for a full tag. */
#define LOCALE_TAG_MAX 36
#define LOCALE_CHAIN_MAX 8

/*
 * Checks a language tag (RFC 5646 well-formedness: language, script,
 * region, variants, extensions, private use; no grandfathered tags) and
 * writes it in its conventional case ("pt-BR", "zh-Hant", "sr-Latn-RS").
 * 0, or -1 for a malformed or too long tag.
 */
int locale_canonical(const char *tag, char out[LOCALE_TAG_MAX]);

/*
 * The tags to try for a canonical tag, most specific first: each subtag
 * dropped in turn ("pt-BR" -> "pt-BR", "pt"), with extensions left out
 * and Chinese mapped to its script ("zh", "zh-CN" -> "zh-Hans";
 * "zh-TW", "zh-HK" -> "zh-Hant").  Returns how many (at most max).
 */
size_t locale_chain(const char *tag, char out[][LOCALE_TAG_MAX], size_t max);

/*
 * The languages of an Accept-Language header that are well-formed, by
 * descending q (a q of 0 is left out, "*" too), as canonical tags.
 * Returns how many (at most max).
 */
size_t locale_accept(const char *header, char out[][LOCALE_TAG_MAX], size_t max);

/* The CLDR plural category of whole number n in the language of tag: "one", "few"... */
const char *locale_plural(const char *tag, long n);

#endif
