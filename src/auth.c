/* See auth.h. */
#include "auth.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "db_api.h"
#include "log.h"
#include "request.h"
#include "scope.h"
#include "token.h"

/* The key from either header, or NULL. */
static const char *auth_presented_key(const struct request *rq)
{
	const char *h = request_param(rq, "HTTP_AUTHORIZATION");

	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		return h;
	}
	return request_param(rq, "HTTP_X_API_KEY");
}

static int key_well_formed(const char *k)
{
	if (strlen(k) != TOKEN_API_KEY_LEN || strncmp(k, "mpk_", 4) != 0)
		return 0;
	for (const char *p = k + 4; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

int auth_prepare(struct request *rq, unsigned scopes)
{
	const char *key = auth_presented_key(rq);
	struct auth_ctx *a = &rq->auth;

	a->scopes = scopes;
	if (key == NULL || *key == '\0') {
		request_error(rq, 401, "UNAUTHORIZED",
			      "an API key is required (Authorization: Bearer KEY or X-API-Key)",
			      NULL, "WWW-Authenticate: Bearer\r\n");
		return -1;
	}
	if (!key_well_formed(key)) {
		request_error(rq, 401, "UNAUTHORIZED", "the API key is not valid", NULL,
			      "WWW-Authenticate: Bearer\r\n");
		return -1;
	}
	token_hash_hex(rq->cfg->secret_key, "apikey", key, NULL, a->key_hash);
	a->params[0] = a->key_hash;
	a->params[1] = NULL;
	if (rq->cfg->have_secret_key_previous) {
		token_hash_hex(rq->cfg->secret_key_previous, "apikey", key, NULL, a->key_hash_prev);
		a->params[1] = a->key_hash_prev;
	}
	snprintf(a->limit, sizeof a->limit, "%d", rq->cfg->rate_per_key_per_minute);
	a->params[2] = a->limit;
	return 0;
}

PGresult *auth_query(struct db *db, const struct auth_ctx *a, enum db_stmt s,
		     const char **params, enum db_err *err, struct db_auth *key)
{
	PGresult *r;

	for (int i = 0; i < AUTH_PARAMS; i++)
		params[i] = a->params[i];
	if ((r = db_run(db, s, params, err, NULL)) == NULL)
		return NULL;
	if (db_auth(r, key) < 0) {
		log_errx("statement %s: no row of the key's outcome", db_statements[s].name);
		*err = DB_FAILED;
	} else if (key->outcome == DB_KEY_OK) {
		return r;
	} else {
		*err = DB_OK;
	}
	PQclear(r);
	return NULL;
}

/* The per-minute limit of the presented key, looked up only for its 429. */
static int key_limit(struct request *rq)
{
	enum db_err err;
	PGresult *r = db_run(rq->db, DB_KEY_LIMIT, rq->auth.params, &err, NULL);
	int max = (int)(r ? db_int(r, 0, INT_MAX, rq->cfg->rate_per_key_per_minute)
			  : rq->cfg->rate_per_key_per_minute);

	PQclear(r);
	return max;
}

void auth_refused(struct request *rq, const struct db_auth *key)
{
	switch (key->outcome) {
	case DB_KEY_LIMITED:
		request_rate_limited(rq, "per_key_per_minute", key_limit(rq),
				     "Requests with this API key this minute", NULL, key->retry_after);
		break;
	case DB_KEY_SCOPE:
		request_error(rq, 403, "SCOPE_REQUIRED", "the API key lacks the scope this route needs",
			      json_pack("{s:s}", "scope", key->scope[0] ? key->scope :
					scope_name(rq->auth.scopes)), NULL);
		break;
	default:
		request_error(rq, 401, "UNAUTHORIZED", key->outcome == DB_KEY_REVOKED ?
			      "the API key has been revoked" : "the API key is not valid", NULL,
			      "WWW-Authenticate: Bearer\r\n");
		break;
	}
}

PGresult *auth_run(struct request *rq, enum db_stmt s, const char **params)
{
	struct db_auth key;
	enum db_err err;
	PGresult *r = auth_query(rq->db, &rq->auth, s, params, &err, &key);

	if (r == NULL && err != DB_OK)
		request_db_error(rq, err);
	else if (r == NULL)
		auth_refused(rq, &key);
	return r;
}
