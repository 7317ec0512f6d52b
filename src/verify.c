/* See verify.h. */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "db_verify.h"
#include "deliverability.h"
#include "jsonx.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "redirect.h"
#include "request.h"
#include "smtp.h"
#include "token.h"

#define TOKEN_LEN 43		/* base64url of 32 bytes */

/* A new secret: an OTP code, or a magic link token and its link. */
struct verify_secret {
	char code[TOKEN_CODE_MAX + 1];
	char token[TOKEN_LEN + 1];
	char link[MAIL_URL_MAX];
	char hash[TOKEN_HASH_HEX_LEN];	/* what is stored: the keyed hash */
};

int verify_id_valid(const char *id)
{
	if (strlen(id) != 3 + TOKEN_ID_CHARS || strncmp(id, "ev_", 3) != 0)
		return 0;
	for (const char *p = id + 3; *p; p++)
		if (!strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p))
			return 0;
	return 1;
}

void verify_normalize_code(char *code)
{
	char *w = code;

	for (char *r = code; *r; r++)
		if (*r != ' ' && *r != '-')
			*w++ = (char)toupper((unsigned char)*r);
	*w = '\0';
}

void verify_refused(struct request *rq, enum verification_status stored,
		    enum verification_status effective)
{
	if (effective == VS_EXPIRED)
		request_error(rq, 410, "VERIFICATION_EXPIRED", "the verification has expired", NULL, NULL);
	else if (stored == VS_VERIFIED)
		request_error(rq, 409, "ALREADY_VERIFIED", "the verification is already verified",
			      NULL, NULL);
	else if (stored == VS_CANCELED)
		request_error(rq, 409, "VERIFICATION_CANCELED", "the verification was canceled",
			      NULL, NULL);
	else
		request_error(rq, 409, "VERIFICATION_FAILED", "the verification has failed", NULL, NULL);
}

static void not_found(struct request *rq)
{
	request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
}

/* What a code check came to; see mp_check_code() in sql/lifecycle.sql. */
static enum verify_result code_outcome(const struct db_verify_code *cc, int *remaining,
				       json_t **verified)
{
	enum verify_result vr;

	if (!cc->found)
		return VR_NOT_FOUND;
	if (!cc->checked)
		return cc->eff == VS_EXPIRED ? VR_EXPIRED :
		       cc->stored == VS_VERIFIED ? VR_ALREADY_VERIFIED :
		       cc->stored == VS_CANCELED ? VR_CANCELED : VR_FAILED;
	vr = cc->result == VS_VERIFIED ? VR_VERIFIED :
	     cc->result == VS_FAILED ? VR_ATTEMPTS_EXHAUSTED : VR_INVALID_CODE;
	switch (vr) {
	case VR_VERIFIED:
		metrics_outcome(METRICS_VERIFIED);
		*verified = cc->body ? json_loads(cc->body, 0, NULL) : NULL;
		break;
	case VR_ATTEMPTS_EXHAUSTED:
		metrics_outcome(METRICS_FAILED);
		break;
	default:
		metrics_outcome(METRICS_INVALID_CODE);
		*remaining = cc->remaining;
		break;
	}
	return vr;
}

enum verify_result verify_code(struct request *rq, const char *id, int with_key, const char *code,
			       int *remaining, json_t **verified)
{
	char h1[TOKEN_HASH_HEX_LEN], h2[sizeof h1];
	const char *params[AUTH_PARAMS + 3];
	const char **p = with_key ? params + AUTH_PARAMS : params;
	struct db_verify_code cc;
	enum verify_result vr;
	enum db_err err;
	PGresult *r;

	*verified = NULL;
	token_hash_hex(rq->cfg->secret_key, "otp", id, code, h1);
	p[0] = id;
	p[1] = h1;
	p[2] = NULL;
	if (rq->cfg->have_secret_key_previous) {
		token_hash_hex(rq->cfg->secret_key_previous, "otp", id, code, h2);
		p[2] = h2;
	}
	if (with_key) {
		if ((r = auth_run(rq, DB_API_VERIFY, params)) == NULL)
			return VR_ANSWERED;
	} else if ((r = db_run(rq->db, DB_CHECK_CODE, params, &err, NULL)) == NULL) {
		return err == DB_UNAVAILABLE ? VR_UNAVAILABLE : VR_ERROR;
	}
	db_verify_code(r, with_key ? DB_API_VERIFY : DB_CHECK_CODE, &cc);
	vr = code_outcome(&cc, remaining, verified);
	PQclear(r);
	return vr;
}

