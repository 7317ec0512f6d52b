/*
 * A tenant's brand as `mailproofctl tenant create/update` takes it: each
 * option checked, with a message that names it, before it is stored.
 * What mail and pages do with it is mail_verification.c's and hosted.c's.
 */
#ifndef MAILPROOF_BRAND_H
#define MAILPROOF_BRAND_H

#include <stddef.h>

#include "buf.h"
#include "locale.h"

#define BRAND_LOGO_MAX (32 * 1024)

/* The options, each NULL when not given (no change) or "" (remove). */
struct brand_opts {
	const char *display_name;
	const char *support_url;
	const char *accent_color;
	const char *default_locale;
	const char *logo_file;
};

/* The checked values to store: the same NULL and "" rules. */
struct brand_values {
	const char *display_name;
	const char *support_url;
	char accent_buf[8];
	const char *accent_color;	/* #rrggbb */
	char locale_buf[LOCALE_TAG_MAX];
	const char *default_locale;	/* a language template_dir has */
	struct buf logo_b64;		/* the logo, base64 */
	const char *logo;		/* logo_b64's data, "" or NULL */
	const char *logo_type;		/* image/png or image/svg+xml */
};

/*
 * Checks o into v (free with brand_free()); template_dir is where the
 * languages are.  0, or -1 with a message naming the option in err.
 */
int brand_check(const struct brand_opts *o, const char *template_dir, struct brand_values *v,
		char *err, size_t errlen);

void brand_free(struct brand_values *v);

/* What a logo's bytes are: "image/png", "image/svg+xml", or NULL with the reason in err. */
const char *brand_logo_type(const unsigned char *p, size_t len, char *err, size_t errlen);

#endif
