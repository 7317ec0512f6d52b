/*
 * The scopes an API key may hold, as bits, and their names as the API and
 * mailproofctl spell them ("verifications:write" and so on).
 */
#ifndef MAILPROOF_SCOPE_H
#define MAILPROOF_SCOPE_H

#include <stddef.h>

#define SCOPE_WRITE 1u
#define SCOPE_CHECK 2u
#define SCOPE_READ 4u
/* Codes handed to the application (delivery none, webhook, customCode): only when granted. */
#define SCOPE_DELIVER 8u

/* The name of one scope bit ("verifications:read" for anything else). */
const char *scope_name(unsigned bit);

/*
 * Parses "a,b" scope names into bits.  Returns -1 for an unknown name or an
 * empty list.
 */
int scope_parse(const char *list, unsigned *out);

/*
 * Writes the names of bits, comma-separated, in bit order.  Returns -1 when
 * they do not fit in outlen.
 */
int scope_format(unsigned bits, char *out, size_t outlen);

#endif
