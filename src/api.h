/*
 * The HTTP API: the route table, and the checks every route shares (route,
 * method, key, scope, media type, body size, JSON) before its handler runs.
 */
#ifndef MAILPROOF_API_H
#define MAILPROOF_API_H

struct request;

/* Answers rq, whatever it holds. */
void api_handle(struct request *rq);

#endif
