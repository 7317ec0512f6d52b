/*
 * The HTTP API: the route table, and the checks every route shares (route,
 * method, key, scope, media type, body size, JSON) before its handler runs.
 */
#ifndef MAILPROOF_API_H
#define MAILPROOF_API_H

#include "router.h"

struct request;

/* Answers rq, whatever it holds. */
void api_handle(struct request *rq);

/*
 * What api_handle() does before a route's handler, and all of it that reads
 * the request without the database: finds the route (404, 405), checks the
 * shape of the API key (401), the media type (415), reads the body (413,
 * 400) and parses it into rq->json for JSON routes (400).  Returns the
 * route with args filled, or NULL after answering.  Exposed for
 * tests/fuzz/fuzz_request.c.
 */
const struct route *api_prepare(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);

#endif
