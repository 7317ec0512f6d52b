/*
 * `mailproofctl template preview`: a template of a tenant rendered as the
 * service would render it, with sample values (code 123456, a sample link,
 * fifteen minutes), so that a tenant can look before it goes live.
 */
#ifndef MAILPROOF_PREVIEW_H
#define MAILPROOF_PREVIEW_H

#include "buf.h"
#include "mail_verification.h"

struct config;

/*
 * Renders template name (see template_check_names) in language locale for
 * brand, its templates included, into out.  0, or -1 with the reason in err.
 */
int preview_render(const struct config *cfg, const char *name, const char *locale,
		   const struct mail_brand *brand, struct buf *out, char *err, size_t errlen);

#endif
