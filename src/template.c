/* See template.h. */
#include "template.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int put_escaped(struct buf *out, const char *v, int html)
{
	if (!html)
		return buf_puts(out, v);
	for (; *v; v++) {
		const char *e = *v == '&' ? "&amp;" : *v == '<' ? "&lt;" : *v == '>' ? "&gt;" :
				*v == '"' ? "&quot;" : *v == '\'' ? "&#39;" : NULL;
		if (e ? buf_puts(out, e) < 0 : buf_append(out, v, 1) < 0)
			return -1;
	}
	return 0;
}

/* The name of the placeholder that starts at open ("{{name}}"): its length, 0 if none. */
static size_t name_at(const char *open, const char **name, size_t *len)
{
	const char *close = strstr(open + 2, "}}");

	if (close == NULL)
		return 0;
	*name = open + 2;
	*len = (size_t)(close - *name);
	return (size_t)(close + 2 - open);
}

static const struct template_var *var_named(const char *name, size_t len,
					    const struct template_var *vars, size_t nvars)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == len && strncmp(name, vars[i].name, len) == 0)
			return &vars[i];
	return NULL;
}

/* A section's var is set when it has a non-empty value. */
static int var_set(const struct template_var *v)
{
	return v != NULL && v->value != NULL && v->value[0] != '\0';
}

static int render(const char *p, const char *end, const struct template_var *vars, size_t nvars,
		  int html, const struct catalog *cat, struct buf *out)
{
	while (p < end) {
		const char *open = strstr(p, "{{"), *name;
		const struct template_var *v;
		size_t len, whole;

		if (open == NULL || open >= end)
			return buf_append(out, p, (size_t)(end - p));
		if (buf_append(out, p, (size_t)(open - p)) < 0)
			return -1;
		if ((whole = name_at(open, &name, &len)) == 0 || open + whole > end) {
			if (buf_append(out, open, 2) < 0)
				return -1;
			p = open + 2;
			continue;
		}
		p = open + whole;
		if (*name == '#' && len > 1) {
			/* {{#x}}...{{/x}}: the part between, when x is set */
			char closing[80];
			const char *stop;
			snprintf(closing, sizeof closing, "{{/%.*s}}", (int)(len - 1), name + 1);
			if (len < 64 && (stop = strstr(p, closing)) != NULL && stop < end) {
				v = var_named(name + 1, len - 1, vars, nvars);
				if (var_set(v) && render(p, stop, vars, nvars, html, cat, out) < 0)
					return -1;
				p = stop + strlen(closing);
				continue;
			}
		} else if (cat && len > 4 && strncmp(name, "msg.", 4) == 0) {
			char key[128];
			const char *text;
			snprintf(key, sizeof key, "%.*s", (int)(len - 4), name + 4);
			if (len - 4 < sizeof key && (text = catalog_get(cat, key)) != NULL) {
				/* a message's own placeholders are values, never messages */
				if (render(text, text + strlen(text), vars, nvars, html, NULL, out) < 0)
					return -1;
				continue;
			}
		} else if ((v = var_named(name, len, vars, nvars)) != NULL) {
			const char *value = v->value ? v->value : "";
			if ((v->raw ? buf_puts(out, value) : put_escaped(out, value, html)) < 0)
				return -1;
			continue;
		}
		if (buf_append(out, open, whole) < 0)
			return -1;
	}
	return 0;
}

int template_render(const char *tpl, const struct template_var *vars, size_t nvars, int html,
		    const struct catalog *cat, struct buf *out)
{
	return render(tpl, tpl + strlen(tpl), vars, nvars, html, cat, out);
}

static const char *custom(const struct template_src *src, const char *name, const char *locale)
{
	for (size_t i = 0; i < src->ncustom; i++)
		if (strcmp(src->custom[i].name, name) == 0 && strcmp(src->custom[i].locale, locale) == 0)
			return src->custom[i].body;
	return NULL;
}

int template_find(const struct template_src *src, const char *name, struct buf *out, char *err,
		  size_t errlen)
{
	const char *body = NULL;
	char path[4096];

	for (size_t i = 0; i < src->nchain && body == NULL; i++)
		body = custom(src, name, src->chain[i]);
	if (body == NULL)
		body = custom(src, name, "");
	if (body != NULL) {
		if (buf_puts(out, body) < 0) {
			snprintf(err, errlen, "%s: the tenant's template is too large", name);
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < src->nchain; i++) {
		snprintf(path, sizeof path, "%s/%s/%s", src->dir, src->chain[i], name);
		if (access(path, R_OK) == 0) {
			snprintf(path, sizeof path, "%s/%s", src->chain[i], name);
			return template_load(src->dir, path, out, err, errlen);
		}
	}
	snprintf(path, sizeof path, "%s/%s", src->dir, name);
	if (access(path, F_OK) != 0 && strstr(name, ".subject") != NULL)
		return 1;
	return template_load(src->dir, name, out, err, errlen);
}

int template_load(const char *dir, const char *name, struct buf *out, char *err, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (buf_read_file(out, path, err, errlen) < 0)
		return -1;
	if (memchr(out->data ? out->data : "", '\0', out->len)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		return -1;
	}
	return 0;
}
