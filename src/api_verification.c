/* See api_verification.h. */
#include "api_verification.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "jsonx.h"
#include "request.h"
#include "verify.h"

/* Longest code text accepted before normalization; codes are 4-12 long. */
#define CODE_INPUT_MAX 64

void api_verification_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const char *params[2] = { args[0], rq->auth.tenant_id };
	enum db_err err;
	PGresult *r;

	if (!verify_id_valid(args[0])) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		return;
	}
	if ((r = db_run(rq->db, DB_VERIFICATION_GET, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return;
	}
	if (PQntuples(r) == 1)
		request_ok_raw(rq, 200, PQgetvalue(r, 0, 0));
	else
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
	PQclear(r);
}

void api_verification_verify(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	static const char *const path_fields[] = { "code", NULL };
	static const char *const body_fields[] = { "verificationId", "code", NULL };
	int id_in_path = strstr(rq->route, "{id}") != NULL;
	const char *id = args[0], *code;
	char msg[160], norm[CODE_INPUT_MAX + 1];

	if (jsonx_only_members(rq->json, id_in_path ? path_fields : body_fields, msg,
			       sizeof msg) < 0)
		goto bad;
	if (!id_in_path) {
		int got = jsonx_get_string(rq->json, "verificationId", 64, &id, msg, sizeof msg);
		if (got < 0)
			goto bad;
		if (got == 0) {
			snprintf(msg, sizeof msg, "'verificationId' is required");
			goto bad;
		}
	}
	switch (jsonx_get_string(rq->json, "code", CODE_INPUT_MAX, &code, msg, sizeof msg)) {
	case -1:
		goto bad;
	case 0:
		snprintf(msg, sizeof msg, "'code' is required");
		goto bad;
	}
	snprintf(norm, sizeof norm, "%s", code);
	verify_normalize_code(norm);
	if (norm[0] == '\0') {
		snprintf(msg, sizeof msg, "'code' must not be empty");
		goto bad;
	}
	verify_check_code(rq, id, norm);
	return;
bad:
	request_error(rq, 400, "INVALID_REQUEST", msg, NULL, NULL);
}
