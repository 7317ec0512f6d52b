/* Handlers of the /v1/verifications/email routes: parse, call verify_, answer. */
#ifndef MAILPROOF_API_VERIFICATION_H
#define MAILPROOF_API_VERIFICATION_H

#include "router.h"
#include "verify.h"

struct request;


void api_verification_start(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_list(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_resend(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_cancel(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
/* Both verify routes: the id comes from the path or from "verificationId". */
void api_verification_verify(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);

/*
 * The parsers of the routes' input, one per route that has any, exposed
 * for tests/fuzz/fuzz_json.c and fuzz_request.c.  Each reads rq (its
 * parameters, and rq->json, which api_prepare() parsed), fills what it is
 * given and returns 0, or answers 400 and returns -1.  They touch no
 * database.
 */

/*
 * The body of a start.  sr's strings point into rq->json, but metadata,
 * which is *metadata: the caller frees it in either case (NULL when absent).
 */
int api_verification_parse_start(struct request *rq, struct verify_start_req *sr,
				 char **metadata);

/*
 * The body of either verify route (which one: rq->route).  *id is path_id
 * when the route has {id}, else points into rq->json; code is the
 * normalized code.
 */
int api_verification_parse_verify(struct request *rq, const char *path_id, const char **id,
				  char code[VERIFY_CODE_INPUT_MAX + 1]);

/* The query of a list: its filters as the statement's parameters, and the page size. */
struct api_list_query {
	const char *q[5];	/* email, userId, status, cursor time, cursor id; NULL when absent */
	int limit;
	char email[256], user[520], status[16], micros[24], cid[40];
};

int api_verification_parse_list(struct request *rq, struct api_list_query *lq);

#endif
