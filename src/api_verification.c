/* See api_verification.h. */
#include "api_verification.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "db_api.h"
#include "jsonx.h"
#include "mail_verification.h"
#include "request.h"
#include "token.h"
#include "util.h"
#include "verify.h"
#include "vstatus.h"

#define METADATA_MAX_BYTES 2048
#define LIST_DEFAULT 20
#define LIST_MAX 100

/* The error each outcome that is no success answers; see answer_refusal(). */
static const struct refusal {
	int status;
	const char *code;	/* for a 429, the limit's name */
	const char *message;	/* for a 429, what it counts */
} g_refusals[VO__COUNT] = {
	[VO_INVALID_CODE] = { 422, "INVALID_CODE", "wrong code" },
	[VO_ATTEMPTS_EXHAUSTED] = { 422, "MAX_ATTEMPTS_EXCEEDED",
				    "wrong code; no attempts remain and the verification has failed" },
	[VO_EXPIRED] = { 410, "VERIFICATION_EXPIRED", "the verification has expired" },
	[VO_ALREADY_VERIFIED] = { 409, "ALREADY_VERIFIED", "the verification is already verified" },
	[VO_CANCELED] = { 409, "VERIFICATION_CANCELED", "the verification was canceled" },
	[VO_FAILED] = { 409, "VERIFICATION_FAILED", "the verification has failed" },
	[VO_NOT_FOUND] = { 404, "VERIFICATION_NOT_FOUND", "no such verification" },
	[VO_REDIRECT_NOT_ALLOWED] = {
		400, "REDIRECT_NOT_ALLOWED",
		"redirectUrl does not match an allowed redirect prefix of this account" },
	[VO_IDEM_CONFLICT] = { 409, "IDEMPOTENCY_CONFLICT",
			       "this Idempotency-Key was used with another request body" },
	[VO_IDEM_IN_PROGRESS] = { 409, "IDEMPOTENCY_CONFLICT",
				  "a request with this Idempotency-Key is still in progress" },
	[VO_RATE_FAILED] = { 429, "failed_attempts_per_email_per_day",
			     "Wrong codes for this address today" },
	[VO_RATE_EMAIL] = { 429, "per_email_per_hour",
			    "Verification mails to this address this hour" },
	[VO_RATE_CLIENT_IP] = { 429, "per_client_ip_per_hour",
				"Verifications started this hour by this person (clientIp)" },
	[VO_RATE_CLIENT_NETWORK] = { 429, "per_client_network_per_hour",
				     "Verifications started this hour from this person's network "
				     "(the /24 or /56 of clientIp)" },
	[VO_RATE_CLIENT_ADDRESSES] = { 429, "addresses_per_client_ip_per_day",
				       "Different addresses this person (clientIp) asked to verify "
				       "today" },
	[VO_COOLDOWN] = { 429, "resend_cooldown", NULL },
	[VO_SUPPRESSED] = { 422, "EMAIL_SUPPRESSED",
			    "this address is on this account's suppression list: no mail is sent "
			    "to it" },
	[VO_CLIENT_IP_REQUIRED] = { 400, "INVALID_REQUEST",
				    "'clientIp' is required: this account asks every start to say "
				    "who is asking" },
	[VO_QUOTA] = { 402, "QUOTA_EXCEEDED", "the monthly quota of this account is used up" },
	[VO_DISPOSABLE] = { 422, "DISPOSABLE_EMAIL",
			    "addresses at disposable mail domains are not accepted" },
	[VO_UNDELIVERABLE] = { 422, "UNDELIVERABLE_EMAIL",
			       "the address's domain does not receive mail" },
	[VO_CUSTOM_CODE_IN_USE] = { 409, "CUSTOM_CODE_IN_USE",
				    "this address has a PENDING verification with this customCode; "
				    "choose another code" },
	[VO_NO_WEBHOOK] = { 422, "WEBHOOK_NOT_CONFIGURED",
			    "delivery webhook needs this account's webhook URL, set and enabled "
			    "(mailproofctl tenant update --webhook-url)" },
};

