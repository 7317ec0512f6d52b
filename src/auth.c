/* See auth.h. */
#include "auth.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "request.h"
#include "token.h"
#include "util.h"

static const char *const scope_names[] = {
	"verifications:write", "verifications:check", "verifications:read", NULL
};

int auth_parse_scopes(const char *list, unsigned *out)
{
	const char *p = list;

	*out = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int found = 0;
		for (int i = 0; scope_names[i]; i++)
			if (strlen(scope_names[i]) == n && strncmp(p, scope_names[i], n) == 0) {
				*out |= 1u << i;
				found = 1;
			}
		if (!found)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return *out ? 0 : -1;
}

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
	if (strlen(k) != TOK_API_KEY_LEN || strncmp(k, "mpk_", 4) != 0)
		return 0;
	for (const char *p = k + 4; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/*
 * Looks up one hash: 1 found (fills auth, *revoked, *over and *retry_after),
 * 0 not found, -1 answered 503/500.
 */
static int auth_lookup(struct request *rq, const unsigned char hash[TOK_HASH_BYTES], int *revoked,
		       int *over, int *retry_after)
{
	char hex[TOK_HASH_HEX_LEN], limit[16];
	const char *params[2] = { hex, limit };
	const char *errstr;
	long long lim, count;
	unsigned char stored[TOK_HASH_BYTES];
	enum db_err err;
	PGresult *r;
	int rc = -1;

	tok_hex(hash, hex);
	snprintf(limit, sizeof limit, "%d", rq->cfg->rate_per_key_per_minute);
	if ((r = db_run(rq->db, DB_KEY_LOOKUP, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return -1;
	}
	if (PQntuples(r) != 1 || PQnfields(r) != 9) {
		rc = 0;
		goto out;
	}
	if (sodium_hex2bin(stored, sizeof stored, PQgetvalue(r, 0, 4), 2 * TOK_HASH_BYTES, NULL,
			   NULL, NULL) != 0 || !tok_hash_equal(stored, hash) ||
	    auth_parse_scopes(PQgetvalue(r, 0, 2), &rq->auth.scopes) < 0) {
		rc = 0;
		goto out;
	}
	snprintf(rq->auth.key_id, sizeof rq->auth.key_id, "%s", PQgetvalue(r, 0, 0));
	snprintf(rq->auth.tenant_id, sizeof rq->auth.tenant_id, "%s", PQgetvalue(r, 0, 1));
	snprintf(rq->auth.mail_from, sizeof rq->auth.mail_from, "%s", PQgetvalue(r, 0, 8));
	*revoked = PQgetvalue(r, 0, 3)[0] == 't';
	lim = util_parse_int(PQgetvalue(r, 0, 5), 0, INT_MAX, &errstr);
	count = util_parse_int(PQgetvalue(r, 0, 6), 0, LLONG_MAX, &errstr);
	*over = lim > 0 && count > lim;
	*retry_after = (int)util_parse_int(PQgetvalue(r, 0, 7), 1, 60, &errstr);
	rc = 1;
out:
	PQclear(r);
	return rc;
}

int auth_check(struct request *rq)
{
	const char *key = auth_presented_key(rq);
	unsigned char hash[TOK_HASH_BYTES];
	int found, revoked = 0, over = 0, retry_after = 1;

	if (key == NULL || *key == '\0') {
		request_error(rq, 401, "UNAUTHORIZED",
			      "an API key is required (Authorization: Bearer KEY or X-API-Key)",
			      NULL, "WWW-Authenticate: Bearer\r\n");
		return -1;
	}
	if (!key_well_formed(key))
		goto unknown;
	tok_hash(rq->cfg->secret_key, "apikey", key, NULL, hash);
	found = auth_lookup(rq, hash, &revoked, &over, &retry_after);
	if (found == 0 && rq->cfg->have_secret_key_previous) {
		tok_hash(rq->cfg->secret_key_previous, "apikey", key, NULL, hash);
		found = auth_lookup(rq, hash, &revoked, &over, &retry_after);
	}
	if (found < 0)
		return -1;
	if (found == 0)
		goto unknown;
	if (revoked) {
		request_error(rq, 401, "UNAUTHORIZED", "the API key has been revoked", NULL,
			      "WWW-Authenticate: Bearer\r\n");
		return -1;
	}
	if (over) {
		api_rate_limited(rq, "too many requests for this API key", retry_after);
		return -1;
	}
	return 0;
unknown:
	request_error(rq, 401, "UNAUTHORIZED", "the API key is not valid", NULL,
		      "WWW-Authenticate: Bearer\r\n");
	return -1;
}
