/* See verify.h. */
#include "verify.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "deliver.h"
#include "jsonx.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "redirect.h"
#include "request.h"
#include "smtp.h"
#include "token.h"
#include "util.h"

#define DEFAULT_SUBJECT "Your verification code"
#define DEFAULT_LINE "Use this code to confirm your email address."
#define DEFAULT_LINK_SUBJECT "Confirm your email address"
#define DEFAULT_LINK_LINE "Confirm that this email address is yours."
#define LINK_MAX 600
#define MAIL_MAX_BYTES (256 * 1024)

/* What a mail needs, from a start or from the stored row for a resend. */
struct verify_mail {
	const char *id;
	const char *email;
	const char *code;		/* OTP, else NULL */
	const char *link;		/* MAGIC_LINK, else NULL */
	const char *subject;		/* NULL: default */
	const char *verification_line;	/* NULL: default */
	int ttl_seconds;
};

int verify_id_valid(const char *id)
{
	if (strlen(id) != 3 + TOK_ID_CHARS || strncmp(id, "ev_", 3) != 0)
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

void verify_refused(struct request *rq, const char *stored, const char *effective)
{
	if (strcmp(effective, "EXPIRED") == 0)
		request_error(rq, 410, "VERIFICATION_EXPIRED", "the verification has expired", NULL, NULL);
	else if (strcmp(stored, "VERIFIED") == 0)
		request_error(rq, 409, "ALREADY_VERIFIED", "the verification is already verified",
			      NULL, NULL);
	else if (strcmp(stored, "CANCELED") == 0)
		request_error(rq, 409, "VERIFICATION_CANCELED", "the verification was canceled",
			      NULL, NULL);
	else
		request_error(rq, 409, "VERIFICATION_FAILED", "the verification has failed", NULL, NULL);
}

enum verify_result verify_code(struct request *rq, const char *id, const char *tenant,
			       const char *code, int *remaining, json_t **verified)
{
	char h1[TOK_HASH_HEX_LEN], h2[sizeof h1];
	const char *params[4] = { id, tenant, h1, NULL };
	const char *after, *before, *stored, *errstr;
	enum verify_result vr;
	enum db_err err;
	PGresult *r;

	*verified = NULL;
	if (!verify_id_valid(id))
		return VR_NOT_FOUND;
	tok_hash_hex(rq->cfg->secret_key, "otp", id, code, h1);
	if (rq->cfg->have_secret_key_previous) {
		tok_hash_hex(rq->cfg->secret_key_previous, "otp", id, code, h2);
		params[3] = h2;
	}
	if ((r = db_run(rq->db, DB_VERIFY_CODE, params, &err, NULL)) == NULL)
		return err == DB_UNAVAILABLE ? VR_UNAVAILABLE : VR_ERROR;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return VR_NOT_FOUND;
	}
	stored = PQgetvalue(r, 0, 0);
	before = PQgetvalue(r, 0, 1);
	after = PQgetvalue(r, 0, 2);
	if (PQgetisnull(r, 0, 2))
		vr = strcmp(before, "EXPIRED") == 0 ? VR_EXPIRED :
		     strcmp(stored, "VERIFIED") == 0 ? VR_ALREADY_VERIFIED :
		     strcmp(stored, "CANCELED") == 0 ? VR_CANCELED : VR_FAILED;
	else if (strcmp(after, "VERIFIED") == 0)
		vr = VR_VERIFIED;
	else if (strcmp(after, "FAILED") == 0)
		vr = VR_ATTEMPTS_EXHAUSTED;
	else
		vr = VR_INVALID_CODE;
	switch (vr) {
	case VR_VERIFIED:
		log_info("verification %s: PENDING -> VERIFIED", id);
		metrics_outcome(METRICS_VERIFIED);
		*verified = json_loads(PQgetvalue(r, 0, 4), 0, NULL);
		break;
	case VR_ATTEMPTS_EXHAUSTED:
		log_info("verification %s: PENDING -> FAILED (attempts exhausted)", id);
		metrics_outcome(METRICS_FAILED);
		break;
	case VR_INVALID_CODE:
		metrics_outcome(METRICS_INVALID_CODE);
		*remaining = (int)util_parse_int(PQgetvalue(r, 0, 3), 0, 10, &errstr);
		break;
	default:
		break;
	}
	PQclear(r);
	return vr;
}

