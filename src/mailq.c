/* See mailq.h. */
#include "mailq.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "db_mail.h"
#include "db_queue.h"
#include "lease.h"
#include "log.h"
#include "mail_verification.h"
#include "mailjournal.h"
#include "outbox.h"
#include "secret.h"
#include "smtp.h"
#include "token.h"
#include "verp.h"
#include "vstatus.h"

/* Records an outcome: sent, final (no retry) and the retry delay. */
static void record(struct db *db, const char *job, int sent, int final, int code,
		   const char *reply, long long delay_ms)
{
	char c[8], d[24];
	const char *p[6] = { job, sent ? "true" : "false", final ? "true" : "false",
			     code ? c : NULL, reply, d };
	enum db_err err;
	PGresult *r;

	snprintf(c, sizeof c, "%d", code);
	snprintf(d, sizeof d, "%lld", delay_ms);
	if ((r = db_run(db, DB_MAILQ_RESULT, p, &err, NULL)) != NULL)
		PQclear(r);
}

/*
 * Opens hex, sealed under secret_key or secret_key_previous, into out.
 * Returns 0, or -1 (logged) when neither opens it.
 */
static int unseal(const struct config *cfg, const char *vid, const char *hex, struct buf *out)
{
	if (token_unseal_any(cfg->secret_key, CONFIG_PREVIOUS_KEY(cfg), hex, out) >= 0)
		return 0;
	log_errx("verification %s: the queued mail cannot be opened with secret_key", vid);
	return -1;
}

/*
 * The message of claimed job j into msg: written now from the sealed code
 * or link token, or (a job queued by version 3) the sealed message itself.
 * Returns 0, 1 when a resend has replaced the job's secret (no message),
 * or -1 (logged).
 */
static int message(const struct config *cfg, const struct db_mail_row *j, struct buf *msg)
{
	const char *vid = j->verification_id;
	struct mail_verification vm;
	struct secret s;
	int rc = -1;

	if (j->sealed_secret == NULL)
		return unseal(cfg, vid, j->sealed_message, msg);
	if (secret_open(cfg, vid, secret_kind_of(j->m.method), j->sealed_secret, &s) < 0) {
		log_errx("verification %s: the queued mail cannot be opened with secret_key", vid);
		goto out;
	}
	if (!secret_current(&s, j->m.secret_hash)) {
		rc = 1;
		goto out;
	}
	db_mail_of_verification(&j->m, vid, &vm);
	secret_mail(&s, &vm);
	rc = mail_verification_compose(cfg, j->m.mail_from, &vm, msg);
out:
	secret_wipe(&s);
	return rc;
}

static void send_one(struct db *db, const struct config *cfg, PGresult *r, int i)
{
	struct db_mail_row j;
	struct smtp_result res;
	struct buf msg;
	char kv[200], envelope[320];
	PGresult *tr;
	int final, rc, failed;

	db_mail_row(r, i, &j);
	if (vstatus_of(j.m.status) != VS_PENDING) {
		/* canceled, expired or failed meanwhile: nothing to send */
		log_info("verification %s: %s, queued mail dropped", j.verification_id, j.m.status);
		record(db, j.id, 0, 1, 0, "not sent: the verification is no longer pending", 0);
		return;
	}
	if ((tr = db_mail_templates(db, &j.m.brand, &failed)) == NULL && failed) {
		/* its lease runs out and the job is claimed again */
		log_warnx("verification %s: the tenant's templates could not be read",
			  j.verification_id);
		return;
	}
	buf_init(&msg, MAIL_MAX_BYTES);
	rc = message(cfg, &j, &msg);
	db_mail_templates_free(&j.m.brand, tr);
	if (rc != 0) {
		if (rc > 0) {
			const char *p[1] = { j.id };
			enum db_err err;
			log_info("verification %s: a newer code was sent, queued mail dropped",
				 j.verification_id);
			PQclear(db_run(db, DB_MAILQ_DROP, p, &err, NULL));
		} else {
			record(db, j.id, 0, 1, 0, "the queued message could not be opened or written "
			       "(secret_key changed?)", 0);
		}
		buf_free(&msg);
		return;
	}
	smtp_send(cfg, verp_sender(cfg, j.verification_id, j.m.mail_from, envelope, sizeof envelope),
		  j.m.email, msg.data, NULL, &res);
	sodium_memzero(msg.data, msg.len);
	buf_free(&msg);
	final = res.ok || !res.temporary || j.attempt >= cfg->mail_max_attempts;
	snprintf(kv, sizeof kv, "verification=%s tenant=%s", j.verification_id, j.m.brand.tenant_id);
	if (res.ok)
		log_kv(LOG_LVL_INFO, kv, "verification %s: queued mail attempt %d sent (%d %s)",
		       j.verification_id, j.attempt, res.code, res.reply);
	else
		log_kv(LOG_LVL_WARN, kv, "verification %s: queued mail attempt %d %s at %s:%d (%d %s)",
		       j.verification_id, j.attempt, final ? "failed" : "deferred", cfg->smtp_host,
		       cfg->smtp_port, res.code, res.reply);
	record(db, j.id, res.ok, final, res.code, res.reply,
	       final ? 0 : outbox_backoff_ms(cfg->mail_retry_base_ms, j.attempt));
}

