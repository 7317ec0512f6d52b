/* See verify.h. */
#include "verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "db_mail.h"
#include "db_verify.h"
#include "deliverability.h"
#include "log.h"
#include "mailjournal.h"
#include "mail_verification.h"
#include "metrics.h"
#include "redirect.h"
#include "smtp.h"
#include "util.h"

#define PREFIXES_MAX 64		/* redirect prefixes of a tenant that are read */

/*
 * How long a worker tries to record the outcome of a mail it sent, while
 * the database is away, and how often (config.h: CONFIG_SYNC_SETTLE_MIN
 * counts on the first being under 5 s).
 */
#define VERIFY_RECORD_RETRY_MS 4000
#define VERIFY_RECORD_STEP_MS 250

/* The outcome words of mp_start() and mp_resend() in sql/lifecycle.sql. */
static const struct {
	const char *word;
	enum verify_outcome outcome;
} g_words[] = {
	{ "created", VO_OK },
	{ "resent", VO_OK },
	{ "replay", VO_REPLAY },
	{ "idem_conflict", VO_IDEM_CONFLICT },
	{ "idem_in_progress", VO_IDEM_IN_PROGRESS },
	{ "recovered", VO_RECOVERED },
	{ "rate_failed", VO_RATE_FAILED },
	{ "rate_email", VO_RATE_EMAIL },
	{ "rate_client_ip", VO_RATE_CLIENT_IP },
	{ "rate_client_network", VO_RATE_CLIENT_NETWORK },
	{ "rate_client_addresses", VO_RATE_CLIENT_ADDRESSES },
	{ "client_ip_required", VO_CLIENT_IP_REQUIRED },
	{ "cooldown", VO_COOLDOWN },
	{ "suppressed", VO_SUPPRESSED },
	{ "quota", VO_QUOTA },
	{ "disposable", VO_DISPOSABLE },
	{ "undeliverable", VO_UNDELIVERABLE },
	{ "custom_code_in_use", VO_CUSTOM_CODE_IN_USE },
	{ "no_webhook", VO_NO_WEBHOOK },
	{ "not_found", VO_NOT_FOUND },
};

int verify_locale(const struct config *cfg, const char *tag, char out[LOCALE_TAG_MAX])
{
	char canon[LOCALE_TAG_MAX], chain[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX];
	size_t n;

	out[0] = '\0';
	if (locale_canonical(tag, canon) < 0)
		return -1;
	n = locale_chain(canon, chain, LOCALE_CHAIN_MAX);
	for (size_t i = 0; i < n; i++)
		if (catalog_exists(cfg->template_dir, chain[i])) {
			memcpy(out, chain[i], LOCALE_TAG_MAX);
			break;
		}
	return 0;
}

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
		if (!isspace((unsigned char)*r) && *r != '-')
			*w++ = (char)toupper((unsigned char)*r);
	*w = '\0';
}

void verify_result_free(struct verify_result *res)
{
	free(res->verification);
	free(res->replay);
	res->verification = NULL;
	res->replay = NULL;
	secret_wipe(&res->handed);
}

enum verify_outcome verify_refusal(enum verification_status stored, enum verification_status eff)
{
	return eff == VS_EXPIRED ? VO_EXPIRED :
	       stored == VS_VERIFIED ? VO_ALREADY_VERIFIED :
	       stored == VS_CANCELED ? VO_CANCELED : VO_FAILED;
}

enum verify_outcome verify_outcome_of(const char *word)
{
	for (size_t i = 0; i < sizeof g_words / sizeof g_words[0]; i++)
		if (strcmp(word, g_words[i].word) == 0)
			return g_words[i].outcome;
	return VO_ERROR;
}

enum verify_outcome verify_code_outcome(const struct db_verify_code *cc)
{
	if (!cc->found)
		return VO_NOT_FOUND;
	if (!cc->checked)
		return verify_refusal(cc->stored, cc->eff);
	return cc->result == VS_VERIFIED ? VO_OK :
	       cc->result == VS_FAILED ? VO_ATTEMPTS_EXHAUSTED : VO_INVALID_CODE;
}

/* verify_outcome_of(), and a log line for a word this mailproof does not know. */
static enum verify_outcome outcome_of(const char *id, const char *word)
{
	enum verify_outcome o = verify_outcome_of(word);

	if (o == VO_ERROR)
		log_errx("verification %s: unknown outcome '%s'", id, word);
	return o;
}

