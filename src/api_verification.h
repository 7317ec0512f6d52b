/* Handlers of the /v1/verifications/email routes: parse, call verify_, answer. */
#ifndef MAILPROOF_API_VERIFICATION_H
#define MAILPROOF_API_VERIFICATION_H

#include "router.h"

struct request;

void api_verification_start(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_list(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_resend(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_cancel(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
void api_verification_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
/* Both verify routes: the id comes from the path or from "verificationId". */
void api_verification_verify(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);

#endif
