/* See template.h. */
#include "template.h"

#include <stdio.h>
#include <string.h>

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

/* The var whose placeholder starts at open ("{{name}}"), or NULL. */
static const struct template_var *var_at(const char *open, const struct template_var *vars,
					 size_t nvars, size_t *len)
{
	const char *name = open + 2, *close = strstr(name, "}}");

	if (close == NULL)
		return NULL;
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == (size_t)(close - name) &&
		    strncmp(name, vars[i].name, (size_t)(close - name)) == 0) {
			*len = (size_t)(close + 2 - open);
			return &vars[i];
		}
	return NULL;
}

int template_render(const char *tpl, const struct template_var *vars, size_t nvars, int html,
		    struct buf *out)
{
	const char *p = tpl;

	while (*p) {
		const char *open = strstr(p, "{{");
		const struct template_var *v;
		const char *value;
		size_t len;

		if (open == NULL)
			return buf_puts(out, p);
		if (buf_append(out, p, (size_t)(open - p)) < 0)
			return -1;
		if ((v = var_at(open, vars, nvars, &len)) == NULL) {
			if (buf_append(out, open, 2) < 0)
				return -1;
			p = open + 2;
			continue;
		}
		value = v->value ? v->value : "";
		if ((v->raw ? buf_puts(out, value) : put_escaped(out, value, html)) < 0)
			return -1;
		p = open + len;
	}
	return 0;
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
