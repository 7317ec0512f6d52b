/*
 * API key authentication: "Authorization: Bearer KEY" or "X-API-Key: KEY".
 * Keys are looked up by their keyed hash under secret_key, then under
 * secret_key_previous, so that rotating the key does not lock clients out.
 */
#ifndef MAILPROOF_AUTH_H
#define MAILPROOF_AUTH_H

#include "db.h"
#include "scope.h"

struct auth_ctx;
struct db_auth;
struct request;

/*
 * The key is checked by the database, in the same statement as the work of
 * the route (the mp_api_*() functions of sql/lifecycle.sql), so that a
 * request makes one round trip.  auth_prepare() reads the key of rq and
 * computes its keyed hashes; auth_query() runs a DB_API_* statement with
 * them as its first AUTH_PARAMS parameters, and auth_refused() answers a
 * refusal.  auth_run() is both, for a handler that answers the rest itself.
 */
#define AUTH_PARAMS 3

/*
 * Prepares rq->auth for a route that needs scopes.  Returns 0, or -1 after
 * answering 401 (no key, or one that cannot be ours).
 */
int auth_prepare(struct request *rq, unsigned scopes);

/*
 * Sets params[0..AUTH_PARAMS-1] from a and runs statement s.  Returns its
 * result when the key may do the route (caller PQclear()s; row 0 starts
 * with the columns auth, retry_after).  Else NULL with *err DB_UNAVAILABLE
 * or DB_FAILED when the database failed, or DB_OK when it refused the key,
 * which *key then says why.  Answers nothing.
 */
PGresult *auth_query(struct db *db, const struct auth_ctx *a, enum db_stmt s,
		     const char **params, enum db_err *err, struct db_auth *key);

/* Answers a key the database refused: 429, 403 or 401. */
void auth_refused(struct request *rq, const struct db_auth *key);

/*
 * auth_query() with the request's key.  Returns its result, or NULL after
 * answering 401 (unknown or revoked key), 403, 429, 503 or 500.
 */
PGresult *auth_run(struct request *rq, enum db_stmt s, const char **params);

#endif