void verify_check_code(struct request *rq, const char *id, const char *code)
{
	int remaining = 0;
	json_t *v = NULL;

	switch (verify_code(rq, id, 1, code, &remaining, &v)) {
	case VR_VERIFIED:
		if (v == NULL)
			break;
		request_ok(rq, 200, json_pack("{s:O?,s:s,s:O?,s:O?,s:O?}", "id",
					      json_object_get(v, "id"), "status", vstatus_name(VS_VERIFIED),
					      "email", json_object_get(v, "email"), "userId",
					      json_object_get(v, "userId"), "verifiedAt",
					      json_object_get(v, "verifiedAt")));
		break;
	case VR_INVALID_CODE:
		request_error(rq, 422, "INVALID_CODE", "wrong code",
			      json_pack("{s:i}", "attemptsRemaining", remaining), NULL);
		break;
	case VR_ATTEMPTS_EXHAUSTED:
		request_error(rq, 422, "MAX_ATTEMPTS_EXCEEDED",
			      "wrong code; no attempts remain and the verification has failed",
			      json_pack("{s:i}", "attemptsRemaining", 0), NULL);
		break;
	case VR_EXPIRED:
		verify_refused(rq, VS_PENDING, VS_EXPIRED);
		break;
	case VR_ALREADY_VERIFIED:
		verify_refused(rq, VS_VERIFIED, VS_VERIFIED);
		break;
	case VR_CANCELED:
		verify_refused(rq, VS_CANCELED, VS_CANCELED);
		break;
	case VR_FAILED:
		verify_refused(rq, VS_FAILED, VS_FAILED);
		break;
	case VR_NOT_FOUND:
		not_found(rq);
		break;
	case VR_UNAVAILABLE:
		request_db_error(rq, DB_UNAVAILABLE);
		break;
	case VR_ERROR:
		request_db_error(rq, DB_FAILED);
		break;
	case VR_ANSWERED:
		break;
	}
	json_decref(v);
}

/*
 * A new secret for verification id: an OTP code of alphabet and length, or
 * (alphabet NULL) a magic link token, only ever in the mail, and its link.
 */
