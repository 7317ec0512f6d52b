/*
 * VERP: each verification's mail goes out with an envelope sender of its
 * own, bounce_address with "+ID.TAG" added to the local part
 * (bounces+ev_...abc.0f3a9c1e2b7d@example.com), so that a bounce names the
 * verification it is about.  TAG is a keyed hash of ID under secret_key:
 * a bounce forged for someone else's verification is refused.
 */
#ifndef MAILPROOF_VERP_H
#define MAILPROOF_VERP_H

#include <stddef.h>

struct config;

#define VERP_TAG_LEN 12		/* hex: 48 bits of the keyed hash */
#define VERP_ID_MAX 64

/*
 * The envelope sender for verification id in out: 0, or -1 when
 * bounce_address is not set (the caller keeps its own sender) or out is
 * too small.
 */
int verp_address(const struct config *cfg, const char *id, char *out, size_t outlen);

/* verp_address() in buf, and buf, when it applies; else fallback. */
const char *verp_sender(const struct config *cfg, const char *id, const char *fallback,
			char *buf, size_t len);

/*
 * The verification id that addr (an address, perhaps "Name <addr>") names, into
 * id: 0 when addr is bounce_address with an id and a tag made under
 * secret_key or secret_key_previous; -1 when it is not (another address,
 * no tag, a wrong tag).  Letter case does not matter: MTAs may change it.
 */
int verp_parse(const struct config *cfg, const char *addr, char id[VERP_ID_MAX]);

/* Whether bounce_address is acceptable: local@domain, no '+' or space. */
int verp_address_valid(const char *bounce_address);

#endif
