/* See verp.h. */
#include "verp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config.h"
#include "token.h"

static void tag(const unsigned char key[32], const char *id, char out[VERP_TAG_LEN + 1])
{
	unsigned char h[TOKEN_HASH_BYTES];

	token_hash(key, "bounce-tag", id, NULL, h);
	sodium_bin2hex(out, VERP_TAG_LEN + 1, h, VERP_TAG_LEN / 2);
	sodium_memzero(h, sizeof h);
}

int verp_address_valid(const char *a)
{
	const char *at = strrchr(a, '@');

	if (at == NULL || at == a || at[1] == '\0' || strlen(a) > 200)
		return 0;
	for (const char *p = a; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("+<>()[]\\,;:\"", *p))
			return 0;
	return strchr(a, '@') == at;
}

int verp_address(const struct config *cfg, const char *id, char *out, size_t outlen)
{
	const char *a = cfg->bounce_address, *at;
	char t[VERP_TAG_LEN + 1];
	int n;

	if (a == NULL || a[0] == '\0' || (at = strrchr(a, '@')) == NULL)
		return -1;
	tag(cfg->secret_key, id, t);
	n = snprintf(out, outlen, "%.*s+%s.%s%s", (int)(at - a), a, id, t, at);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *verp_sender(const struct config *cfg, const char *id, const char *fallback,
			char *buf, size_t len)
{
	return verp_address(cfg, id, buf, len) == 0 ? buf : fallback;
}

int verp_parse(const struct config *cfg, const char *addr, char id[VERP_ID_MAX])
{
	const char *a = cfg->bounce_address, *at, *bat, *plus, *dot;
	const unsigned char *prev = CONFIG_PREVIOUS_KEY(cfg);
	char given[VERP_TAG_LEN + 1], t[VERP_TAG_LEN + 1];
	size_t base, n;
	int ok;

	if (a == NULL || a[0] == '\0' || (bat = strrchr(a, '@')) == NULL)
		return -1;
	/* "Name <addr>" or "<addr>" */
	if (strchr(addr, '<'))
		addr = strchr(addr, '<') + 1;
	while (*addr == ' ')
		addr++;
	n = strcspn(addr, "> ");
	if ((at = memchr(addr, '@', n)) == NULL || memchr(at + 1, '@', n - (size_t)(at + 1 - addr)))
		return -1;
	base = (size_t)(bat - a);
	/* the domain, and the local part up to the '+', are bounce_address's */
	if (n - (size_t)(at - addr) != strlen(bat) || strncasecmp(at, bat, strlen(bat)) != 0 ||
	    (size_t)(at - addr) <= base + 1 || strncasecmp(addr, a, base) != 0 || addr[base] != '+')
		return -1;
	plus = addr + base;
	for (dot = at; dot > plus && *dot != '.'; dot--)
		;
	if (dot == plus || (size_t)(at - dot - 1) != VERP_TAG_LEN ||
	    (size_t)(dot - plus - 1) >= VERP_ID_MAX || dot - plus - 1 < 4)
		return -1;
	/* ids are "ev_" and upper case; an MTA may have folded the case */
	n = (size_t)(dot - plus - 1);
	for (size_t i = 0; i < n; i++)
		id[i] = (char)(i < 3 ? tolower((unsigned char)plus[1 + i])
				     : toupper((unsigned char)plus[1 + i]));
	id[n] = '\0';
	for (size_t i = 0; i < VERP_TAG_LEN; i++)
		given[i] = (char)tolower((unsigned char)dot[1 + i]);
	given[VERP_TAG_LEN] = '\0';
	tag(cfg->secret_key, id, t);
	ok = sodium_memcmp(given, t, VERP_TAG_LEN) == 0;
	if (!ok && prev) {
		tag(prev, id, t);
		ok = sodium_memcmp(given, t, VERP_TAG_LEN) == 0;
	}
	return ok ? 0 : -1;
}
