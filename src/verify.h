/*
 * The verification routes.  Every transition is a function of
 * sql/lifecycle.sql, called in one statement that also checks the API key
 * and writes the outbox event; this module makes the secrets and their
 * keyed hashes, runs the statement and turns its outcome into the answer
 * of docs/openapi.yaml.
 */
#ifndef MAILPROOF_VERIFY_H
#define MAILPROOF_VERIFY_H

#include <jansson.h>

#include "token.h"
#include "vstatus.h"

struct request;

/* A validated start request (api_verification.c checks every field). */
struct verify_start_req {
	const char *email;
	int magic_link;			/* method MAGIC_LINK, else OTP */
	const char *redirect_url;	/* MAGIC_LINK only; NULL: the hosted result page */
	const char *user_id;		/* NULL when absent */
	const char *alphabet;		/* TOKEN_FORMAT_* */
	const char *token_format;	/* its name */
	int code_length;
	int expires_seconds;
	int max_attempts;
	const char *subject;		/* NULL: the default */
	const char *verification_line;	/* NULL: the default */
	const char *metadata;		/* serialized JSON object, or NULL */
	const char *idem_key;		/* NULL when absent */
	unsigned char idem_hash[TOKEN_HASH_BYTES];	/* of the canonical body */
};

/* True when id has the shape of a verification id (ev_ + 26 base32). */
int verify_id_valid(const char *id);

/*
 * Normalizes a submitted code in place: drops spaces and hyphens, upper-
 * cases letters (codes are checked case-insensitively).
 */
void verify_normalize_code(char *code);

/* What checking a code came to. */
enum verify_result {
	VR_VERIFIED, VR_INVALID_CODE, VR_ATTEMPTS_EXHAUSTED, VR_FAILED, VR_EXPIRED,
	VR_ALREADY_VERIFIED, VR_CANCELED, VR_NOT_FOUND, VR_UNAVAILABLE, VR_ERROR,
	VR_ANSWERED	/* the API key was refused, and the request answered */
};

/*
 * Checks code against verification id: of the request's API key's tenant
 * when with_key (auth.h), else of any tenant (the hosted page, where the
 * unguessable id is the credential).  On VR_INVALID_CODE *remaining is
 * set; on VR_VERIFIED *verified gets the verification (caller owns it).
 */
enum verify_result verify_code(struct request *rq, const char *id, int with_key,
			       const char *code, int *remaining, json_t **verified);

/* Checks code against verification id of the request's tenant; answers rq. */
void verify_check_code(struct request *rq, const char *id, const char *code);

/* Answers a refused change from the row's stored and effective status. */
void verify_refused(struct request *rq, enum verification_status stored,
		    enum verification_status effective);

/* Starts a verification and mails its code; answers 201, 502 or an error. */
void verify_start(struct request *rq, const struct verify_start_req *sr);

/* New code and expiry for a PENDING verification, mailed; answers rq. */
void verify_resend(struct request *rq, const char *id);

/* PENDING -> CANCELED; answers the verification as GET shows it. */
void verify_cancel(struct request *rq, const char *id);

#endif