static void internal_error(struct request *rq)
{
	request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
}

/* Answers the error of g_refusals for o, without details; 500 for one it lacks. */
static void refuse(struct request *rq, enum verify_outcome o)
{
	const struct refusal *f = &g_refusals[o];

	if (f->status)
		request_error(rq, f->status, f->code, f->message, NULL, NULL);
	else
		internal_error(rq);
}

/* Answers an outcome that is no success, with what its result adds. */
static void answer_refusal(struct request *rq, enum verify_outcome o,
			   const struct verify_result *res)
{
	const struct refusal *f = &g_refusals[o];

	if (o == VO_REPLAY)
		request_reply(rq, res->replay_status, "application/json",
			      "Idempotent-Replayed: true\r\n", res->replay, strlen(res->replay));
	else if (o == VO_KEY_REFUSED)
		auth_refused(rq, &res->key);
	else if (o == VO_UNAVAILABLE)
		request_db_error(rq, DB_UNAVAILABLE);
	else if (o == VO_INVALID_CODE || o == VO_ATTEMPTS_EXHAUSTED)
		request_error(rq, f->status, f->code, f->message,
			      json_pack("{s:i}", "attemptsRemaining", res->remaining), NULL);
	else if (o == VO_COOLDOWN) {
		char said[160];
		snprintf(said, sizeof said, "A new mail of a verification can be asked for %d seconds "
			 "after the last one", res->limit_max);
		request_rate_limited(rq, f->code, res->limit_max, NULL, said, res->retry_after);
	} else if (f->status == 429)
		request_rate_limited(rq, f->code, res->limit_max, f->message, NULL, res->retry_after);
	else
		refuse(rq, o);
}

/*
 * The answer to a start or resend that stored its verification: ok_status
 * (201 or 200) with the verification, "sent" and "hostedVerifyUrl" added,
 * and the code or link handed over (delivery none); or 502
 * EMAIL_SEND_FAILED naming it.  Returns the envelope text (caller frees
 * and wipes) and sets *status; NULL when the verification cannot be read.
 * With kept, a code handed over is shown once: *kept is the answer without
 * it, to remember for a replay (caller frees), else NULL.
 */
static char *sent_answer(const struct config *cfg, enum verify_outcome o,
			 const struct verify_result *res, int ok_status, char **kept, int *status)
{
	json_t *v = res->verification ? json_loads(res->verification, 0, NULL) : NULL, *d;
	char url[MAIL_URL_MAX];
	const char *id, *method, *delivery;
	int sent = res->sent;

	if (v == NULL || (id = json_string_value(json_object_get(v, "id"))) == NULL) {
		json_decref(v);
		return NULL;
	}
	if (res->recovered) {
		/* answered again later: whether the mail went is what was recorded */
		delivery = json_string_value(json_object_get(json_object_get(v, "delivery"),
							     "status"));
		/* DELAYED and BOUNCED came after the relay had taken it */
		sent = delivery && (strcmp(delivery, "SENT") == 0 || strcmp(delivery, "DELAYED") == 0 ||
				    strcmp(delivery, "BOUNCED") == 0);
	}
	mail_hosted_url(cfg, id, url);
	json_object_set_new(v, "sent", json_boolean(sent));
	if (res->did_you_mean[0])
		json_object_set_new(v, "didYouMean", json_string(res->did_you_mean));
	if (!res->recovered) {
		/* a start or resend just mailed: when the next resend is allowed */
		char at[UTIL_TIME_MAX];
		util_time_text((long long)time(NULL) + cfg->resend_cooldown_seconds, at);
		json_object_set_new(v, "resendAvailableAt", json_string(at));
	}
	method = json_string_value(json_object_get(v, "method"));
	json_object_set_new(v, "hostedVerifyUrl", method && strcmp(method, "MAGIC_LINK") != 0
						  ? json_string(url) : json_null());
	if (o == VO_OK) {
		*status = ok_status;
		if (res->handed_over) {
			if (kept)
				*kept = jsonx_ok(json_incref(v));
			json_object_set_new(v, "code", res->handed.code[0] ?
					    json_string(res->handed.code) : json_null());
			json_object_set_new(v, "link", res->handed.link[0] ?
					    json_string(res->handed.link) : json_null());
		}
		return jsonx_ok(v);
	}
	*status = 502;
	d = json_pack("{s:O,s:O}", "verificationId", json_object_get(v, "id"), "delivery",
		      json_object_get(v, "delivery"));
	json_decref(v);
	return jsonx_error("EMAIL_SEND_FAILED",
			   "the mail server did not accept the message; the verification has failed",
			   d);
}