/* Records one unrecorded sync-mode mail, as the worker would have (DB_MAIL_RESULT). */
static void settle_one(struct db *db, const struct config *cfg, const struct db_unrecorded_row *u)
{
	struct smtp_result res;
	char key[MAILJOURNAL_KEY_MAX], kv[200], code[8];
	const char *p[4] = { u->verification_id, NULL, NULL, NULL };
	enum db_err err;
	PGresult *r;

	mailjournal_key(u->verification_id, u->secret_prefix, u->mails, key);
	snprintf(kv, sizeof kv, "verification=%s tenant=%s", u->verification_id, u->tenant_id);
	if (mailjournal_find(cfg, key, &res)) {
		log_kv(res.ok ? LOG_LVL_INFO : LOG_LVL_WARN, kv, "verification %s: its worker did not "
		       "record the mail; the mail journal says %s (%d %s)", u->verification_id,
		       res.ok ? "sent" : "failed", res.code, res.reply);
	} else if (u->age >= 2 * cfg->sync_mail_settle_seconds) {
		memset(&res, 0, sizeof res);
		snprintf(res.reply, sizeof res.reply, "the outcome of the mail was not recorded (its "
			 "worker stopped or lost the database) and the mail journal has none");
		log_kv(LOG_LVL_WARN, kv, "verification %s: %s; failed", u->verification_id, res.reply);
	} else {
		return;
	}
	snprintf(code, sizeof code, "%d", res.code);
	p[1] = res.ok ? "true" : "false";
	p[2] = res.code ? code : NULL;
	p[3] = res.reply;
	if ((r = db_run(db, DB_MAIL_RESULT, p, &err, NULL)) != NULL)
		PQclear(r);
}

int mailq_settle(struct db *db, const struct config *cfg)
{
	char age[16];
	const char *p[2] = { age, "100" };
	struct db_unrecorded_row u;
	enum db_err err;
	PGresult *r;

	snprintf(age, sizeof age, "%d", cfg->sync_mail_settle_seconds);
	if ((r = db_run(db, DB_SYNC_UNRECORDED, p, &err, NULL)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		db_unrecorded_row(r, i, &u);
		settle_one(db, cfg, &u);
	}
	PQclear(r);
	mailjournal_rotate(cfg);
	return 0;
}

int mailq_drain(struct db *db, const struct config *cfg, int batch, const char *holder,
		const volatile sig_atomic_t *stop)
{
	static const struct lease q = { DB_MAILQ_CLAIM, DB_MAILQ_RELEASE, send_one };

	return lease_drain(&q, db, cfg, batch, batch * cfg->smtp_timeout_ms + 2000, holder, stop);
}
