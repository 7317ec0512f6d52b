/* See brand.h. */
#include "brand.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "catalog.h"
#include "mail.h"
#include "util.h"

/* SVG is shown as an image, where scripts never run; still, none is stored. */
static const char *svg_problem(const char *s)
{
	static const char *const banned[] = { "<script", "<foreignobject", "javascript:",
					      "<!entity", "xlink:href=\"http", "href=\"http",
					      "xlink:href='http", "href='http", "@import" };
	char low[BRAND_LOGO_MAX + 1];
	size_t n = strlen(s);

	for (size_t i = 0; i < n && i < BRAND_LOGO_MAX; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[n < BRAND_LOGO_MAX ? n : BRAND_LOGO_MAX] = '\0';
	if (strstr(low, "<svg") == NULL)
		return "has no <svg> element";
	for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
		if (strstr(low, banned[i]))
			return "has a script, an entity or an external reference";
	for (const char *p = low + 1; (p = strstr(p, "on")) != NULL; p++) {
		const char *q = p + 2;
		if (!isspace((unsigned char)p[-1]) && p[-1] != '/')
			continue;
		while (isalpha((unsigned char)*q))
			q++;
		while (isspace((unsigned char)*q))
			q++;
		if (q > p + 2 && *q == '=')
			return "has an event handler attribute";
	}
	return NULL;
}

const char *brand_logo_type(const unsigned char *p, size_t len, char *err, size_t errlen)
{
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	const char *why;

	if (len == 0 || len > BRAND_LOGO_MAX) {
		snprintf(err, errlen, "must be 1 to %d bytes", BRAND_LOGO_MAX);
		return NULL;
	}
	if (len > 24 && memcmp(p, png, 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0)
		return "image/png";
	if (memchr(p, '\0', len) || !catalog_utf8_valid((const char *)p, len)) {
		snprintf(err, errlen, "must be a PNG or an SVG file");
		return NULL;
	}
	if ((why = svg_problem((const char *)p)) != NULL) {
		snprintf(err, errlen, "is not a PNG, and as SVG it %s", why);
		return NULL;
	}
	return "image/svg+xml";
}

static int check_support(const char *s)
{
	if (strlen(s) > 300 || !util_no_controls(s) || strchr(s, ' '))
		return 0;
	if (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0)
		return strlen(s) > 8 && strpbrk(s, "<>\"'") == NULL;
	if (strncasecmp(s, "mailto:", 7) == 0)
		return mail_address_valid(s + 7);
	return mail_address_valid(s);
}

static int check_accent(const char *s, char out[8])
{
	size_t n = strlen(s);

	if (s[0] != '#' || (n != 4 && n != 7))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	if (n == 4)
		snprintf(out, 8, "#%c%c%c%c%c%c", s[1], s[1], s[2], s[2], s[3], s[3]);
	else
		snprintf(out, 8, "%s", s);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 1;
}

static int check_logo(const char *path, struct brand_values *v, char *err, size_t errlen)
{
	struct buf raw;
	char why[256];
	int rc = -1;

	buf_init(&raw, BRAND_LOGO_MAX);
	if (buf_read_file(&raw, path, why, sizeof why) < 0) {
		snprintf(err, errlen, "--logo %s", why);
		goto out;
	}
	if ((v->logo_type = brand_logo_type((const unsigned char *)raw.data, raw.len, why,
					    sizeof why)) == NULL) {
		snprintf(err, errlen, "--logo %s: %s", path, why);
		goto out;
	}
	{
		size_t b64len = sodium_base64_ENCODED_LEN(raw.len, sodium_base64_VARIANT_ORIGINAL);
		char b64[sodium_base64_ENCODED_LEN(BRAND_LOGO_MAX, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, b64len, (const unsigned char *)raw.data, raw.len,
				  sodium_base64_VARIANT_ORIGINAL);
		if (buf_puts(&v->logo_b64, b64) < 0) {
			snprintf(err, errlen, "--logo %s: out of memory", path);
			goto out;
		}
	}
	v->logo = v->logo_b64.data;
	rc = 0;
out:
	buf_free(&raw);
	return rc;
}

int brand_check(const struct brand_opts *o, const char *template_dir, struct brand_values *v,
		char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	buf_init(&v->logo_b64, 2 * BRAND_LOGO_MAX);
	v->display_name = o->display_name;
	v->support_url = o->support_url;
	if (o->display_name && *o->display_name &&
	    (strlen(o->display_name) > 100 || !util_no_controls(o->display_name) ||
	     !catalog_utf8_valid(o->display_name, strlen(o->display_name)))) {
		snprintf(err, errlen, "--display-name must be 1-100 characters of UTF-8 without "
			 "line breaks or control characters");
		return -1;
	}
	if (o->support_url && *o->support_url && !check_support(o->support_url)) {
		snprintf(err, errlen, "--support-url must be an https:// or http:// URL, a mailto: "
			 "URL or an email address (at most 300 characters)");
		return -1;
	}
	if (o->accent_color) {
		if (*o->accent_color && !check_accent(o->accent_color, v->accent_buf)) {
			snprintf(err, errlen, "--accent-color must be a colour as #rrggbb or #rgb");
			return -1;
		}
		v->accent_color = *o->accent_color ? v->accent_buf : "";
	}
	if (o->default_locale) {
		char canon[LOCALE_TAG_MAX], chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
		size_t n = 0;
		if (*o->default_locale && locale_canonical(o->default_locale, canon) == 0)
			n = locale_chain(canon, chain, LOCALE_CHAIN_MAX);
		for (size_t i = 0; i < n && !v->default_locale; i++)
			if (catalog_exists(template_dir, chain[i])) {
				memcpy(v->locale_buf, chain[i], LOCALE_TAG_MAX);
				v->default_locale = v->locale_buf;
			}
		if (*o->default_locale == '\0')
			v->default_locale = "";
		else if (v->default_locale == NULL) {
			snprintf(err, errlen, "--default-locale must be a language tag that mailproof "
				 "has a translation for (such as de or pt-BR; see %s)", template_dir);
			return -1;
		}
	}
	if (o->logo_file) {
		if (*o->logo_file == '\0')
			v->logo = v->logo_type = "";
		else if (check_logo(o->logo_file, v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

void brand_free(struct brand_values *v)
{
	buf_free(&v->logo_b64);
}