/*
 * Answers a start or resend from its outcome.  The answer to a start with
 * an Idempotency-Key (idem_key, else NULL) is remembered before it is sent,
 * so that a retry of it is a replay.
 */
static void answer_sent(struct request *rq, const struct verify_ctx *ctx, enum verify_outcome o,
			const struct verify_result *res, int ok_status, const char *idem_key)
{
	char *text, *kept = NULL;
	int status;

	if (o != VO_OK && o != VO_SEND_FAILED) {
		answer_refusal(rq, o, res);
		return;
	}
	if ((text = sent_answer(rq->cfg, o, res, ok_status, idem_key ? &kept : NULL,
				&status)) == NULL) {
		free(kept);
		internal_error(rq);
		return;
	}
	if (idem_key && (kept || !res->handed_over))
		verify_remember(ctx, res->tenant, idem_key, status, kept ? kept : text);
	request_reply(rq, status, "application/json",
		      res->recovered ? "Idempotent-Replayed: true\r\n" : NULL, text, strlen(text));
	sodium_memzero(text, strlen(text));
	free(text);
	free(kept);
}

/* The answer to a right code: what the verification now is. */
static void answer_verified(struct request *rq, const struct verify_result *res)
{
	json_t *v = res->verification ? json_loads(res->verification, 0, NULL) : NULL;

	if (v == NULL) {
		internal_error(rq);
		return;
	}
	request_ok(rq, 200, json_pack("{s:O?,s:s,s:O?,s:O?,s:O?}", "id", json_object_get(v, "id"),
				      "status", vstatus_name(VS_VERIFIED), "email",
				      json_object_get(v, "email"), "userId",
				      json_object_get(v, "userId"), "verifiedAt",
				      json_object_get(v, "verifiedAt")));
	json_decref(v);
}

void api_verification_get(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	/* a malformed id is looked up like any other: the key is counted either way */
	const char *params[AUTH_PARAMS + 1] = { [AUTH_PARAMS] = args[0] };
	const char *body;
	PGresult *r;

	if ((r = auth_run(rq, DB_API_GET, params)) == NULL)
		return;
	if ((body = db_api_get(r)) != NULL)
		request_ok_raw(rq, 200, body);
	else
		refuse(rq, VO_NOT_FOUND);
	PQclear(r);
}

int api_verification_parse_verify(struct request *rq, const char *path_id, const char **id,
				  char code[VERIFY_CODE_INPUT_MAX + 1])
{
	static const char *const path_fields[] = { "code", NULL };
	static const char *const body_fields[] = { "verificationId", "code", NULL };
	int id_in_path = strstr(rq->route, "{id}") != NULL;
	const char *text;
	char msg[160];

	*id = path_id;
	if (jsonx_only_members(rq->json, id_in_path ? path_fields : body_fields, msg,
			       sizeof msg) < 0)
		goto bad;
	if (!id_in_path) {
		int got = jsonx_get_string(rq->json, "verificationId", 64, id, msg, sizeof msg);
		if (got < 0)
			goto bad;
		if (got == 0) {
			snprintf(msg, sizeof msg, "'verificationId' is required");
			goto bad;
		}
	}
	switch (jsonx_get_string(rq->json, "code", VERIFY_CODE_INPUT_MAX, &text, msg, sizeof msg)) {
	case -1:
		goto bad;
	case 0:
		snprintf(msg, sizeof msg, "'code' is required");
		goto bad;
	}
	snprintf(code, VERIFY_CODE_INPUT_MAX + 1, "%s", text);
	verify_normalize_code(code);
	if (code[0] == '\0') {
		snprintf(msg, sizeof msg, "'code' must not be empty");
		goto bad;
	}
	return 0;
bad:
	request_error(rq, 400, "INVALID_REQUEST", msg, NULL, NULL);
	return -1;
}