/* The key=value pairs of a log line about verification id (tenant may be NULL). */
static void verify_kv(const struct verify_ctx *ctx, const char *id, const char *tenant,
		      char kv[200])
{
	snprintf(kv, 200, "request_id=%s verification=%s%s%s",
		 ctx->request_id ? ctx->request_id : "-", id, tenant && *tenant ? " tenant=" : "",
		 tenant && *tenant ? tenant : "");
}

/*
 * Runs statement s, with the key's hashes first (auth.h) when keyed.
 * Returns VO_OK and *r (caller PQclear()s), or VO_KEY_REFUSED (res->key
 * says why), VO_UNAVAILABLE or VO_ERROR.
 */
static enum verify_outcome run(const struct verify_ctx *ctx, int keyed, enum db_stmt s,
			       const char **params, PGresult **r, struct verify_result *res)
{
	enum db_err err;

	*r = keyed ? auth_query(ctx->db, ctx->key, s, params, &err, &res->key)
		   : db_run(ctx->db, s, params, &err, NULL);
	if (*r)
		return VO_OK;
	return err == DB_UNAVAILABLE ? VO_UNAVAILABLE : err == DB_FAILED ? VO_ERROR : VO_KEY_REFUSED;
}

/*
 * Keeps a copy of json, verification id as GET shows it, in res and returns
 * o; VO_ERROR (logged) when there is none.
 */
static enum verify_outcome keep(struct verify_result *res, const char *id, const char *json,
				enum verify_outcome o)
{
	if (json == NULL || (res->verification = strdup(json)) == NULL) {
		log_errx("verification %s: no verification to answer with", id);
		return VO_ERROR;
	}
	return o;
}

enum verify_outcome verify_code(const struct verify_ctx *ctx, const char *id, const char *code,
				struct verify_result *res)
{
	char h1[TOKEN_HASH_HEX_LEN], h2[sizeof h1];
	const char *params[AUTH_PARAMS + 3];
	const char **p = ctx->key ? params + AUTH_PARAMS : params;
	enum db_stmt s = ctx->key ? DB_API_VERIFY : DB_CHECK_CODE;
	struct db_verify_code cc;
	enum verify_outcome o;
	PGresult *r;

	memset(res, 0, sizeof *res);
	token_code_hash_hex(ctx->cfg->secret_key, id, code, h1);
	p[0] = id;
	p[1] = h1;
	p[2] = NULL;
	if (ctx->cfg->have_secret_key_previous) {
		token_code_hash_hex(ctx->cfg->secret_key_previous, id, code, h2);
		p[2] = h2;
	}
	if ((o = run(ctx, ctx->key != NULL, s, params, &r, res)) != VO_OK)
		return o;
	db_verify_code(r, s, &cc);
	switch ((o = verify_code_outcome(&cc))) {
	case VO_OK:
		metrics_outcome(METRICS_VERIFIED);
		/* only the API shows it (and answers 500 without it), not the page */
		res->verification = cc.body ? strdup(cc.body) : NULL;
		break;
	case VO_ATTEMPTS_EXHAUSTED:
		metrics_outcome(METRICS_FAILED);
		break;
	case VO_INVALID_CODE:
		metrics_outcome(METRICS_INVALID_CODE);
		res->remaining = cc.remaining;
		break;
	default:
		break;
	}
	PQclear(r);
	return o;
}

/*
 * Records the outcome of a mail sent now.  The mail is out (or refused)
 * whatever the database does, so a lost connection is tried again for a
 * while: a restart of PostgreSQL must not leave the verification waiting,
 * and the client told it failed.  Should that not do, the notifier records
 * it from the mail journal.
 */
static enum verify_outcome record(const struct verify_ctx *ctx, const char **params,
				  PGresult **r, struct verify_result *res)
{
	int64_t until = util_mono_ms() + VERIFY_RECORD_RETRY_MS;
	enum verify_outcome o;

	while ((o = run(ctx, 0, DB_MAIL_RESULT, params, r, res)) == VO_UNAVAILABLE &&
	       util_mono_ms() < until) {
		struct timespec step = { 0, VERIFY_RECORD_STEP_MS * 1000000L };
		nanosleep(&step, NULL);
	}
	return o;
}

/*
 * Sends the mail now and records the outcome (a failure fails the
 * verification).  from is the tenant's sender override ("" for none);
 * secret_hash, the stored hash of the mail's code, and mails, those of the
 * verification recorded before, name the mail in the journal.  VO_OK or VO_SEND_FAILED with the verification after, or what
 * failed.
 */
