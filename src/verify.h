/*
 * The verification routes' work.  Every transition is a function of
 * sql/lifecycle.sql, called in one statement that also checks the API key
 * and writes the outbox event; this module makes the secrets and their
 * keyed hashes, sends or queues the mail, runs the statement and says what
 * it came to: an outcome and a result, which api_verification.c answers in
 * JSON (docs/openapi.yaml) and hosted.c as a page.  It answers nothing.
 */
#ifndef MAILPROOF_VERIFY_H
#define MAILPROOF_VERIFY_H

#include "db_api.h"
#include "locale.h"
#include "secret.h"
#include "token.h"
#include "util.h"
#include "vstatus.h"

struct auth_ctx;
struct config;
struct db;
struct db_verify_code;

/*
 * What the routes need of the request that calls them.  key is its API key
 * (auth.h), which every route but verify_code() needs; the hosted page
 * checks codes without one.
 */
struct verify_ctx {
	const struct config *cfg;
	struct db *db;
	const struct auth_ctx *key;
	const char *request_id;		/* for the log lines of this request */
};

/* A validated start request (api_verification.c checks every field). */
struct verify_start_req {
	const char *email;
	enum secret_kind kind;		/* of method: OTP, MAGIC_LINK, CODE_AND_LINK */
	const char *redirect_url;	/* with a link only; NULL: the hosted result page */
	const char *user_id;		/* NULL when absent */
	const char *alphabet;		/* TOKEN_FORMAT_*; NULL for hex */
	const char *token_format;	/* its name */
	int code_length;		/* TOKEN_HEX_CODE_LEN for hex */
	char custom_code[TOKEN_CODE_MAX + 1];	/* customCode, normalized; "" when absent */
	const char *delivery;		/* smtp, none or webhook */
	int expires_seconds;
	int max_attempts;
	const char *subject;		/* NULL: the default */
	const char *verification_line;	/* NULL: the default */
	char locale[LOCALE_TAG_MAX];	/* the one we have for the request's; "": the tenant's */
	const char *metadata;		/* serialized JSON object, or NULL */
	char client_ip[UTIL_IP_MAX];	/* of the person, as the application saw it; "" */
	const char *user_agent;		/* theirs, NULL when absent */
	const char *idem_key;		/* NULL when absent */
	unsigned char idem_hash[TOKEN_HASH_BYTES];	/* of the canonical body */
};

/*
 * The language of a start that asked for tag: the first of its fallback
 * chain that template_dir has a catalogue for, or "" when none (the
 * tenant's default applies, then English).  -1 for a malformed tag.
 */
int verify_locale(const struct config *cfg, const char *tag, char out[LOCALE_TAG_MAX]);

/* True when id has the shape of a verification id (ev_ + 26 base32). */
int verify_id_valid(const char *id);

/*
 * Longest code text accepted before normalization: codes are 4-12 long, or
 * 64 hex digits, which may come pasted with spaces.
 */
#define VERIFY_CODE_INPUT_MAX 128

/*
 * Normalizes a submitted code in place: drops white space (what a pasted
 * code brings along) and hyphens, upper-cases letters (codes are checked
 * case-insensitively).
 */
void verify_normalize_code(char *code);

