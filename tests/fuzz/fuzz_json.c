/*
 * Fuzz target: the JSON bodies of the routes that take one.  The first byte
 * picks the route (start; verify with the id in the body; verify with the
 * id in the path) and whether the request has an Idempotency-Key; the rest
 * is the body.  It is parsed as api_prepare() parses it
 * (jsonx_parse_object()), then by the route's own parser; what a parser
 * accepts must satisfy the contract verify.c relies on, and what it refuses
 * must be answered 400 with a well-formed envelope.  fuzz_request.c reaches
 * the same parsers through the FastCGI parameters; this target spends its
 * time on the JSON (see json.dict).
 */
#include "fuzz.h"
#include "fuzz_start.h"

#include "api_verification.h"
#include "jsonx.h"
#include "locale.h"
#include "mail.h"
#include "request.h"
#include "verify.h"

static struct config g_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	fuzz_config(&g_cfg);
	return 0;
}

static void start(struct request *rq)
{
	struct verify_start_req sr;
	char *metadata = NULL;
	json_t *m;

	if (api_verification_parse_start(rq, &sr, &metadata) < 0) {
		FUZZ_ASSERT(rq->status == 400, NULL, 0);
		free(metadata);
		return;
	}
	fuzz_check_start(&sr);
	if (sr.metadata) {
		m = json_loads(sr.metadata, 0, NULL);
		FUZZ_ASSERT(json_is_object(m), sr.metadata, strlen(sr.metadata));
		json_decref(m);
	}
	FUZZ_ASSERT(sr.idem_key != NULL || request_param(rq, "HTTP_IDEMPOTENCY_KEY") == NULL, NULL, 0);
	free(metadata);
}

static void verify(struct request *rq, const char *path_id)
{
	const char *id;
	char code[VERIFY_CODE_INPUT_MAX + 1];

	if (api_verification_parse_verify(rq, path_id, &id, code) < 0) {
		FUZZ_ASSERT(rq->status == 400, NULL, 0);
		return;
	}
	FUZZ_ASSERT(id != NULL && (path_id == NULL || id == path_id), NULL, 0);
	FUZZ_ASSERT(code[0] && strpbrk(code, " -abcdefghijklmnopqrstuvwxyz") == NULL, code,
		    strlen(code));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const params[] = { "REQUEST_METHOD=POST", "HTTP_IDEMPOTENCY_KEY=k-1" };
	struct fuzz_fcgx r;
	struct request rq;
	char msg[256];
	int route;

	if (size < 1)
		return 0;
	route = data[0] % 3;
	fuzz_fcgx_init(&r, params, data[0] & 0x80 ? 2 : 1, NULL, 0);
	request_begin(&rq, &r.fx, &g_cfg, NULL);
	rq.json = jsonx_parse_object((const char *)data + 1, size - 1, msg, sizeof msg);
	if (rq.json == NULL) {
		FUZZ_ASSERT(msg[0] != '\0', NULL, 0);
		request_error(&rq, 400, "INVALID_REQUEST", msg, NULL, NULL);
	} else if (route == 0) {
		rq.route = "/v1/verifications/email";
		start(&rq);
	} else if (route == 1) {
		rq.route = "/v1/verifications/email/verify";
		verify(&rq, NULL);
	} else {
		rq.route = "/v1/verifications/email/{id}/verify";
		verify(&rq, "ev_0123456789ABCDEFGHJKMNPQRS");
	}
	if (rq.status)
		FUZZ_ASSERT(fuzz_check_answer(fuzz_fcgx_answer(&r), 0) == rq.status, NULL, 0);
	request_end(&rq);
	fuzz_fcgx_free(&r);
	return 0;
}