static enum verify_outcome mail_and_record(const struct verify_ctx *ctx, const char *from,
					   const struct mail_verification *vm,
					   const char *secret_hash, int mails,
					   struct verify_result *res)
{
	struct smtp_result sent;
	char kv[200], journal_key[MAILJOURNAL_KEY_MAX];
	struct mail_verification m = *vm;
	struct mail_brand brand;
	char code[8];
	const char *params[4] = { vm->id, NULL, NULL, sent.reply };
	enum verify_outcome o;
	PGresult *r, *tr;
	int failed;

	if ((o = run(ctx, 0, DB_MAIL_BRAND, params, &r, res)) != VO_OK)
		return o;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return VO_NOT_FOUND;
	}
	db_mail_brand(r, 0, 0, &brand);
	tr = db_mail_templates(ctx->db, &brand, &failed);
	if (failed) {
		PQclear(r);
		return VO_UNAVAILABLE;
	}
	m.brand = &brand;
	mailjournal_key(vm->id, secret_hash, mails, journal_key);
	mail_verification_send(ctx->cfg, from, &m, journal_key, &sent);
	verify_kv(ctx, vm->id, brand.tenant_id, kv);	/* before r, which holds it, goes */
	db_mail_templates_free(&brand, tr);
	PQclear(r);
	if (sent.ok)
		log_kv(LOG_LVL_INFO, kv, "verification %s: mail sent (%d %s)", vm->id, sent.code,
		       sent.reply);
	else
		log_kv(LOG_LVL_WARN, kv, "verification %s: mail failed at %s:%d (%d %s)", vm->id,
		       ctx->cfg->smtp_host, ctx->cfg->smtp_port, sent.code, sent.reply);
	metrics_mail(sent.ok);
	snprintf(code, sizeof code, "%d", sent.code);
	params[1] = sent.ok ? "true" : "false";
	params[2] = sent.code ? code : NULL;
	if ((o = record(ctx, params, &r, res)) != VO_OK) {
		log_kv(LOG_LVL_ERROR, kv, "verification %s: the mail's outcome could not be "
		       "recorded; mailproof-notifier will record it from the mail journal", vm->id);
		return o;
	}
	res->sent = sent.ok;
	o = keep(res, vm->id, db_verify_mail_result(r), sent.ok ? VO_OK : VO_SEND_FAILED);
	PQclear(r);
	return o;
}

/*
 * The code or link of a stored start or resend, on its way (channel: its
 * delivery): handed to the application in the answer (none); in an event
 * (webhook) or in queue mode, waiting for the notifier, with the
 * verification as stored (stored_json); else mailed now (from: the
 * tenant's sender), with the outcome.  mails: those of the verification
 * recorded before (a start has none).
 */
static enum verify_outcome dispatch(const struct verify_ctx *ctx, const char *channel,
				    const char *from, const struct mail_verification *vm,
				    const struct secret *secret, int mails, const char *stored_json,
				    struct verify_result *res)
{
	if (strcmp(channel, "none") == 0) {
		res->handed = *secret;
		res->handed_over = 1;
	}
	if (ctx->cfg->mail_delivery == MAIL_QUEUE || strcmp(channel, "smtp") != 0)
		return keep(res, vm->id, stored_json, VO_OK);
	return mail_and_record(ctx, from, vm, secret->hash, mails, res);
}

/* A method's name as stored. */
static const char *method_name(enum secret_kind kind)
{
	return kind == SECRET_LINK ? "MAGIC_LINK" : kind == SECRET_CODE_AND_LINK ? "CODE_AND_LINK" :
	       "OTP";
}

/* The mails recorded before a resend's (delivery.attempts of json), for its journal key. */
static int mails_before(const char *json)
{
	json_t *v = json_loads(json, 0, NULL);
	int n = (int)json_integer_value(json_object_get(json_object_get(v, "delivery"),
						       "attempts"));

	json_decref(v);
	return n;
}

/*
 * Work that must not be done for a stranger (a DNS query, the tenant's
 * redirect prefixes) waits for the key: this checks it without counting the
 * request (the start counts it), and checks redirect_url when it is set.
 */
