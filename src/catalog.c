/* See catalog.h. */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int catalog_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 :
			   (c & 0xF8) == 0xF0 ? 3 : 4;
		unsigned cp;

		if (n == 4 || (size_t)(end - p) <= n)
			return n == 0;
		cp = n == 0 ? c : c & (0x3F >> n);
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += n + 1;
	}
	return 1;
}

static int path_of(char *out, size_t len, const char *dir, const char *locale)
{
	int n = snprintf(out, len, "%s/%s/messages.txt", dir, locale);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int catalog_exists(const char *template_dir, const char *locale)
{
	char path[4096];

	return path_of(path, sizeof path, template_dir, locale) == 0 && access(path, R_OK) == 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	return s;
}

/* Splits file f of c into entries, in place. */
static int parse(struct catalog *c, int f, const char *path, char *err, size_t errlen)
{
	char *line = c->files[f].data, *next;
	int lineno = 0;

	if (!catalog_utf8_valid(line, c->files[f].len)) {
		snprintf(err, errlen, "%s: not UTF-8", path);
		return -1;
	}
	for (; line && *line; line = next) {
		char *eq, *key;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: no \"=\" in the line", path, lineno);
			return -1;
		}
		*eq = '\0';
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 128;
			struct catalog_entry *e = realloc(c->entries, cap * sizeof *e);
			if (e == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			c->entries = e;
			c->cap = cap;
		}
		c->entries[c->n].key = trim(key);
		c->entries[c->n].text = trim(eq + 1);
		c->entries[c->n++].file = f;
	}
	return 0;
}

int catalog_load(struct catalog *c, const char *template_dir, const char locales[][LOCALE_TAG_MAX],
		 size_t n, char *err, size_t errlen)
{
	const char *chain[CATALOG_FILES];
	size_t nchain = 0;

	memset(c, 0, sizeof *c);
	for (int f = 0; f < CATALOG_FILES; f++)
		buf_init(&c->files[f], CATALOG_MAX_BYTES);
	for (size_t i = 0; i < n && nchain < CATALOG_FILES - 1; i++)
		if (strcmp(locales[i], "en") != 0 && catalog_exists(template_dir, locales[i]))
			chain[nchain++] = locales[i];
	chain[nchain++] = "en";
	snprintf(c->locale, sizeof c->locale, "%s", chain[0]);
	for (size_t f = 0; f < nchain; f++) {
		char path[4096];

		if (path_of(path, sizeof path, template_dir, chain[f]) < 0) {
			snprintf(err, errlen, "%s: template_dir is too long", template_dir);
			return -1;
		}
		if (buf_read_file(&c->files[f], path, err, errlen) < 0 ||
		    parse(c, (int)f, path, err, errlen) < 0)
			return -1;
	}
	return 0;
}

const char *catalog_get(const struct catalog *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return c->entries[i].text;
	return NULL;
}

const char *catalog_plural(const struct catalog *c, const char *key, long n)
{
	char form[128], other[128];
	const char *cat = locale_plural(c->locale, n);

	snprintf(form, sizeof form, "%s.%s", key, cat);
	snprintf(other, sizeof other, "%s.other", key);
	for (int f = 0; f < CATALOG_FILES; f++)
		for (size_t i = 0; i < c->n; i++)
			if (c->entries[i].file == f && (strcmp(c->entries[i].key, form) == 0 ||
							strcmp(c->entries[i].key, other) == 0)) {
				for (size_t j = i; j < c->n && c->entries[j].file == f; j++)
					if (strcmp(c->entries[j].key, form) == 0)
						return c->entries[j].text;
				return c->entries[i].text;
			}
	return NULL;
}

void catalog_free(struct catalog *c)
{
	for (int f = 0; f < CATALOG_FILES; f++)
		buf_free(&c->files[f]);
	free(c->entries);
	c->entries = NULL;
	c->n = c->cap = 0;
}