void verify_check_code(struct request *rq, const char *id, const char *code)
{
	int remaining = 0;
	json_t *v = NULL;

	switch (verify_code(rq, id, rq->auth.tenant_id, code, &remaining, &v)) {
	case VR_VERIFIED:
		if (v == NULL)
			break;
		request_ok(rq, 200, json_pack("{s:O?,s:s,s:O?,s:O?,s:O?}", "id",
					      json_object_get(v, "id"), "status", "VERIFIED",
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
		verify_refused(rq, "PENDING", "EXPIRED");
		break;
	case VR_ALREADY_VERIFIED:
		verify_refused(rq, "VERIFIED", "VERIFIED");
		break;
	case VR_CANCELED:
		verify_refused(rq, "CANCELED", "CANCELED");
		break;
	case VR_FAILED:
		verify_refused(rq, "FAILED", "FAILED");
		break;
	case VR_NOT_FOUND:
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		break;
	case VR_UNAVAILABLE:
		api_db_error(rq, DB_UNAVAILABLE);
		break;
	case VR_ERROR:
		api_db_error(rq, DB_FAILED);
		break;
	}
	json_decref(v);
}

/*
 * A new magic link secret: token (43 base64url characters, only ever in
 * the mail), the link, and the keyed hash stored for it (hex bytea).
 */
static void link_secret(const struct config *cfg, char token[48], char link[LINK_MAX],
			char hash[TOK_HASH_HEX_LEN])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, 48, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	snprintf(link, LINK_MAX, "%s/v1/link/%s", cfg->public_base_url, token);
	tok_hash_hex(cfg->secret_key, "link", token, NULL, hash);
}

/* True when url is one of the tenant's redirect prefixes; -1 after a 503/500. */
static int redirect_ok(struct request *rq, const char *url)
{
	const char *params[1] = { rq->auth.tenant_id };
	const char *prefixes[64];
	enum db_err err;
	PGresult *r;
	int n, ok;

	if ((r = db_run(rq->db, DB_TENANT_REDIRECTS, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return -1;
	}
	n = PQntuples(r) < 64 ? PQntuples(r) : 64;
	for (int i = 0; i < n; i++)
		prefixes[i] = PQgetvalue(r, i, 0);
	ok = redirect_allowed(url, prefixes, (size_t)n);
	PQclear(r);
	return ok;
}

/*
 * Renders the templates and composes the message into out; -1 logged.
 * from overrides mail_from when it is not empty (the tenant's sender).
 */
static int verify_compose(const struct config *cfg, const char *from,
			  const struct verify_mail *vm, struct buf *out)
{
	struct buf tt, th, text, html;
	char minutes[16], link[512], err[512];
	struct mail_vars vars;
	struct mail_msg msg;
	int rc = -1;

	buf_init(&tt, MAIL_MAX_BYTES);
	buf_init(&th, MAIL_MAX_BYTES);
	buf_init(&text, MAIL_MAX_BYTES);
	buf_init(&html, MAIL_MAX_BYTES);
	snprintf(minutes, sizeof minutes, "%d", (vm->ttl_seconds + 59) / 60);
	/* an OTP mail links to the hosted page where the code can be typed */
	snprintf(link, sizeof link, "%s/v1/hosted/%s", cfg->public_base_url, vm->id);
	vars.code = vm->code ? vm->code : "";
	vars.link = vm->link ? vm->link : link;
	vars.expires_minutes = minutes;
	vars.verification_line = vm->verification_line ? vm->verification_line :
				 vm->link ? DEFAULT_LINK_LINE : DEFAULT_LINE;
	if (mail_template_load(cfg->template_dir, vm->link ? "link.txt" : "otp.txt", &tt, err,
			       sizeof err) < 0 ||
	    mail_template_load(cfg->template_dir, vm->link ? "link.html" : "otp.html", &th, err,
			       sizeof err) < 0) {
		log_errx("%s", err);
		goto out;
	}
	if (mail_render(tt.data, &vars, 0, &text) < 0 || mail_render(th.data, &vars, 1, &html) < 0) {
		log_errx("verification %s: the rendered mail is too large", vm->id);
		goto out;
	}
	msg.from = from && *from ? from : cfg->mail_from;
	msg.from_name = cfg->mail_from_name;
	msg.to = vm->email;
	msg.subject = vm->subject ? vm->subject : vm->link ? DEFAULT_LINK_SUBJECT : DEFAULT_SUBJECT;
	msg.text = text.data;
	msg.html = html.data;
	if (mail_compose(&msg, out) < 0) {
		log_errx("verification %s: the mail is too large", vm->id);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(text.data, text.len);
	sodium_memzero(html.data, html.len);
	buf_free(&tt);
	buf_free(&th);
	buf_free(&text);
	buf_free(&html);
	return rc;
}

/*
 * The answer to a start or resend: the verification as GET shows it (JSON
 * text from the database) with "sent" and "hostedVerifyUrl" added.  Caller
 * owns the result; NULL after answering 500.
 */
static json_t *verify_with_links(struct request *rq, const char *verification_json, int sent)
{
	json_t *v = verification_json ? json_loads(verification_json, 0, NULL) : NULL;
	char url[512];
	const char *id, *method;

	if (v == NULL || (id = json_string_value(json_object_get(v, "id"))) == NULL) {
		json_decref(v);
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
		return NULL;
	}
	snprintf(url, sizeof url, "%s/v1/hosted/%s", rq->cfg->public_base_url, id);
	json_object_set_new(v, "sent", json_boolean(sent));
	method = json_string_value(json_object_get(v, "method"));
	json_object_set_new(v, "hostedVerifyUrl", method && strcmp(method, "OTP") == 0
							  ? json_string(url) : json_null());
	return v;
}

/*
 * Sends the mail and records the outcome (a failure fails the verification).
 * Returns the verification as GET shows it, with "sent" and
 * "hostedVerifyUrl" added (caller owns it), or NULL after answering 5xx.
 */
static json_t *verify_mail_and_record(struct request *rq, const struct verify_mail *vm)
{
	struct smtp_result res;
	struct buf msg;
	char code[8];
	const char *params[4] = { vm->id, NULL, NULL, res.reply };
	enum db_err err;
	json_t *v;
	PGresult *r;

	buf_init(&msg, MAIL_MAX_BYTES);
	if (verify_compose(rq->cfg, rq->auth.mail_from, vm, &msg) < 0) {
		memset(&res, 0, sizeof res);
		snprintf(res.reply, sizeof res.reply, "the message could not be built");
	} else {
		smtp_send(rq->cfg, rq->auth.mail_from, vm->email, msg.data, &res);
	}
	sodium_memzero(msg.data, msg.len);
	buf_free(&msg);
	log_info("verification %s: mail %s (%d %s)", vm->id, res.ok ? "sent" : "failed", res.code,
		 res.reply);
	metrics_mail(res.ok);
	snprintf(code, sizeof code, "%d", res.code);
	params[1] = res.ok ? "true" : "false";
	params[2] = res.code ? code : NULL;
	if ((r = db_run(rq->db, DB_MAIL_RESULT, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return NULL;
	}
	v = verify_with_links(rq, PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : NULL, res.ok);
	PQclear(r);
	return v;
}

/*
 * Queue mode: composes the mail and seals it into sealed (a bytea literal)
 * for the notifier, wiping the plain text.  Returns 0, or -1 after a 500.
 */
static int verify_seal(struct request *rq, const struct verify_mail *vm, struct buf *sealed)
{
	struct buf msg;
	int rc = 0;

	buf_init(&msg, MAIL_MAX_BYTES);
	if (verify_compose(rq->cfg, rq->auth.mail_from, vm, &msg) < 0 ||
	    tok_seal(rq->cfg->secret_key, msg.data, msg.len, sealed) < 0) {
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
		rc = -1;
	}
	sodium_memzero(msg.data, msg.len);
	buf_free(&msg);
	return rc;
}


/*
 * The answer to a send: 201 (or 200 for a resend) with the verification,
 * or 502 EMAIL_SEND_FAILED naming it.  Steals v; returns the envelope text
 * (caller frees) and the status, so that a start can remember it.
 */
static char *verify_send_answer(json_t *v, int ok_status, int *status)
{
	json_t *sent = json_object_get(v, "sent");

	if (json_is_true(sent)) {
		*status = ok_status;
		return jsonx_ok(v);
	}
	*status = 502;
	{
		json_t *d = json_pack("{s:O,s:O}", "verificationId", json_object_get(v, "id"),
				      "delivery", json_object_get(v, "delivery"));
		json_decref(v);
		return jsonx_error("EMAIL_SEND_FAILED",
				   "the mail server did not accept the message; the verification has failed",
				   d);
	}
}

/*
 * The mail of a stored start or resend, and the answer to it: in queue mode
 * the verification as stored (stored_json, its mail waiting for the
 * notifier) with ok_status; else the mail sent now and its outcome (ok_status
 * or 502).  Returns the envelope text (caller frees) and sets *status, or
 * NULL after answering an error.
 */
static char *verify_deliver(struct request *rq, const struct verify_mail *vm,
			    const char *stored_json, int ok_status, int *status)
{
	json_t *v;

	if (rq->cfg->mail_delivery == MAIL_QUEUE) {
		if ((v = verify_with_links(rq, stored_json, 0)) == NULL)
			return NULL;
		*status = ok_status;
		return jsonx_ok(v);
	}
	if ((v = verify_mail_and_record(rq, vm)) == NULL)
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

/* Answers a refused start or resend from its outcome word. */
static int verify_limit_refusal(struct request *rq, const char *outcome, const char *retry)
{
	const char *errstr;
	int secs = (int)util_parse_int(retry, 1, INT_MAX, &errstr);

	if (errstr)
		secs = 60;
	if (strcmp(outcome, "rate_failed") == 0)
		api_rate_limited(rq, "too many wrong codes for this address today", secs);
	else if (strcmp(outcome, "rate_email") == 0)
		api_rate_limited(rq, "too many verification mails for this address; try later", secs);
	else if (strcmp(outcome, "quota") == 0)
		request_error(rq, 402, "QUOTA_EXCEEDED", "the monthly quota of this account is used up",
			      NULL, NULL);
	else
		return 0;
	return 1;
}

void verify_start(struct request *rq, const struct verify_start_req *sr)
{
	char id[40], code[TOK_CODE_MAX + 1], hash[TOK_HASH_HEX_LEN], idem[TOK_HASH_HEX_LEN];
	char len[8], ttl[16], att[8], per_hour[16], fail_day[16], token[48], link[LINK_MAX];
	const char *params[22];
	const char *outcome, *domain = strchr(sr->email, '@') + 1;
	enum deliverability deliverable;
	int disposable, queued = rq->cfg->mail_delivery == MAIL_QUEUE;
	struct verify_mail vm;
	struct buf sealed;
	enum db_err err;
	PGresult *r;
	char *text;
	int status;

	disposable = deliver_is_disposable(rq->cfg, domain);
	if (disposable && rq->cfg->reject_disposable) {
		request_error(rq, 422, "DISPOSABLE_EMAIL",
			      "addresses at disposable mail domains are not accepted", NULL, NULL);
		return;
	}
	deliverable = deliver_mx(rq->cfg, domain);
	if (deliverable == DELIVER_NO && rq->cfg->reject_undeliverable) {
		request_error(rq, 422, "UNDELIVERABLE_EMAIL", "the address's domain does not receive mail",
			      NULL, NULL);
		return;
	}
	if (sr->magic_link && sr->redirect_url) {
		int ok = redirect_ok(rq, sr->redirect_url);
		if (ok < 0)
			return;
		if (!ok) {
			request_error(rq, 400, "REDIRECT_NOT_ALLOWED",
				      "redirectUrl does not match an allowed redirect prefix of this "
				      "account", NULL, NULL);
			return;
		}
	}
	tok_random_id("ev_", id, sizeof id);
	code[0] = '\0';
	if (sr->magic_link) {
		link_secret(rq->cfg, token, link, hash);
	} else {
		tok_code(sr->alphabet, sr->code_length, code);
		tok_hash_hex(rq->cfg->secret_key, "otp", id, code, hash);
	}
	vm.id = id;
	vm.email = sr->email;
	vm.code = sr->magic_link ? NULL : code;
	vm.link = sr->magic_link ? link : NULL;
	vm.subject = sr->subject;
	vm.verification_line = sr->verification_line;
	vm.ttl_seconds = sr->expires_seconds;
	buf_init(&sealed, 4 * MAIL_MAX_BYTES);
	/* queue mode: the message is stored sealed, with the verification */
	if (queued && verify_seal(rq, &vm, &sealed) < 0)
		goto out;
	tok_hex(sr->idem_hash, idem);
	snprintf(len, sizeof len, "%d", sr->code_length);
	snprintf(ttl, sizeof ttl, "%d", sr->expires_seconds);
	snprintf(att, sizeof att, "%d", sr->max_attempts);
	snprintf(per_hour, sizeof per_hour, "%d", rq->cfg->rate_per_email_per_hour);
	snprintf(fail_day, sizeof fail_day, "%d", rq->cfg->failed_attempts_per_email_per_day);
	params[0] = rq->auth.tenant_id;
	params[1] = rq->auth.key_id;
	params[2] = id;
	params[3] = sr->email;
	params[4] = sr->user_id;
	params[5] = sr->magic_link ? "MAGIC_LINK" : "OTP";
	params[6] = sr->magic_link ? NULL : sr->token_format;
	params[7] = sr->magic_link ? NULL : len;
	params[8] = hash;
	params[9] = att;
	params[10] = ttl;
	params[11] = sr->magic_link ? sr->redirect_url : NULL;
	params[12] = sr->subject;
	params[13] = sr->verification_line;
	params[14] = sr->metadata;
	params[15] = queued ? sealed.data : NULL;
	params[16] = deliver_name(deliverable);
	params[17] = disposable ? "true" : "false";
	params[18] = sr->idem_key;
	params[19] = sr->idem_key ? idem : NULL;
	params[20] = per_hour;
	params[21] = fail_day;
	if ((r = db_run(rq->db, DB_START, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		goto out;
	}
	outcome = PQgetvalue(r, 0, 0);
	if (strcmp(outcome, "replay") == 0) {
		const char *errstr;
		status = (int)util_parse_int(PQgetvalue(r, 0, 3), 100, 599, &errstr);
		request_reply(rq, errstr ? 500 : status, "application/json", "Idempotent-Replayed: true\r\n",
			      PQgetvalue(r, 0, 2), strlen(PQgetvalue(r, 0, 2)));
		PQclear(r);
		goto out;
	}
	if (strncmp(outcome, "idem_", 5) == 0) {
		request_error(rq, 409, "IDEMPOTENCY_CONFLICT",
			      strcmp(outcome, "idem_conflict") == 0
				      ? "this Idempotency-Key was used with another request body"
				      : "a request with this Idempotency-Key is still in progress",
			      NULL, NULL);
		PQclear(r);
		goto out;
	}
	if (verify_limit_refusal(rq, outcome, PQgetvalue(r, 0, 1)) || strcmp(outcome, "created") != 0) {
		if (!rq->status)
			request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
		PQclear(r);
		goto out;
	}
	log_info("verification %s: started%s", id, queued ? ", mail queued" : "");
	metrics_outcome(METRICS_STARTED);
	text = verify_deliver(rq, &vm, PQgetvalue(r, 0, 2), 201, &status);
	PQclear(r);
	if (text == NULL)
		goto out;
	if (sr->idem_key) {
		char st[8];
		const char *p[4] = { rq->auth.tenant_id, sr->idem_key, st, text };
		snprintf(st, sizeof st, "%d", status);
		if ((r = db_run(rq->db, DB_IDEM_STORE, p, &err, NULL)) != NULL)
			PQclear(r);
	}
	reply_text(rq, status, text);
out:
	sodium_memzero(code, sizeof code);
	sodium_memzero(token, sizeof token);
	sodium_memzero(link, sizeof link);
	buf_free(&sealed);
}

void verify_resend(struct request *rq, const char *id)
{
	char code[TOK_CODE_MAX + 1], hash[TOK_HASH_HEX_LEN], per_hour[16], fail_day[16];
	char token[48], link[LINK_MAX];
	const char *info_params[2] = { id, rq->auth.tenant_id };
	const char *params[6] = { rq->auth.tenant_id, id, hash, per_hour, fail_day, NULL };
	const char *outcome, *errstr;
	int queued = rq->cfg->mail_delivery == MAIL_QUEUE;
	struct verify_mail vm;
	struct buf sealed;
	PGresult *info = NULL, *r = NULL;
	enum db_err err;
	char *text;
	int status, length, is_link;

	code[0] = '\0';
	token[0] = '\0';
	buf_init(&sealed, 4 * MAIL_MAX_BYTES);
	if (!verify_id_valid(id)) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		return;
	}
	if ((info = db_run(rq->db, DB_MAIL_INFO, info_params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return;
	}
	if (PQntuples(info) != 1) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		goto out;
	}
	is_link = strcmp(PQgetvalue(info, 0, 1), "MAGIC_LINK") == 0;
	if (is_link) {
		link_secret(rq->cfg, token, link, hash);
	} else {
		length = (int)util_parse_int(PQgetvalue(info, 0, 3), 4, TOK_CODE_MAX, &errstr);
		tok_code(strcmp(PQgetvalue(info, 0, 2), "alpha") == 0 ? TOK_FORMAT_ALPHA :
			 strcmp(PQgetvalue(info, 0, 2), "alphanumeric") == 0 ? TOK_FORMAT_ALNUM :
			 TOK_FORMAT_NUMERIC, errstr ? 6 : length, code);
		tok_hash_hex(rq->cfg->secret_key, "otp", id, code, hash);
	}
	snprintf(per_hour, sizeof per_hour, "%d", rq->cfg->rate_per_email_per_hour);
	snprintf(fail_day, sizeof fail_day, "%d", rq->cfg->failed_attempts_per_email_per_day);
	vm.id = id;
	vm.email = PQgetvalue(info, 0, 0);
	vm.code = is_link ? NULL : code;
	vm.link = is_link ? link : NULL;
	vm.subject = PQgetisnull(info, 0, 4) ? NULL : PQgetvalue(info, 0, 4);
	vm.verification_line = PQgetisnull(info, 0, 5) ? NULL : PQgetvalue(info, 0, 5);
	vm.ttl_seconds = (int)util_parse_int(PQgetvalue(info, 0, 6), 60, 2592000, &errstr);
	if (queued) {
		if (verify_seal(rq, &vm, &sealed) < 0)
			goto out;
		params[5] = sealed.data;
	}
	if ((r = db_run(rq->db, DB_RESEND, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		goto out;
	}
	outcome = PQgetvalue(r, 0, 0);
	if (strcmp(outcome, "not_found") == 0) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		goto out;
	}
	if (strcmp(outcome, "refused") == 0) {
		verify_refused(rq, PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
		goto out;
	}
	if (verify_limit_refusal(rq, outcome, PQgetvalue(r, 0, 1)))
		goto out;
	log_info("verification %s: new code%s", id, queued ? ", mail queued" : "");
	if ((text = verify_deliver(rq, &vm, PQgetvalue(r, 0, 4), 200, &status)) != NULL)
		reply_text(rq, status, text);
out:
	sodium_memzero(code, sizeof code);
	sodium_memzero(token, sizeof token);
	buf_free(&sealed);
	PQclear(r);
	PQclear(info);
}

void verify_cancel(struct request *rq, const char *id)
{
	const char *params[2] = { id, rq->auth.tenant_id };
	enum db_err err;
	PGresult *r;

	if (!verify_id_valid(id)) {
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
		return;
	}
	if ((r = db_run(rq->db, DB_CANCEL, params, &err, NULL)) == NULL) {
		api_db_error(rq, err);
		return;
	}
	if (PQntuples(r) == 0)
		request_error(rq, 404, "VERIFICATION_NOT_FOUND", "no such verification", NULL, NULL);
	else if (PQgetisnull(r, 0, 2))
		verify_refused(rq, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
	else {
		log_info("verification %s: PENDING -> CANCELED", id);
		metrics_outcome(METRICS_CANCELED);
		request_ok_raw(rq, 200, PQgetvalue(r, 0, 2));
	}
	PQclear(r);
}