/* What a route came to. */
enum verify_outcome {
	VO_OK,			/* started, resent, canceled, or the right code */
	VO_SEND_FAILED,		/* the mail server refused the mail: the verification failed */
	VO_INVALID_CODE,	/* a wrong code; remaining says how many tries are left */
	VO_ATTEMPTS_EXHAUSTED,	/* a wrong code, the last one allowed: now FAILED */
	VO_EXPIRED,		/* refused, the verification being no longer PENDING: */
	VO_ALREADY_VERIFIED,
	VO_CANCELED,
	VO_FAILED,
	VO_NOT_FOUND,
	VO_REDIRECT_NOT_ALLOWED,	/* not under one of the tenant's redirect prefixes */
	VO_REPLAY,		/* a start with a used Idempotency-Key: the answer it had */
	VO_IDEM_CONFLICT,	/* that key with another body */
	VO_IDEM_IN_PROGRESS,	/* that key, its first request still running */
	VO_RECOVERED,		/* that key, its first answer lost: verify_start() answers
				   VO_OK or VO_SEND_FAILED with what became of it */
	VO_RATE_FAILED,		/* too many wrong codes for the address; retry_after */
	VO_RATE_EMAIL,		/* too many mails for the address; retry_after */
	VO_RATE_CLIENT_IP,	/* too many starts from the person's address; retry_after */
	VO_RATE_CLIENT_NETWORK,	/* too many starts from its network (/24, /56) */
	VO_RATE_CLIENT_ADDRESSES,	/* too many addresses asked for by the person today */
	VO_CLIENT_IP_REQUIRED,	/* the tenant requires clientIp on a start */
	VO_COOLDOWN,		/* a resend too soon after the last mail; retry_after */
	VO_SUPPRESSED,		/* the address is on the tenant's suppression list */
	VO_QUOTA,
	VO_DISPOSABLE,
	VO_UNDELIVERABLE,
	VO_CUSTOM_CODE_IN_USE,	/* customCode: the address has a PENDING verification with it */
	VO_NO_WEBHOOK,		/* delivery webhook, but the tenant has no endpoint */
	VO_KEY_REFUSED,		/* the API key may not do this; key says why */
	VO_UNAVAILABLE,		/* the database cannot be reached */
	VO_ERROR,		/* anything else, logged where it failed */
	VO__COUNT
};

/* What goes with an outcome.  The routes fill it; verify_result_free() empties it. */
struct verify_result {
	char *verification;	/* VO_OK, VO_SEND_FAILED: as GET shows it (JSON text) */
	int sent;		/* VO_OK of a start or resend: mailed now, not queued */
	int recovered;		/* a start answered again after its answer was lost */
	char did_you_mean[320];	/* a start to a likely typo: the address meant, else "" */
	int remaining;		/* VO_INVALID_CODE: attempts left */
	int retry_after;	/* VO_RATE_*: seconds */
	int limit_max;		/* VO_RATE_*: the limit's number */
	char *replay;		/* VO_REPLAY: the answer remembered, */
	int replay_status;	/* and its status */
	struct db_auth key;	/* VO_KEY_REFUSED */
	char tenant[24];	/* a start's tenant, for verify_remember() */
	int handed_over;	/* VO_OK of delivery none: the code or link is in handed, */
	struct secret handed;	/* for the answer only; wiped by verify_result_free() */
};

void verify_result_free(struct verify_result *res);

/*
 * Checks code against verification id: of the key's tenant, or of any
 * tenant when ctx has no key (the hosted page, where the unguessable id is
 * the credential).  VO_OK (verified), VO_INVALID_CODE,
 * VO_ATTEMPTS_EXHAUSTED, a refusal, VO_NOT_FOUND or a failure.
 */
enum verify_outcome verify_code(const struct verify_ctx *ctx, const char *id, const char *code,
				struct verify_result *res);

/* Starts a verification and sends or queues its mail; VO_OK, VO_SEND_FAILED or why not. */
enum verify_outcome verify_start(const struct verify_ctx *ctx, const struct verify_start_req *sr,
				 struct verify_result *res);

/* A new code and expiry for a PENDING verification, mailed as a start's. */
enum verify_outcome verify_resend(const struct verify_ctx *ctx, const char *id,
				  struct verify_result *res);

/* PENDING -> CANCELED; VO_OK with the verification after. */
enum verify_outcome verify_cancel(const struct verify_ctx *ctx, const char *id,
				  struct verify_result *res);

/*
 * Remembers the answer (status and body text) to a start with an
 * Idempotency-Key: a repeat of that start is answered with it (VO_REPLAY).
 */
void verify_remember(const struct verify_ctx *ctx, const char *tenant, const char *idem_key,
		     int status, const char *answer);

/* The refusal of a verification whose stored and effective status is not PENDING. */
enum verify_outcome verify_refusal(enum verification_status stored,
				   enum verification_status eff);

/* An outcome word of mp_start() or mp_resend() but "refused"; VO_ERROR for any other. */
enum verify_outcome verify_outcome_of(const char *word);

/* What a code check's row came to. */
enum verify_outcome verify_code_outcome(const struct db_verify_code *cc);

#endif