static enum verify_outcome pre_start(const struct verify_ctx *ctx, const char *redirect_url,
				     struct verify_result *res)
{
	const char *params[AUTH_PARAMS], *prefixes[PREFIXES_MAX];
	enum verify_outcome o;
	PGresult *r;
	size_t n;

	if ((o = run(ctx, 1, DB_API_REDIRECTS, params, &r, res)) != VO_OK)
		return o;
	n = db_verify_redirects(r, prefixes, PREFIXES_MAX);
	if (redirect_url && !redirect_allowed(redirect_url, prefixes, n))
		o = VO_REDIRECT_NOT_ALLOWED;
	PQclear(r);
	return o;
}

/*
 * What mp_start() said when it started nothing: a replay, a limit or a
 * refusal; or the verification an earlier request with the same key
 * started, whose answer was lost, as it is now.
 */
static enum verify_outcome start_refused(const struct verify_ctx *ctx, const char *id,
					 const struct db_verify_start *st, struct verify_result *res)
{
	enum verify_outcome o = outcome_of(id, st->outcome);

	if (o == VO_RECOVERED) {
		char kv[200];
		verify_kv(ctx, "-", st->tenant_id, kv);
		log_kv(LOG_LVL_INFO, kv, "a start whose answer was lost is answered again "
		       "(same Idempotency-Key)");
		res->recovered = 1;
		return keep(res, id, st->body, st->replay_status == 502 ? VO_SEND_FAILED : VO_OK);
	}
	if (o == VO_REPLAY) {
		res->replay_status = st->replay_status;
		if ((res->replay = strdup(st->body)) == NULL) {
			log_errx("verification %s: no memory for the answer to replay", id);
			return VO_ERROR;
		}
	}
	res->retry_after = st->retry_after;
	res->limit_max = st->limit_max;
	return o;
}

enum verify_outcome verify_start(const struct verify_ctx *ctx, const struct verify_start_req *sr,
				 struct verify_result *res)
{
	char kv[200];
	char id[40], idem[TOKEN_HASH_HEX_LEN], len[8], ttl[16], att[8], per_hour[16], fail_day[16];
	char suggested[DELIVERABILITY_DOMAIN_MAX + 1], cip_hour[16], cnet_hour[16], caddr_day[16];
	char report[TOKEN_REPORT_LEN + 1], report_hash[TOKEN_HASH_HEX_LEN];
	char custom_hash[TOKEN_HASH_HEX_LEN], norm[320];
	const char *params[AUTH_PARAMS + 34], **p = params + AUTH_PARAMS;
	const char *domain = strchr(sr->email, '@') + 1, *refusal = NULL;
	const struct config *cfg = ctx->cfg;
	enum deliverability deliverable = DELIVERABILITY_UNKNOWN;
	int disposable, link = sr->kind & SECRET_LINK, code = sr->kind & SECRET_CODE;
	int queued = cfg->mail_delivery == MAIL_QUEUE && strcmp(sr->delivery, "smtp") == 0;
	struct mail_verification vm;
	struct secret secret;
	struct db_verify_start st;
	enum verify_outcome o;
	struct buf sealed;
	PGresult *r = NULL;

