/*
 * Redirect URLs of magic links.  A redirectUrl must match one of the
 * tenant's allowed prefixes on its parsed scheme, host and port, and on its
 * path at a segment boundary; anything a browser might read differently
 * from libcurl's parser (backslashes, user names, protocol-relative or
 * scheme-less forms, controls, spaces) is refused before parsing.
 */
#ifndef MAILPROOF_REDIRECT_H
#define MAILPROOF_REDIRECT_H

#include <stddef.h>

#include "buf.h"

/* True when url matches one of the n prefixes. */
int redirect_allowed(const char *url, const char *const *prefixes, size_t n);

/*
 * url with "name=value" pairs (already URL-safe) appended to its query,
 * before any fragment, into out.  Returns 0 or -1 (out full).
 */
int redirect_with_params(const char *url, const char *params, struct buf *out);

/* "scheme://host[:port]" of url into out, for a CSP form-action. */
int redirect_origin(const char *url, char *out, size_t outlen);

#endif
