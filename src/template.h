/*
 * The one template engine of mail and pages: files of template_dir with
 * {{name}} placeholders, {{msg.key}} for a message of the language's
 * catalogue (see catalog.h), whose own {{name}}s are filled in the same
 * way, and {{#name}}...{{/name}} around a part shown only when name has a
 * value (a logo, a support address).  A value is escaped for where it lands (HTML-
 * escaped in HTML, as it stands in plain text), so no value can become
 * markup.  The one exception is a var marked raw, which is for the output
 * of another template (a page's {{content}}, its {{style}} file), never
 * for a value.  An unknown {{name}} is copied as it stands, so a designer's
 * typo shows on the page instead of vanishing.
 */
#ifndef MAILPROOF_TEMPLATE_H
#define MAILPROOF_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "catalog.h"

struct template_var {
	const char *name;	/* without the braces */
	const char *value;	/* NULL renders as nothing */
	int raw;		/* a template's output, inserted unescaped */
};

/* Renders tpl with vars and the messages of cat (may be NULL) into out; html escapes values for HTML. */
int template_render(const char *tpl, const struct template_var *vars, size_t nvars, int html,
		    const struct catalog *cat, struct buf *out);

/* A tenant's own template (tenant_templates): locale "" serves every language. */
struct template_custom {
	const char *name;
	const char *locale;
	const char *body;
};

/* Where templates come from: a tenant's, then template_dir's, for a language. */
struct template_src {
	const char *dir;				/* template_dir */
	const char (*chain)[LOCALE_TAG_MAX];		/* the language, then its fallbacks */
	size_t nchain;
	const struct template_custom *custom;		/* the tenant's, or NULL */
	size_t ncustom;
};

/*
 * Reads template name into out from the first place that has it: the
 * tenant's for each language of the chain, the tenant's for every
 * language, then dir/LANGUAGE/name for each language of the chain, then
 * dir/name.  0; 1 when no place has it; -1 with a message in err.
 */
int template_find(const struct template_src *src, const char *name, struct buf *out, char *err,
		  size_t errlen);

/* Reads template name of dir into out; -1 with a message in err. */
int template_load(const char *dir, const char *name, struct buf *out, char *err, size_t errlen);

#endif