	memset(res, 0, sizeof *res);
	token_random_id("ev_", id, sizeof id);
	secret_new(cfg, id, sr->kind, sr->alphabet, sr->code_length, sr->alphabet == NULL,
		   sr->custom_code[0] ? sr->custom_code : NULL, &secret);
	buf_init(&sealed, 1024);
	if ((cfg->mx_check || sr->redirect_url) && (o = pre_start(ctx, sr->redirect_url, res)) != VO_OK)
		goto out;
	if (deliverability_suggest(cfg, domain, suggested))
		snprintf(res->did_you_mean, sizeof res->did_you_mean, "%.*s@%s",
			 (int)(domain - 1 - sr->email), sr->email, suggested);
	disposable = deliverability_is_disposable(cfg, domain);
	if (disposable && cfg->reject_disposable)
		refusal = "disposable";
	else if ((deliverable = deliverability_mx(cfg, domain)) == DELIVERABILITY_NO &&
		 cfg->reject_undeliverable)
		refusal = "undeliverable";
	/* kept under resend_policy same_code, and queued in queue mode */
	if (secret_seal(cfg, id, &secret, &sealed) < 0) {
		o = VO_ERROR;
		goto out;
	}
	if (sr->custom_code[0]) {
		/* not bound to the id: the same code of another verification of the address */
		snprintf(norm, sizeof norm, "%s", sr->email);
		for (char *c = norm; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		token_hash_hex(cfg->secret_key, "custom-code", norm, sr->custom_code, custom_hash);
	}
	token_hex(sr->idem_hash, idem);
	snprintf(len, sizeof len, "%d", sr->code_length);
	snprintf(ttl, sizeof ttl, "%d", sr->expires_seconds);
	snprintf(att, sizeof att, "%d", sr->max_attempts);
	snprintf(per_hour, sizeof per_hour, "%d", cfg->rate_per_email_per_hour);
	snprintf(fail_day, sizeof fail_day, "%d", cfg->failed_attempts_per_email_per_day);
	p[0] = id;
	p[1] = sr->email;
	p[2] = sr->user_id;
	p[3] = method_name(sr->kind);
	p[4] = code ? sr->token_format : NULL;
	p[5] = code ? len : NULL;
	p[6] = secret.hash;
	p[7] = att;
	p[8] = ttl;
	p[9] = link ? sr->redirect_url : NULL;
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
	p[21] = sr->locale[0] ? sr->locale : NULL;
	p[22] = sr->client_ip[0] ? sr->client_ip : NULL;
	p[23] = sr->user_agent;
	snprintf(cip_hour, sizeof cip_hour, "%d", cfg->rate_per_client_ip_per_hour);
	snprintf(cnet_hour, sizeof cnet_hour, "%d", cfg->rate_per_client_network_per_hour);
	snprintf(caddr_day, sizeof caddr_day, "%d", cfg->addresses_per_client_ip_per_day);
	p[24] = cip_hour;
	p[25] = cnet_hour;
	p[26] = caddr_day;
	p[27] = cfg->require_client_ip ? "true" : "false";
	p[28] = sealed.data;
	p[29] = cfg->resend_policy == RESEND_SAME_CODE ? "same_code" : "new_code";
	token_report(cfg->secret_key, id, report);
	token_hash_hex(cfg->secret_key, "report", report, NULL, report_hash);
	p[30] = report_hash;
	p[31] = sr->delivery;
	p[32] = secret.link_hash[0] ? secret.link_hash : NULL;
	p[33] = sr->custom_code[0] ? custom_hash : NULL;
	if ((o = run(ctx, 1, DB_API_START, params, &r, res)) != VO_OK)
		goto out;
	db_verify_start(r, &st);
	snprintf(res->tenant, sizeof res->tenant, "%s", st.tenant_id);
	if (strcmp(st.outcome, "created") != 0) {
		o = start_refused(ctx, id, &st, res);
		goto out;
	}
	verify_kv(ctx, id, res->tenant, kv);
	log_kv(LOG_LVL_INFO, kv, "verification %s: started", id);
	metrics_outcome(METRICS_STARTED);
	vm.id = id;
	vm.email = sr->email;
	secret_mail(&secret, &vm);
	vm.subject = sr->subject;
	vm.verification_line = sr->verification_line;
	vm.ttl_seconds = sr->expires_seconds;
	vm.locale = st.locale;
	vm.brand = NULL;	/* mail_and_record() reads it */
	o = dispatch(ctx, sr->delivery, st.mail_from, &vm, &secret, 0, st.body, res);
out:
	PQclear(r);
	secret_wipe(&secret);
	buf_free(&sealed);
	return o;
}

void verify_remember(const struct verify_ctx *ctx, const char *tenant, const char *idem_key,
		     int status, const char *answer)
{
	char code[8];
	const char *p[4] = { tenant, idem_key, code, answer };
	enum db_err err;

	snprintf(code, sizeof code, "%d", status);
	PQclear(db_run(ctx->db, DB_IDEM_STORE, p, &err, NULL));
}

enum verify_outcome verify_resend(const struct verify_ctx *ctx, const char *id,
				  struct verify_result *res)
{
	char kv[200];
	char per_hour[16], fail_day[16], cooldown[16];
	const char *info_params[AUTH_PARAMS + 1] = { [AUTH_PARAMS] = id };
	const char *params[AUTH_PARAMS + 9], **p = params + AUTH_PARAMS;
	const struct config *cfg = ctx->cfg;
	int queued = 0;
	enum secret_kind kind;
	struct mail_verification vm;
	struct secret secret;
	struct db_verify_mail_info mi;
	struct db_verify_resend rs;
	enum verify_outcome o;
	struct buf sealed;
	PGresult *info = NULL, *r = NULL;