void api_verification_verify(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const struct verify_ctx ctx = { rq->cfg, rq->db, &rq->auth, rq->request_id };
	const char *id;
	char code[VERIFY_CODE_INPUT_MAX + 1];
	struct verify_result res;
	enum verify_outcome o;

	if (api_verification_parse_verify(rq, args[0], &id, code) < 0)
		return;
	if ((o = verify_code(&ctx, id, code, &res)) == VO_OK)
		answer_verified(rq, &res);
	else
		answer_refusal(rq, o, &res);
	verify_result_free(&res);
}

/* Reads an optional string field free of control characters (no CR/LF to smuggle a header). */
static int text_field(json_t *body, const char *name, size_t maxlen, const char **out,
		      char *msg, size_t msglen)
{
	int got = jsonx_get_string(body, name, maxlen, out, msg, msglen);

	if (got == 1 && !util_no_controls(*out)) {
		snprintf(msg, msglen, "'%s' must not contain control characters or line breaks", name);
		return -1;
	}
	return got;
}

/*
 * Checks a customCode against its format: 4 to 12 characters of it (any
 * letter case, spaces and hyphens dropped, as a typed code is), kept in
 * code normalized.  0, or -1 with msg.
 */
static int custom_code(const char *given, struct verify_start_req *sr, char *msg, size_t msglen)
{
	char code[VERIFY_CODE_INPUT_MAX + 1];
	size_t n;
	int rc = -1;

	snprintf(code, sizeof code, "%s", given);
	verify_normalize_code(code);
	n = strlen(code);
	if (n < 4 || n > TOKEN_CODE_MAX || strspn(code, sr->alphabet) != n) {
		snprintf(msg, msglen, "'customCode' must be 4 to %d characters of tokenFormat %s (%s)",
			 TOKEN_CODE_MAX, sr->token_format, sr->alphabet);
	} else {
		memcpy(sr->custom_code, code, n + 1);
		sr->code_length = (int)n;
		rc = 0;
	}
	sodium_memzero(code, sizeof code);
	return rc;
}

/*
 * The method, format and code of a start: method (NULL: OTP), format
 * (NULL: numeric) and custom (a customCode, or NULL) as the body gave
 * them.  0, or -1 with msg.
 */
static int parse_method(json_t *body, const char *method, const char *format,
			const char *custom, struct verify_start_req *sr, char *msg, size_t msglen)
{
	static const struct {
		const char *name, *alphabet;
	} formats[] = {
		{ "numeric", TOKEN_FORMAT_NUMERIC }, { "alpha", TOKEN_FORMAT_ALPHA },
		{ "alphanumeric", TOKEN_FORMAT_ALNUM }, { "hex", NULL },
	};
	size_t i;

	if (method == NULL || strcmp(method, "OTP") == 0) {
		sr->kind = SECRET_CODE;
	} else if (strcmp(method, "MAGIC_LINK") == 0) {
		sr->kind = SECRET_LINK;
	} else if (strcmp(method, "CODE_AND_LINK") == 0) {
		sr->kind = SECRET_CODE_AND_LINK;
	} else {
		snprintf(msg, msglen, "'method' must be OTP, MAGIC_LINK or CODE_AND_LINK");
		return -1;
	}
	if (!(sr->kind & SECRET_LINK) && json_object_get(body, "redirectUrl")) {
		snprintf(msg, msglen, "'redirectUrl' is for the MAGIC_LINK and CODE_AND_LINK methods "
			 "only");
		return -1;
	}
	if (!(sr->kind & SECRET_CODE) && (json_object_get(body, "tokenFormat") ||
					  json_object_get(body, "codeLength") || custom)) {
		snprintf(msg, msglen, "'tokenFormat', 'codeLength' and 'customCode' are for the OTP "
			 "and CODE_AND_LINK methods only");
		return -1;
	}
	for (i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(format ? format : "numeric", formats[i].name) == 0)
			break;
	if (i == sizeof formats / sizeof formats[0]) {
		snprintf(msg, msglen, "'tokenFormat' must be numeric, alpha, alphanumeric or hex");
		return -1;
	}
	sr->token_format = formats[i].name;
	sr->alphabet = formats[i].alphabet;
	if (sr->alphabet == NULL) {
		/* hex: 32 random bytes, whatever codeLength says */
		sr->code_length = TOKEN_HEX_CODE_LEN;
		if (custom) {
			snprintf(msg, msglen, "'customCode' is for tokenFormat numeric, alpha or "
				 "alphanumeric");
			return -1;
		}
	}
	return custom ? custom_code(custom, sr, msg, msglen) : 0;
}

