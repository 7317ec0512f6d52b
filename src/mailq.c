/* See mailq.h. */
#include "mailq.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "lease.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "smtp.h"
#include "token.h"
#include "util.h"
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
	if (token_unseal(cfg->secret_key, hex, out) == 0 ||
	    (cfg->have_secret_key_previous && token_unseal(cfg->secret_key_previous, hex, out) == 0))
		return 0;
	log_errx("verification %s: the queued mail cannot be opened with secret_key", vid);
	return -1;
}

/*
 * True when secret (a code, or a magic link token) is still the one of
 * verification vid, whose current keyed hash is hash_hex: a resend replaces
 * it, and a mail queued before must not be sent then.
 */
static int secret_current(const struct config *cfg, const char *vid, int link, const char *secret,
			  const char *hash_hex)
{
	unsigned char stored[TOKEN_HASH_BYTES], h[TOKEN_HASH_BYTES];

	if (sodium_hex2bin(stored, sizeof stored, hash_hex, strlen(hash_hex), NULL, NULL, NULL) != 0)
		return 0;
	token_hash(cfg->secret_key, link ? "link" : "otp", link ? secret : vid, link ? NULL : secret,
		 h);
	if (token_hash_equal(h, stored))
		return 1;
	if (!cfg->have_secret_key_previous)
		return 0;
	token_hash(cfg->secret_key_previous, link ? "link" : "otp", link ? secret : vid,
		 link ? NULL : secret, h);
	return token_hash_equal(h, stored);
}

/*
 * The message of claimed job i of r into msg: written now from the sealed
 * code or link token, or (a job queued by version 3) the sealed message
 * itself.  Returns 0, 1 when a resend has replaced the job's secret (no
 * message), or -1 (logged).
 */
static int message(const struct config *cfg, PGresult *r, int i, struct buf *msg)
{
	const char *vid = PQgetvalue(r, i, 1), *errstr;
	int link = strcmp(PQgetvalue(r, i, 8), "MAGIC_LINK") == 0;
	struct mail_verification vm;
	char url[600];
	struct buf secret;
	int rc = -1;

	if (PQgetisnull(r, i, 6))
		return unseal(cfg, vid, PQgetvalue(r, i, 7), msg);
	buf_init(&secret, 256);
	if (unseal(cfg, vid, PQgetvalue(r, i, 6), &secret) < 0)
		goto out;
	if (!secret_current(cfg, vid, link, secret.data, PQgetvalue(r, i, 12))) {
		rc = 1;
		goto out;
	}
	vm.id = vid;
	vm.email = PQgetvalue(r, i, 2);
	vm.code = link ? NULL : secret.data;
	vm.link = NULL;
	if (link) {
		snprintf(url, sizeof url, "%s/v1/link/%s", cfg->public_base_url, secret.data);
		vm.link = url;
	}
	vm.subject = PQgetisnull(r, i, 9) ? NULL : PQgetvalue(r, i, 9);
	vm.verification_line = PQgetisnull(r, i, 10) ? NULL : PQgetvalue(r, i, 10);
	vm.ttl_seconds = (int)util_parse_int(PQgetvalue(r, i, 11), 60, 2592000, &errstr);
	rc = mail_verification_compose(cfg, PQgetvalue(r, i, 5), &vm, msg);
	sodium_memzero(url, sizeof url);
out:
	sodium_memzero(secret.data, secret.len);
	buf_free(&secret);
	return rc;
}

static void send_one(struct db *db, const struct config *cfg, PGresult *r, int i)
{
	const char *job = PQgetvalue(r, i, 0), *vid = PQgetvalue(r, i, 1), *errstr;
	int attempt = (int)util_parse_int(PQgetvalue(r, i, 3), 1, INT32_MAX, &errstr);
	struct smtp_result res;
	struct buf msg;
	int final, rc;

	if (vstatus_of(PQgetvalue(r, i, 4)) != VS_PENDING) {
		/* canceled, expired or failed meanwhile: nothing to send */
		log_info("verification %s: %s, queued mail dropped", vid, PQgetvalue(r, i, 4));
		record(db, job, 0, 1, 0, "not sent: the verification is no longer pending", 0);
		return;
	}
	buf_init(&msg, 2 * MAIL_MAX_BYTES);
	if ((rc = message(cfg, r, i, &msg)) != 0) {
		if (rc > 0) {
			const char *p[1] = { job };
			enum db_err err;
			log_info("verification %s: a newer code was sent, queued mail dropped", vid);
			PQclear(db_run(db, DB_MAILQ_DROP, p, &err, NULL));
		} else {
			record(db, job, 0, 1, 0, "the queued message could not be opened or written "
			       "(secret_key changed?)", 0);
		}
		buf_free(&msg);
		return;
	}
	smtp_send(cfg, PQgetvalue(r, i, 5), PQgetvalue(r, i, 2), msg.data, &res);
	sodium_memzero(msg.data, msg.len);
	buf_free(&msg);
	final = res.ok || !res.temporary || attempt >= cfg->mail_max_attempts;
	log_info("verification %s: queued mail attempt %d %s (%d %s)", vid, attempt,
		 res.ok ? "sent" : final ? "failed" : "deferred", res.code, res.reply);
	record(db, job, res.ok, final, res.code, res.reply,
	       final ? 0 : outbox_backoff_ms(cfg->mail_retry_base_ms, attempt));
}

int mailq_drain(struct db *db, const struct config *cfg, int batch,
		const volatile sig_atomic_t *stop)
{
	static const struct lease q = { DB_MAILQ_CLAIM, DB_MAILQ_RELEASE, send_one };

	return lease_drain(&q, db, cfg, batch, batch * cfg->smtp_timeout_ms + 2000, stop);
}
