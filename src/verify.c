/* See verify.h. */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "token.h"
#include "util.h"

int verify_id_valid(const char *id)
{
	if (strlen(id) != 3 + TOK_ID_CHARS || strncmp(id, "ev_", 3) != 0)
		return 0;
	for (const char *p = id + 3; *p; p++)
		if (!strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p))
			return 0;
	return 1;
}

void verify_normalize_code(char *code)
{
	char *w = code;

	for (char *r = code; *r; r++)
		if (*r != ' ' && *r != '-')
			*w++ = (char)toupper((unsigned char)*r);
	*w = '\0';
}

static void hash_hex(const unsigned char *key, const char *id, const char *code,
		     char out[2 + 2 * TOK_HASH_BYTES + 1])
{
	unsigned char h[TOK_HASH_BYTES];

	tok_hash(key, "otp", id, code, h);
	memcpy(out, "\\x", 2);
	sodium_bin2hex(out + 2, 2 * TOK_HASH_BYTES + 1, h, sizeof h);
}

/* Answers a check that changed nothing, from the row's state before it. */
static void verify_refused(struct request *rq, const char *stored, const char *effective)
{
	if (strcmp(effective, "EXPIRED") == 0)
		request_error(rq, 410, "VERIFICATION_EXPIRED", "the verification has expired", NULL, NULL);
	else if (strcmp(stored, "VERIFIED") == 0)
		request_error(rq, 409, "ALREADY_VERIFIED", "the verification is already verified",
			      NULL, NULL);
	else if (strcmp(stored, "CANCELED") == 0)
		request_error(rq, 409, "VERIFICATION_CANCELED", "the verification was canceled",
			      NULL, NULL);
	else
		request_error(rq, 409, "VERIFICATION_FAILED", "the verification has failed", NULL, NULL);
}

void verify_check_code(struct request *rq, const char *id, const char *code)
{
	char h1[2 + 2 * TOK_HASH_BYTES + 1], h2[sizeof h1], event_id[40];
	const char *params[5] = { id, rq->auth.tenant_id, h1, NULL, event_id };
	const char *after, *errstr;
	int remaining;
	enum db_err err;
	PGresult *r;
	json_t *data;

	if (!verify_id_valid(id)) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		return;
	}
	hash_hex(rq->cfg->secret_key, id, code, h1);
	if (rq->cfg->have_secret_key_previous) {
		hash_hex(rq->cfg->secret_key_previous, id, code, h2);
		params[3] = h2;
	}
	tok_random_id("msg_", event_id, sizeof event_id);
	if ((r = db_run(rq->db, DB_VERIFY_CODE, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return;
	}
	if (PQntuples(r) == 0) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		goto out;
	}
	if (PQgetisnull(r, 0, 2)) {
		verify_refused(rq, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
		goto out;
	}
	after = PQgetvalue(r, 0, 2);
	if (strcmp(after, "VERIFIED") == 0) {
		json_t *v = json_loads(PQgetvalue(r, 0, 4), 0, NULL);
		log_info("verification %s: PENDING -> VERIFIED", id);
		data = v ? json_pack("{s:O?,s:s,s:O?,s:O?,s:O?}", "id", json_object_get(v, "id"),
				     "status", "VERIFIED", "email", json_object_get(v, "email"),
				     "userId", json_object_get(v, "userId"), "verifiedAt",
				     json_object_get(v, "verifiedAt")) : NULL;
		json_decref(v);
		if (data)
			request_ok(rq, 200, data);
		goto out;
	}
	if (strcmp(after, "FAILED") == 0) {
		log_info("verification %s: PENDING -> FAILED (attempts exhausted)", id);
		request_error(rq, 422, "MAX_ATTEMPTS_EXCEEDED",
			      "wrong code; no attempts remain and the verification has failed",
			      json_pack("{s:i}", "attemptsRemaining", 0), NULL);
		goto out;
	}
	remaining = (int)util_parse_int(PQgetvalue(r, 0, 3), 0, 10, &errstr);
	request_error(rq, 422, "INVALID_CODE", "wrong code",
		      json_pack("{s:i}", "attemptsRemaining", remaining), NULL);
out:
	PQclear(r);
}