int api_verification_parse_start(struct request *rq, struct verify_start_req *sr, char **metadata)
{
	static const char *const fields[] = {
		"email", "userId", "method", "redirectUrl", "tokenFormat", "codeLength",
		"expiresInSeconds", "maxAttempts", "subject", "verificationLine", "metadata",
		"locale", "clientIp", "userAgent", "delivery", "customCode", NULL
	};
	const struct config *cfg = rq->cfg;
	const char *method = "OTP", *format = "numeric", *redirect = NULL, *idem, *locale = NULL;
	const char *client_ip = NULL, *custom = NULL;
	json_t *body = rq->json, *meta;
	char msg[200], *canon;

	memset(sr, 0, sizeof *sr);
	*metadata = NULL;
	sr->delivery = "smtp";
	sr->code_length = cfg->default_code_length;
	sr->expires_seconds = cfg->default_expires_seconds;
	sr->max_attempts = cfg->default_max_attempts;
	if (jsonx_only_members(body, fields, msg, sizeof msg) < 0)
		goto bad;
	switch (jsonx_get_string(body, "email", 254, &sr->email, msg, sizeof msg)) {
	case -1:
		if (json_is_string(json_object_get(body, "email")))
			goto bad_email;
		goto bad;
	case 0:
		snprintf(msg, sizeof msg, "'email' is required");
		goto bad;
	}
	if (!mail_address_valid(sr->email))
		goto bad_email;
	if (text_field(body, "userId", 128, &sr->user_id, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "method", 16, &method, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "redirectUrl", 2048, &redirect, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "tokenFormat", 16, &format, msg, sizeof msg) < 0 ||
	    jsonx_get_int(body, "codeLength", 4, 12, &sr->code_length, msg, sizeof msg) < 0 ||
	    jsonx_get_int(body, "expiresInSeconds", 60, 2592000, &sr->expires_seconds, msg,
			  sizeof msg) < 0 ||
	    jsonx_get_int(body, "maxAttempts", 1, 10, &sr->max_attempts, msg, sizeof msg) < 0 ||
	    text_field(body, "subject", 200, &sr->subject, msg, sizeof msg) < 0 ||
	    text_field(body, "verificationLine", 500, &sr->verification_line, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "locale", 64, &locale, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "clientIp", UTIL_IP_MAX - 1, &client_ip, msg, sizeof msg) < 0 ||
	    text_field(body, "userAgent", 512, &sr->user_agent, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "delivery", 16, &sr->delivery, msg, sizeof msg) < 0 ||
	    jsonx_get_string(body, "customCode", 64, &custom, msg, sizeof msg) < 0)
		goto bad;
	if (client_ip && util_ip_canonical(client_ip, sr->client_ip) < 0) {
		snprintf(msg, sizeof msg, "'clientIp' must be an IPv4 or IPv6 address, such as "
			 "203.0.113.7 or 2001:db8::1");
		goto bad;
	}
	if (locale && verify_locale(cfg, locale, sr->locale) < 0) {
		snprintf(msg, sizeof msg, "'locale' must be a BCP 47 language tag, such as de or pt-BR");
		goto bad;
	}
	if (parse_method(body, method, format, custom, sr, msg, sizeof msg) < 0)
		goto bad;
	sr->redirect_url = redirect;
	if (sr->delivery == NULL)
		sr->delivery = "smtp";
	if (strcmp(sr->delivery, "smtp") != 0 && strcmp(sr->delivery, "none") != 0 &&
	    strcmp(sr->delivery, "webhook") != 0) {
		snprintf(msg, sizeof msg, "'delivery' must be smtp, none or webhook");
		goto bad;
	}
	meta = json_object_get(body, "metadata");
	if (meta && !json_is_null(meta)) {
		if (!json_is_object(meta)) {
			snprintf(msg, sizeof msg, "'metadata' must be an object");
			goto bad;
		}
		*metadata = json_dumps(meta, JSON_COMPACT);
		if (*metadata == NULL || strlen(*metadata) > METADATA_MAX_BYTES) {
			snprintf(msg, sizeof msg, "'metadata' must be at most %d bytes as JSON",
				 METADATA_MAX_BYTES);
			goto bad;
		}
		sr->metadata = *metadata;
	}
	idem = request_param(rq, "HTTP_IDEMPOTENCY_KEY");
	if (idem) {
		size_t n = strlen(idem);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)idem[i] < 0x21 || (unsigned char)idem[i] > 0x7e)
				n = 0;
		if (n == 0 || n > 255) {
			snprintf(msg, sizeof msg, "Idempotency-Key must be 1 to 255 visible ASCII characters");
			goto bad;
		}
		sr->idem_key = idem;
		/* "The same body" means the same JSON, whatever its key order. */
		if ((canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
			snprintf(msg, sizeof msg, "request body could not be read");
			goto bad;
		}
		token_hash(cfg->secret_key, "idempotency", canon, NULL, sr->idem_hash);
		free(canon);
	}
	return 0;
