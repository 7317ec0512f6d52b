/* See mailq.h. */
#include "mailq.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "queue.h"
#include "smtp.h"
#include "token.h"
#include "util.h"

#define MAIL_MAX_BYTES (512 * 1024)

/* Records an outcome: sent, final (no retry) and the retry delay. */
static void record(struct db *db, const char *job, int sent, int final, int code,
		   const char *reply, long long delay_ms)
{
	char c[8], d[24];
	const char *p[6] = { job, sent ? "true" : "false", code ? c : NULL, reply,
			     final ? "true" : "false", d };
	enum db_err err;
	PGresult *r;

	snprintf(c, sizeof c, "%d", code);
	snprintf(d, sizeof d, "%lld", delay_ms);
	if ((r = db_run(db, DB_MAILQ_RESULT, p, &err, NULL)) != NULL)
		PQclear(r);
}

static void send_one(struct db *db, const struct config *cfg, PGresult *r, int i)
{
	const char *job = PQgetvalue(r, i, 0), *vid = PQgetvalue(r, i, 1);
	const char *hex = PQgetvalue(r, i, 3), *errstr;
	int attempt = (int)util_parse_int(PQgetvalue(r, i, 4), 1, INT32_MAX, &errstr);
	struct smtp_result res;
	struct buf msg;
	int final;

	if (strcmp(PQgetvalue(r, i, 5), "PENDING") != 0) {
		/* canceled, expired or failed meanwhile: nothing to send */
		log_info("verification %s: %s, queued mail dropped", vid, PQgetvalue(r, i, 5));
		record(db, job, 0, 1, 0, "not sent: the verification is no longer pending", 0);
		return;
	}
	buf_init(&msg, MAIL_MAX_BYTES);
	if (tok_unseal(cfg->secret_key, hex, &msg) < 0 &&
	    (!cfg->have_secret_key_previous || tok_unseal(cfg->secret_key_previous, hex, &msg) < 0)) {
		log_errx("verification %s: the queued mail cannot be opened with secret_key", vid);
		record(db, job, 0, 1, 0, "the queued message could not be opened (secret_key changed?)",
		       0);
		buf_free(&msg);
		return;
	}
	smtp_send(cfg, PQgetvalue(r, i, 6), PQgetvalue(r, i, 2), msg.data, &res);
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
	static const struct queue q = { DB_MAILQ_CLAIM, DB_MAILQ_RELEASE, send_one };

	return queue_drain(&q, db, cfg, batch, batch * cfg->smtp_timeout_ms + 2000, stop);
}
