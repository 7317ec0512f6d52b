/* See locale.h. */
#include "locale.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int all(const char *s, size_t n, int (*is)(int))
{
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * The state of the subtag parse: what may come next.  A tag is
 * language [-script] [-region] *(-variant) *(-singleton 1*(-ext))
 * [-x 1*(-private)], or x-private alone.
 */
enum part { P_LANG, P_SCRIPT, P_REGION, P_VARIANT, P_EXT_START, P_EXT, P_PRIVATE };

int locale_canonical(const char *tag, char out[LOCALE_TAG_MAX])
{
	enum part at = P_LANG;
	size_t len = strlen(tag), o = 0, extlangs = 0;
	int need_more = 0;	/* a singleton was the last subtag */
	const char *p = tag;

	if (len == 0 || len >= LOCALE_TAG_MAX)
		return -1;
	while (*p) {
		size_t n = strcspn(p, "-");
		int upper = 0, title = 0;

		if (n == 0 || n > 8 || !all(p, n, isalnum))
			return -1;
		need_more = 0;
		if (at == P_LANG) {
			if (n == 1 && (*p == 'x' || *p == 'X'))
				at = P_PRIVATE, need_more = 1;
			else if (n < 2 || n == 4 || !all(p, n, isalpha))
				return -1;
			else
				at = P_SCRIPT;
		} else if (at == P_PRIVATE) {
			;
		} else if (n == 1) {
			if (at == P_EXT_START)
				return -1;
			at = (*p == 'x' || *p == 'X') ? P_PRIVATE : P_EXT_START;
			need_more = 1;
		} else if (at == P_EXT_START || at == P_EXT) {
			at = P_EXT;
		} else if (at == P_SCRIPT && n == 3 && all(p, n, isalpha) && extlangs < 3) {
			extlangs++;	/* an extended language subtag, as in zh-yue */
		} else if (at == P_SCRIPT && n == 4 && all(p, n, isalpha)) {
			title = 1;
			at = P_REGION;
		} else if (at <= P_REGION && ((n == 2 && all(p, n, isalpha)) ||
					      (n == 3 && all(p, n, isdigit)))) {
			upper = 1;
			at = P_VARIANT;
		} else if (n >= 5 || (n == 4 && isdigit((unsigned char)*p))) {
			at = P_VARIANT;
		} else {
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			int c = (unsigned char)p[i];
			out[o++] = (char)(upper || (title && i == 0) ? toupper(c) : tolower(c));
		}
		p += n;
		if (*p == '-') {
			if (p[1] == '\0')
				return -1;
			out[o++] = '-';
			p++;
		}
	}
	out[o] = '\0';
	return need_more ? -1 : 0;
}

/* Chinese without a script: the script its region writes. */
static const char *zh_script(const char *region)
{
	if (strcmp(region, "CN") == 0 || strcmp(region, "SG") == 0 ||
	    strcmp(region, "MY") == 0)
		return "Hans";
	if (strcmp(region, "TW") == 0 || strcmp(region, "HK") == 0 || strcmp(region, "MO") == 0)
		return "Hant";
	return NULL;
}

static void add(char out[][LOCALE_TAG_MAX], size_t max, size_t *n, const char *tag)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(out[i], tag) == 0)
			return;
	if (*n < max)
		snprintf(out[(*n)++], LOCALE_TAG_MAX, "%s", tag);
}

