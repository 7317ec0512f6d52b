/*
 * What a tenant's template must be before it is stored (`mailproofctl
 * template set`): a name mailproof renders, valid UTF-8 of a bounded size,
 * only the placeholders that name is given (and catalogue messages that
 * exist), the ones it cannot do without, and, for HTML, markup that
 * parses: every element closed in order, quoted attributes, no script.
 */
#ifndef MAILPROOF_TEMPLATE_CHECK_H
#define MAILPROOF_TEMPLATE_CHECK_H

#include <stddef.h>

#include "catalog.h"

#define TEMPLATE_CHECK_MAX (64 * 1024)
#define TEMPLATE_SUBJECT_MAX 200

/* The names a tenant may replace, space separated, for messages. */
extern const char template_check_names[];

/* Whether name is one of them. */
int template_check_name(const char *name);

/*
 * Checks body (len bytes) as template name; en is the English catalogue,
 * whose keys {{msg.KEY}} may name.  0, or -1 with the reason in err.
 */
int template_check(const char *name, const char *body, size_t len, const struct catalog *en,
		   char *err, size_t errlen);

#endif