bad_email:
	request_error(rq, 400, "INVALID_EMAIL", "'email' must be one valid address (local@domain)",
		      NULL, NULL);
	return -1;
bad:
	request_error(rq, 400, "INVALID_REQUEST", msg, NULL, NULL);
	return -1;
}

void api_verification_start(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const struct verify_ctx ctx = { rq->cfg, rq->db, &rq->auth, rq->request_id };
	struct verify_start_req sr;
	struct verify_result res;
	enum verify_outcome o;
	char *metadata = NULL;

	if (api_verification_parse_start(rq, &sr, &metadata) == 0) {
		o = verify_start(&ctx, &sr, &res);
		answer_sent(rq, &ctx, o, &res, 201, sr.idem_key);
		verify_result_free(&res);
	}
	sodium_memzero(sr.custom_code, sizeof sr.custom_code);
	free(metadata);
}

void api_verification_resend(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const struct verify_ctx ctx = { rq->cfg, rq->db, &rq->auth, rq->request_id };
	struct verify_result res;
	enum verify_outcome o = verify_resend(&ctx, args[0], &res);

	answer_sent(rq, &ctx, o, &res, 200, NULL);
	verify_result_free(&res);
}

void api_verification_cancel(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const struct verify_ctx ctx = { rq->cfg, rq->db, &rq->auth, rq->request_id };
	struct verify_result res;
	enum verify_outcome o = verify_cancel(&ctx, args[0], &res);

	if (o == VO_OK)
		request_ok_raw(rq, 200, res.verification);
	else
		answer_refusal(rq, o, &res);
	verify_result_free(&res);
}