static void secret_new(const struct config *cfg, const char *id, const char *alphabet,
		       int length, struct verify_secret *s)
{
	unsigned char raw[32];

	s->code[0] = '\0';
	s->token[0] = '\0';
	s->link[0] = '\0';
	if (alphabet) {
		token_code(alphabet, length, s->code);
		token_hash_hex(cfg->secret_key, "otp", id, s->code, s->hash);
		return;
	}
	token_random(raw, sizeof raw);
	sodium_bin2base64(s->token, sizeof s->token, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	mail_link_url(cfg, s->token, s->link);
	token_hash_hex(cfg->secret_key, "link", s->token, NULL, s->hash);
}

static void secret_wipe(struct verify_secret *s)
{
	sodium_memzero(s, sizeof *s);
}

/*
 * Queue mode: seals the code or token into sealed (a bytea literal) for
 * the notifier, which writes the mail when it sends it.  Returns 0, or -1
 * after a 500.
 */
static int secret_seal(struct request *rq, const struct verify_secret *s, struct buf *sealed)
{
	const char *secret = s->code[0] ? s->code : s->token;

	if (token_seal(rq->cfg->secret_key, secret, strlen(secret), sealed) < 0) {
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * The answer to a start or resend: the verification as GET shows it (JSON
 * text from the database) with "sent" and "hostedVerifyUrl" added.  Caller
 * owns the result; NULL after answering 500.
 */
static json_t *verify_with_links(struct request *rq, const char *verification_json, int sent)
{
	json_t *v = verification_json ? json_loads(verification_json, 0, NULL) : NULL;
	char url[MAIL_URL_MAX];
	const char *id, *method;

	if (v == NULL || (id = json_string_value(json_object_get(v, "id"))) == NULL) {
		json_decref(v);
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
		return NULL;
	}
	mail_hosted_url(rq->cfg, id, url);
	json_object_set_new(v, "sent", json_boolean(sent));
	method = json_string_value(json_object_get(v, "method"));
	json_object_set_new(v, "hostedVerifyUrl", method && strcmp(method, "OTP") == 0
							  ? json_string(url) : json_null());
	return v;
}

/*
 * Sends the mail and records the outcome (a failure fails the verification).
 * from is the tenant's sender override ("" for none).  Returns the
 * verification as GET shows it, with "sent" and "hostedVerifyUrl" added
 * (caller owns it), or NULL after answering 5xx.
 */
static json_t *verify_mail_and_record(struct request *rq, const char *from,
				      const struct mail_verification *vm)
{
	struct smtp_result res;
	char code[8];
	const char *params[4] = { vm->id, NULL, NULL, res.reply };
	enum db_err err;
	json_t *v;
	PGresult *r;

	mail_verification_send(rq->cfg, from, vm, &res);
	log_info("verification %s: mail %s (%d %s)", vm->id, res.ok ? "sent" : "failed", res.code,
		 res.reply);
	metrics_mail(res.ok);
	snprintf(code, sizeof code, "%d", res.code);
	params[1] = res.ok ? "true" : "false";
	params[2] = res.code ? code : NULL;
	if ((r = db_run(rq->db, DB_MAIL_RESULT, params, &err, NULL)) == NULL) {
		request_db_error(rq, err);
		return NULL;
	}
	v = verify_with_links(rq, db_verify_mail_result(r), res.ok);
	PQclear(r);
	return v;
}

/*
 * The answer to a send: 201 (or 200 for a resend) with the verification,
 * or 502 EMAIL_SEND_FAILED naming it.  Steals v; returns the envelope text
 * (caller frees) and the status, so that a start can remember it.
 */
static char *verify_send_answer(json_t *v, int ok_status, int *status)
{
	json_t *sent = json_object_get(v, "sent"), *d;

	if (json_is_true(sent)) {
		*status = ok_status;
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
 * The mail of a stored start or resend, and the answer to it: in queue mode
 * the verification as stored (stored_json, its mail waiting for the
 * notifier) with ok_status; else the mail sent now (from: the tenant's
 * sender) and its outcome (ok_status or 502).  Returns the envelope text
 * (caller frees) and sets *status, or NULL after answering an error.
 */
static char *verify_deliver(struct request *rq, const char *from,
			    const struct mail_verification *vm, const char *stored_json,
			    int ok_status, int *status)
{
	json_t *v;

	if (rq->cfg->mail_delivery == MAIL_QUEUE) {
		if ((v = verify_with_links(rq, stored_json, 0)) == NULL)
			return NULL;
		*status = ok_status;
		return jsonx_ok(v);
	}
	if ((v = verify_mail_and_record(rq, from, vm)) == NULL)
		return NULL;
	return verify_send_answer(v, ok_status, status);
}

static void reply_text(struct request *rq, int status, char *text)
{
	if (text == NULL) {
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
		return;
	}
	request_reply(rq, status, "application/json", NULL, text, strlen(text));
	free(text);
}

/* Answers a refused start or resend from its outcome word; 0 when it is no refusal. */
static int verify_limit_refusal(struct request *rq, const char *outcome, int secs)
{
	if (strcmp(outcome, "rate_failed") == 0)
		request_rate_limited(rq, "too many wrong codes for this address today", secs);
	else if (strcmp(outcome, "rate_email") == 0)
		request_rate_limited(rq, "too many verification mails for this address; try later", secs);
	else if (strcmp(outcome, "quota") == 0)
		request_error(rq, 402, "QUOTA_EXCEEDED", "the monthly quota of this account is used up",
			      NULL, NULL);
	else if (strcmp(outcome, "disposable") == 0)
		request_error(rq, 422, "DISPOSABLE_EMAIL",
			      "addresses at disposable mail domains are not accepted", NULL, NULL);
	else if (strcmp(outcome, "undeliverable") == 0)
		request_error(rq, 422, "UNDELIVERABLE_EMAIL", "the address's domain does not receive mail",
			      NULL, NULL);
	else
		return 0;
	return 1;
}

/*
 * Work that must not be done for a stranger (a DNS query, the tenant's
 * redirect prefixes) waits for the key: this checks it without counting the
 * request (the start counts it), and checks redirect_url when it is set.
 * Returns 0, or -1 after answering.
 */
static int verify_pre_start(struct request *rq, const char *redirect_url)
{
	const char *params[AUTH_PARAMS], *prefixes[64];
	PGresult *r;
	size_t n;
	int ok;

	if ((r = auth_run(rq, DB_API_REDIRECTS, params)) == NULL)
		return -1;
	n = db_verify_redirects(r, prefixes, sizeof prefixes / sizeof prefixes[0]);
	ok = redirect_url == NULL || redirect_allowed(redirect_url, prefixes, n);
	PQclear(r);
	if (!ok)
		request_error(rq, 400, "REDIRECT_NOT_ALLOWED",
			      "redirectUrl does not match an allowed redirect prefix of this account",
			      NULL, NULL);
	return ok ? 0 : -1;
}

/* Answers the start's outcome when it is not "created"; 1 when it did. */
static int verify_start_refused(struct request *rq, const struct db_verify_start *st)
{
	const char *outcome = st->outcome;

	if (strcmp(outcome, "created") == 0)
		return 0;
	if (strcmp(outcome, "replay") == 0) {
		request_reply(rq, st->replay_status, "application/json",
			      "Idempotent-Replayed: true\r\n", st->body, strlen(st->body));
	} else if (strncmp(outcome, "idem_", 5) == 0) {
		request_error(rq, 409, "IDEMPOTENCY_CONFLICT",
			      strcmp(outcome, "idem_conflict") == 0
				      ? "this Idempotency-Key was used with another request body"
				      : "a request with this Idempotency-Key is still in progress",
			      NULL, NULL);
	} else if (!verify_limit_refusal(rq, outcome, st->retry_after)) {
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
	}
	return 1;
}

void verify_start(struct request *rq, const struct verify_start_req *sr)
{
	char id[40], idem[TOKEN_HASH_HEX_LEN], len[8], ttl[16], att[8], per_hour[16], fail_day[16];
	const char *params[AUTH_PARAMS + 21], **p = params + AUTH_PARAMS;
	const char *domain = strchr(sr->email, '@') + 1, *refusal = NULL;
	enum deliverability deliverable = DELIVERABILITY_UNKNOWN;
	int disposable, queued = rq->cfg->mail_delivery == MAIL_QUEUE;
	struct mail_verification vm;
	struct verify_secret secret;
	struct db_verify_start st;
	struct buf sealed;
	PGresult *r;
	char *text;
	int status;

	token_random_id("ev_", id, sizeof id);
	secret_new(rq->cfg, id, sr->magic_link ? NULL : sr->alphabet, sr->code_length, &secret);
	buf_init(&sealed, 1024);
	if ((rq->cfg->mx_check || sr->redirect_url) && verify_pre_start(rq, sr->redirect_url) < 0)
		goto out;
	disposable = deliverability_is_disposable(rq->cfg, domain);
	if (disposable && rq->cfg->reject_disposable)
		refusal = "disposable";
	else if ((deliverable = deliverability_mx(rq->cfg, domain)) == DELIVERABILITY_NO &&
		 rq->cfg->reject_undeliverable)
		refusal = "undeliverable";
	if (queued && secret_seal(rq, &secret, &sealed) < 0)
		goto out;
	token_hex(sr->idem_hash, idem);
	snprintf(len, sizeof len, "%d", sr->code_length);
	snprintf(ttl, sizeof ttl, "%d", sr->expires_seconds);
	snprintf(att, sizeof att, "%d", sr->max_attempts);
	snprintf(per_hour, sizeof per_hour, "%d", rq->cfg->rate_per_email_per_hour);
	snprintf(fail_day, sizeof fail_day, "%d", rq->cfg->failed_attempts_per_email_per_day);
	p[0] = id;
	p[1] = sr->email;
	p[2] = sr->user_id;
	p[3] = sr->magic_link ? "MAGIC_LINK" : "OTP";
	p[4] = sr->magic_link ? NULL : sr->token_format;
	p[5] = sr->magic_link ? NULL : len;
	p[6] = secret.hash;
	p[7] = att;
	p[8] = ttl;
	p[9] = sr->magic_link ? sr->redirect_url : NULL;
	p[10] = sr->subject;
	p[11] = sr->verification_line;
	p[12] = sr->metadata;
	p[13] = queued ? sealed.data : NULL;
	p[14] = deliverability_name(deliverable);
	p[15] = disposable ? "true" : "false";
	p[16] = sr->idem_key;
	p[17] = sr->idem_key ? idem : NULL;
	p[18] = per_hour;
	p[19] = fail_day;
	p[20] = refusal;
	if ((r = auth_run(rq, DB_API_START, params)) == NULL)
		goto out;
	db_verify_start(r, &st);
	if (verify_start_refused(rq, &st)) {
		PQclear(r);
		goto out;
	}
	log_info("verification %s: started", id);
	metrics_outcome(METRICS_STARTED);
	vm.id = id;
	vm.email = sr->email;
	vm.code = sr->magic_link ? NULL : secret.code;
	vm.link = sr->magic_link ? secret.link : NULL;
	vm.subject = sr->subject;
	vm.verification_line = sr->verification_line;
	vm.ttl_seconds = sr->expires_seconds;
	text = verify_deliver(rq, st.mail_from, &vm, st.body, 201, &status);
	if (text && sr->idem_key) {
		char code[8];
		const char *ip[4] = { st.tenant_id, sr->idem_key, code, text };
		enum db_err err;
		PGresult *u;
		snprintf(code, sizeof code, "%d", status);
		if ((u = db_run(rq->db, DB_IDEM_STORE, ip, &err, NULL)) != NULL)
			PQclear(u);
	}
	PQclear(r);
	if (text)
		reply_text(rq, status, text);
out:
	secret_wipe(&secret);
	buf_free(&sealed);
}

void verify_resend(struct request *rq, const char *id)
{
	char per_hour[16], fail_day[16];
	const char *info_params[AUTH_PARAMS + 1] = { [AUTH_PARAMS] = id };
	const char *params[AUTH_PARAMS + 5], **p = params + AUTH_PARAMS;
	int queued = rq->cfg->mail_delivery == MAIL_QUEUE;
	struct mail_verification vm;
	struct verify_secret secret;
	struct db_verify_mail_info mi;
	struct db_verify_resend rs;
	struct buf sealed;
	PGresult *info, *r = NULL;
	char *text;
	int status;

	memset(&secret, 0, sizeof secret);
	buf_init(&sealed, 1024);
	if ((info = auth_run(rq, DB_API_MAIL_INFO, info_params)) == NULL)
		goto out;
	if (db_verify_mail_info(info, &mi) < 0) {
		not_found(rq);
		goto out;
	}
	secret_new(rq->cfg, id, mi.link ? NULL :
		   strcmp(mi.format, "alpha") == 0 ? TOKEN_FORMAT_ALPHA :
		   strcmp(mi.format, "alphanumeric") == 0 ? TOKEN_FORMAT_ALNUM : TOKEN_FORMAT_NUMERIC,
		   mi.code_length, &secret);
	if (queued && secret_seal(rq, &secret, &sealed) < 0)
		goto out;
	snprintf(per_hour, sizeof per_hour, "%d", rq->cfg->rate_per_email_per_hour);
	snprintf(fail_day, sizeof fail_day, "%d", rq->cfg->failed_attempts_per_email_per_day);
	p[0] = id;
	p[1] = secret.hash;
	p[2] = per_hour;
	p[3] = fail_day;
	p[4] = queued ? sealed.data : NULL;
	if ((r = auth_run(rq, DB_API_RESEND, params)) == NULL)
		goto out;
	db_verify_resend(r, &rs);
	if (strcmp(rs.outcome, "not_found") == 0) {
		not_found(rq);
		goto out;
	}
	if (strcmp(rs.outcome, "refused") == 0) {
		verify_refused(rq, rs.stored, rs.eff);
		goto out;
	}
	if (verify_limit_refusal(rq, rs.outcome, rs.retry_after))
		goto out;
	log_info("verification %s: new code%s", id, queued ? ", mail queued" : "");
	vm.id = id;
	vm.email = mi.email;
	vm.code = secret.code[0] ? secret.code : NULL;
	vm.link = secret.code[0] ? NULL : secret.link;
	vm.subject = mi.subject;
	vm.verification_line = mi.line;
	vm.ttl_seconds = mi.ttl_seconds;
	if ((text = verify_deliver(rq, mi.mail_from, &vm, rs.body, 200, &status)) != NULL)
		reply_text(rq, status, text);
out:
	secret_wipe(&secret);
	buf_free(&sealed);
	PQclear(r);
	PQclear(info);
}

void verify_cancel(struct request *rq, const char *id)
{
	const char *params[AUTH_PARAMS + 1] = { [AUTH_PARAMS] = id };
	struct db_verify_cancel c;
	PGresult *r;

	if ((r = auth_run(rq, DB_API_CANCEL, params)) == NULL)
		return;
	db_verify_cancel(r, &c);
	if (!c.found)
		not_found(rq);
	else if (c.body == NULL)
		verify_refused(rq, c.stored, c.eff);
	else {
		metrics_outcome(METRICS_CANCELED);
		request_ok_raw(rq, 200, c.body);
	}
	PQclear(r);
}
