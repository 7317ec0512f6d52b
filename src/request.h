/*
 * One FastCGI request: its parameters, a capped body, and the answer
 * (status line, headers, JSON envelope).  Routing reads REQUEST_URI, which
 * lighttpd, mod_fcgid and mod_proxy_fcgi all pass the same way, less the
 * configured mount prefix.
 */
#ifndef MAILPROOF_REQUEST_H
#define MAILPROOF_REQUEST_H

#include <stdint.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "buf.h"

struct config;
struct db;

#define REQUEST_PATH_MAX 1024

/* The API key of a request, as auth_prepare() sets it; see auth.h. */
struct auth_ctx {
	unsigned scopes;			/* what the route needs */
	char key_hash[2 + 2 * 32 + 1];		/* under secret_key, a bytea literal */
	char key_hash_prev[2 + 2 * 32 + 1];	/* under secret_key_previous */
	char limit[16];				/* rate_per_key_per_minute */
	const char *params[3];			/* the three above, as statement parameters */
};

struct request {
	FCGX_Request *fx;
	const struct config *cfg;
	struct db *db;
	char method[16];
	char path[REQUEST_PATH_MAX];	/* routed path; empty when outside the prefix */
	char request_id[72];
	const char *route;		/* pattern that matched, for the log */
	struct buf body;
	json_t *json;			/* parsed body of json_body routes */
	struct auth_ctx auth;
	int status;			/* 0 until answered */
	int64_t t0;
};

void request_begin(struct request *rq, FCGX_Request *fx, const struct config *cfg, struct db *db);
/* Frees what the request holds and writes its log line. */
void request_end(struct request *rq);

const char *request_param(const struct request *rq, const char *name);

/*
 * Finds query parameter name and percent-decodes it into out.  Returns 1
 * when present, 0 when absent, -1 when it is malformed, too long for out,
 * or decodes to a control character.
 */
int request_query(const struct request *rq, const char *name, char *out, size_t outlen);

/* Like request_query, for a form-urlencoded body already read. */
int request_form(const struct request *rq, const char *name, char *out, size_t outlen);

/*
 * The client's address: REMOTE_ADDR, or, when that is one of
 * trusted_proxies, the nearest address in X-Forwarded-For that is not.
 */
void request_client_ip(const struct request *rq, char *out, size_t outlen);

/*
 * Fails (-1, naming it in msg) when the query has a parameter not in the
 * NULL-terminated list allowed.
 */
int request_query_only(const struct request *rq, const char *const *allowed, char *msg,
		       size_t msglen);

/*
 * Reads the body (at most max_body_bytes).  Returns 0, or -1 after
 * answering 413 or 400.
 */
int request_read_body(struct request *rq);

/*
 * Answers status with content type and body.  headers is NULL or more
 * "Name: value\r\n" lines.  HEAD requests get no body.
 */
void request_reply(struct request *rq, int status, const char *ctype, const char *headers,
		   const char *body, size_t len);
/* Answers {"success":true,"data":data}; steals data. */
void request_ok(struct request *rq, int status, json_t *data);
/* Same, with data already serialized as a JSON object. */
void request_ok_raw(struct request *rq, int status, const char *data_json);
/* Answers the error envelope; steals details (may be NULL). */
void request_error(struct request *rq, int status, const char *code, const char *message,
		   json_t *details, const char *headers);
/* Answers 503 or 500 for a failed database call (err is an enum db_err). */
void request_db_error(struct request *rq, int err);
/*
 * Answers 429 RATE_LIMITED for limit (its name, as details.limit says it)
 * of max, which lets the next request through in retry_after seconds:
 * Retry-After, details {limit, max, retryAt, retryAfterSeconds}, and a
 * message that says it in words: what is counted, such as "Verification
 * mails to this address this hour", which the message follows with ": 5,
 * the most allowed"; or, with what NULL, the sentence said, whole.
 */
void request_rate_limited(struct request *rq, const char *limit, int max, const char *what,
			  const char *said, int retry_after);

#endif