	memset(res, 0, sizeof *res);
	memset(&secret, 0, sizeof secret);
	buf_init(&sealed, 1024);
	if ((o = run(ctx, 1, DB_API_MAIL_INFO, info_params, &info, res)) != VO_OK)
		goto out;
	if (db_verify_mail_info(info, &mi) < 0) {
		o = VO_NOT_FOUND;
		goto out;
	}
	kind = secret_kind_of(mi.method);
	queued = cfg->mail_delivery == MAIL_QUEUE && strcmp(mi.channel, "smtp") == 0;
	secret_new(cfg, id, kind,
		   strcmp(mi.format, "alpha") == 0 ? TOKEN_FORMAT_ALPHA :
		   strcmp(mi.format, "alphanumeric") == 0 ? TOKEN_FORMAT_ALNUM : TOKEN_FORMAT_NUMERIC,
		   mi.code_length, strcmp(mi.format, "hex") == 0, NULL, &secret);
	if (secret_seal(cfg, id, &secret, &sealed) < 0) {
		o = VO_ERROR;
		goto out;
	}
	snprintf(per_hour, sizeof per_hour, "%d", cfg->rate_per_email_per_hour);
	snprintf(cooldown, sizeof cooldown, "%d", cfg->resend_cooldown_seconds);
	snprintf(fail_day, sizeof fail_day, "%d", cfg->failed_attempts_per_email_per_day);
	p[0] = id;
	p[1] = secret.hash;
	p[2] = per_hour;
	p[3] = fail_day;
	p[4] = queued ? sealed.data : NULL;
	p[5] = sealed.data;
	p[6] = cooldown;
	p[7] = cfg->resend_policy == RESEND_SAME_CODE ? "same_code" : "new_code";
	p[8] = secret.link_hash[0] ? secret.link_hash : NULL;
	if ((o = run(ctx, 1, DB_API_RESEND, params, &r, res)) != VO_OK)
		goto out;
	db_verify_resend(r, &rs);
	o = strcmp(rs.outcome, "refused") == 0 ? verify_refusal(rs.stored, rs.eff)
					       : outcome_of(id, rs.outcome);
	res->retry_after = rs.retry_after;
	res->limit_max = rs.limit_max;
	if (o != VO_OK)
		goto out;
	/* sealed and hashed at the start under the same key: the hash as stored */
	if (rs.sealed_code[0] && secret_open(cfg, id, kind, rs.sealed_code, &secret) < 0) {
		log_errx("verification %s: the code kept for a resend cannot be opened "
			 "(secret_key changed?)", id);
		o = VO_ERROR;
		goto out;
	}
	verify_kv(ctx, id, rs.tenant, kv);
	log_kv(LOG_LVL_INFO, kv, "verification %s: %s%s", id,
	       rs.sealed_code[0] ? "the same code again" : "new code",
	       queued ? ", mail queued" : strcmp(mi.channel, "smtp") != 0 ? ", not mailed" : "");
	vm.id = id;
	vm.email = mi.email;
	secret_mail(&secret, &vm);
	vm.subject = mi.subject;
	vm.verification_line = mi.line;
	vm.ttl_seconds = mi.ttl_seconds;
	vm.locale = mi.locale;
	vm.brand = NULL;	/* mail_and_record() reads it */
	o = dispatch(ctx, mi.channel, mi.mail_from, &vm, &secret,
		     queued ? 0 : mails_before(rs.body), rs.body, res);
out:
	secret_wipe(&secret);
	buf_free(&sealed);
	PQclear(r);
	PQclear(info);
	return o;
}

enum verify_outcome verify_cancel(const struct verify_ctx *ctx, const char *id,
				  struct verify_result *res)
{
	const char *params[AUTH_PARAMS + 1] = { [AUTH_PARAMS] = id };
	struct db_verify_cancel c;
	enum verify_outcome o;
	PGresult *r;

	memset(res, 0, sizeof *res);
	if ((o = run(ctx, 1, DB_API_CANCEL, params, &r, res)) != VO_OK)
		return o;
	db_verify_cancel(r, &c);
	if (!c.found) {
		o = VO_NOT_FOUND;
	} else if (c.body == NULL) {
		o = verify_refusal(c.stored, c.eff);
	} else {
		metrics_outcome(METRICS_CANCELED);
		o = keep(res, id, c.body, VO_OK);
	}
	PQclear(r);
	return o;
}
