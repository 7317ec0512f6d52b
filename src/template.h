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

/* Reads template name of dir into out; -1 with a message in err. */
int template_load(const char *dir, const char *name, struct buf *out, char *err, size_t errlen);

#endif
