/*
 * API key authentication: "Authorization: Bearer KEY" or "X-API-Key: KEY".
 * Keys are looked up by their keyed hash under secret_key, then under
 * secret_key_previous, so that rotating the key does not lock clients out.
 */
#ifndef MAILPROOF_AUTH_H
#define MAILPROOF_AUTH_H

#define SCOPE_WRITE 1u
#define SCOPE_CHECK 2u
#define SCOPE_READ 4u
#define SCOPE_ALL (SCOPE_WRITE | SCOPE_CHECK | SCOPE_READ)

struct request;

/*
 * Parses "a,b" scope names into bits.  Returns -1 for an unknown name or an
 * empty list.
 */
int auth_parse_scopes(const char *list, unsigned *out);

/*
 * Authenticates rq and fills rq->auth, counting the request against the
 * key's usage and per-minute limit.  Returns 0, or -1 after answering 401
 * (missing, malformed, unknown or revoked key), 429 or 503.
 */
int auth_check(struct request *rq);

#endif
