/*
 * The HTTP API: the route table, and the checks every route shares (route,
 * method, key, scope, media type, body size, JSON) before its handler runs.
 */
#ifndef MAILPROOF_API_H
#define MAILPROOF_API_H

struct request;

/* Answers rq, whatever it holds. */
void api_handle(struct request *rq);

/* Answers 503 or 500 for a failed database call (err is an enum db_err). */
void api_db_error(struct request *rq, int err);

/* Answers 429 RATE_LIMITED with Retry-After and details.retryAfterSeconds. */
void api_rate_limited(struct request *rq, const char *message, int retry_after);

#endif