size_t locale_chain(const char *tag, char out[][LOCALE_TAG_MAX], size_t max)
{
	char t[LOCALE_TAG_MAX], *sub[8];
	const char *zh = NULL;	/* the script of a Chinese tag */
	size_t nsub = 0, n = 0;

	snprintf(t, sizeof t, "%s", tag);
	for (char *s = strtok(t, "-"); s && nsub < 8; s = strtok(NULL, "-")) {
		if (strlen(s) == 1)
			break;	/* extensions and private use do not choose a language */
		sub[nsub++] = s;
	}
	if (nsub > 0 && strcmp(sub[0], "zh") == 0)
		zh = nsub == 1 ? "Hans" : strlen(sub[1]) == 4 ? sub[1] : zh_script(sub[1]);
	for (size_t k = nsub; k > 0; k--) {
		char c[LOCALE_TAG_MAX];
		size_t o = 0;

		for (size_t i = 0; i < k; i++)
			o += (size_t)snprintf(c + o, sizeof c - o, "%s%s", i ? "-" : "", sub[i]);
		add(out, max, &n, c);
		if (k <= 2 && zh) {
			snprintf(c, sizeof c, "zh-%s", zh);
			add(out, max, &n, c);
		}
	}
	return n;
}

size_t locale_accept(const char *header, char out[][LOCALE_TAG_MAX], size_t max)
{
	struct { char tag[LOCALE_TAG_MAX]; int q; } seen[16];
	size_t nseen = 0, n = 0;
	const char *p = header;

	while (p && *p && nseen < 16) {
		size_t len = strcspn(p, ",");
		char item[128], *semi, *s, *e;
		int q = 1000;

		snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
		p += len + (p[len] == ',');
		if ((semi = strchr(item, ';')) != NULL) {
			char *qs = strstr(semi, "q=");
			*semi = '\0';
			/* a weight is 0 to 1; anything else (1e300, nan) must not reach the int */
			if (qs) {
				double w = strtod(qs + 2, NULL);
				q = !(w > 0) ? 0 : w >= 1 ? 1000 : (int)(w * 1000);
			}
		}
		for (s = item; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (q <= 0 || strcmp(s, "*") == 0 || locale_canonical(s, seen[nseen].tag) < 0)
			continue;
		seen[nseen++].q = q;
	}
	/* a stable selection by q: equal weights keep the client's order */
	for (int q = 1000; q > 0 && n < max; q--)
		for (size_t i = 0; i < nseen && n < max; i++)
			if (seen[i].q == q || (q == 1000 && seen[i].q > 1000))
				memcpy(out[n++], seen[i].tag, LOCALE_TAG_MAX);
	return n;
}

const char *locale_plural(const char *tag, long n)
{
	char lang[9];
	long m10 = n % 10, m100 = n % 100;
	size_t len = strcspn(tag, "-");

	snprintf(lang, sizeof lang, "%.*s", (int)(len < sizeof lang ? len : sizeof lang - 1), tag);
	if (strcmp(lang, "ja") == 0 || strcmp(lang, "zh") == 0 || strcmp(lang, "ko") == 0 ||
	    strcmp(lang, "th") == 0 || strcmp(lang, "vi") == 0 || strcmp(lang, "id") == 0)
		return "other";
	if (strcmp(lang, "ru") == 0 || strcmp(lang, "uk") == 0 || strcmp(lang, "be") == 0)
		return m10 == 1 && m100 != 11 ? "one" :
		       m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? "few" : "many";
	if (strcmp(lang, "pl") == 0)
		return n == 1 ? "one" : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? "few" :
		       "many";
	if (strcmp(lang, "ar") == 0)
		return n == 0 ? "zero" : n == 1 ? "one" : n == 2 ? "two" :
		       m100 >= 3 && m100 <= 10 ? "few" : m100 >= 11 ? "many" : "other";
	if (strcmp(lang, "he") == 0)
		return n == 1 ? "one" : n == 2 ? "two" : "other";
	/* CLDR's "pt" is Brazil's: 0 and 1 are singular there, and in French */
	if (strcmp(lang, "fr") == 0 || strcmp(tag, "pt-BR") == 0)
		return n == 0 || n == 1 ? "one" : n != 0 && n % 1000000 == 0 ? "many" : "other";
	if (strcmp(lang, "es") == 0 || strcmp(lang, "it") == 0 || strcmp(lang, "pt") == 0)
		return n == 1 ? "one" : n != 0 && n % 1000000 == 0 ? "many" : "other";
	return n == 1 ? "one" : "other";
}