/* Cursor: base64url of "<created_at microseconds>.<id>". */
static int cursor_decode(const char *c, char *micros, size_t mlen, char *id, size_t idlen)
{
	char raw[96];
	size_t n;
	const char *dot, *errstr;

	if (sodium_base642bin((unsigned char *)raw, sizeof raw - 1, c, strlen(c), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	raw[n] = '\0';
	if ((dot = strchr(raw, '.')) == NULL || (size_t)(dot - raw) >= mlen)
		return -1;
	snprintf(micros, mlen, "%.*s", (int)(dot - raw), raw);
	util_parse_int(micros, 0, LLONG_MAX, &errstr);
	if (errstr || !verify_id_valid(dot + 1) || strlen(dot + 1) >= idlen)
		return -1;
	snprintf(id, idlen, "%s", dot + 1);
	return 0;
}

int api_verification_parse_list(struct request *rq, struct api_list_query *lq)
{
	static const char *const allowed[] = { "email", "userId", "status", "limit", "cursor", NULL };
	char limit[8], cursor[200], msg[160];
	const char *errstr;
	int got;

	memset(lq->q, 0, sizeof lq->q);
	lq->limit = LIST_DEFAULT;
	if (request_query_only(rq, allowed, msg, sizeof msg) < 0)
		goto bad;
	if ((got = request_query(rq, "email", lq->email, sizeof lq->email)) < 0)
		goto bad_param;
	lq->q[0] = got ? lq->email : NULL;
	if ((got = request_query(rq, "userId", lq->user, sizeof lq->user)) < 0)
		goto bad_param;
	lq->q[1] = got ? lq->user : NULL;
	if ((got = request_query(rq, "status", lq->status, sizeof lq->status)) < 0)
		goto bad_param;
	if (got) {
		enum verification_status s;

		if (vstatus_parse(lq->status, &s) < 0) {
			snprintf(msg, sizeof msg, "'status' must be one of PENDING, VERIFIED, FAILED, "
				 "EXPIRED, CANCELED");
			goto bad;
		}
		lq->q[2] = lq->status;
	}
	if ((got = request_query(rq, "limit", limit, sizeof limit)) < 0)
		goto bad_param;
	if (got) {
		lq->limit = (int)util_parse_int(limit, 1, LIST_MAX, &errstr);
		if (errstr) {
			snprintf(msg, sizeof msg, "'limit' must be an integer from 1 to %d", LIST_MAX);
			goto bad;
		}
	}
	if ((got = request_query(rq, "cursor", cursor, sizeof cursor)) < 0 ||
	    (got && cursor_decode(cursor, lq->micros, sizeof lq->micros, lq->cid,
				  sizeof lq->cid) < 0)) {
		snprintf(msg, sizeof msg, "'cursor' is not a cursor this API gave");
		goto bad;
	}
	if (got) {
		lq->q[3] = lq->micros;
		lq->q[4] = lq->cid;
	}
	return 0;
bad_param:
	snprintf(msg, sizeof msg, "a query parameter is malformed or too long");
bad:
	request_error(rq, 400, "INVALID_REQUEST", msg, NULL, NULL);
	return -1;
}

void api_verification_list(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	struct api_list_query lq;
	char rows[16];
	const char *params[AUTH_PARAMS + 6] = { [AUTH_PARAMS + 5] = rows };
	PGresult *r;
	struct db_api_list page;
	json_t *items, *data;

	if (api_verification_parse_list(rq, &lq) < 0)
		return;
	memcpy(params + AUTH_PARAMS, lq.q, sizeof lq.q);
	snprintf(rows, sizeof rows, "%d", lq.limit);
	if ((r = auth_run(rq, DB_API_LIST, params)) == NULL)
		return;
	db_api_list(r, &page);
	if ((items = json_loads(page.items, 0, NULL)) == NULL) {
		PQclear(r);
		internal_error(rq);
		return;
	}
	data = json_pack("{s:o,s:n}", "items", items, "nextCursor");
	if (page.more) {
		char raw[96], enc[sodium_base64_ENCODED_LEN(96, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
		int len = snprintf(raw, sizeof raw, "%s.%s", page.last_us, page.last_id);
		sodium_bin2base64(enc, sizeof enc, (unsigned char *)raw, (size_t)len,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		json_object_set_new(data, "nextCursor", json_string(enc));
	}
	PQclear(r);
	request_ok(rq, 200, data);
}
