/* See outbox.h. */
#include "outbox.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "db_queue.h"
#include "deliver.h"
#include "lease.h"
#include "log.h"
#include "webhook.h"

/* a verification.deliver event carries a whole mail, a tenant's templates up to 64 KiB each */
#define BODY_MAX (512 * 1024)

long long outbox_backoff_ms(int base_ms, int attempt)
{
	long long d = base_ms;

	for (int i = 1; i < attempt && d < OUTBOX_BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > OUTBOX_BACKOFF_CAP_MS)
		d = OUTBOX_BACKOFF_CAP_MS;
	/* half fixed, half random: retries of many events spread out */
	return d / 2 + (long long)randombytes_uniform((uint32_t)(d / 2 + 1));
}

/* Runs a statement whose result is not needed; 0, or -1 when it failed. */
static int run(struct db *db, enum db_stmt s, const char *const *params)
{
	enum db_err err;
	PGresult *r = db_run(db, s, params, &err, NULL);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/*
 * No more attempts for event e: state dead or skipped.  A
 * verification.deliver event's code then never reaches the application:
 * its delivery fails, when hash (its code's, "" for whatever code the
 * verification has) is the verification's.
 */
static void give_up(struct db *db, const struct db_event_row *e, const char *state, int status,
		    const char *why, const char *hash)
{
	char st[16];
	const char *p[5] = { e->id, state, status ? st : NULL, why, *hash ? hash : NULL };

	snprintf(st, sizeof st, "%d", status);
	run(db, DB_OUTBOX_GIVE_UP, p);
}

/*
 * The body of event e into body, and its code's hash (see deliver_body();
 * "" for other events): 0, 1 when there is nothing to send (the event is
 * settled), or -1 when the database failed (its lease runs out and it is
 * tried again).
 */
static int event_body(struct db *db, const struct config *cfg, const struct db_event_row *e,
		      struct buf *body, char hash[TOKEN_HASH_HEX_LEN])
{
	char why[160];

	hash[0] = '\0';
	if (strcmp(e->type, DELIVER_EVENT) != 0) {
		if (webhook_body(e->type, e->created_at, e->payload, body) == 0)
			return 0;
		give_up(db, e, "dead", 0, "the event is too large to send", hash);
		return 1;
	}
	switch (deliver_body(db, cfg, e, body, hash, why)) {
	case DELIVER_BODY:
		return 0;
	case DELIVER_STALE:
		log_info("event %s (%s): %s", e->event_id, e->type, why);
		run(db, DB_OUTBOX_SKIP, (const char *[2]){ e->id, why });
		return 1;
	case DELIVER_FAILED:
		give_up(db, e, "dead", 0, why, hash);
		return 1;
	default:
		return -1;
	}
}

/* Delivers claimed row i of r and records the outcome. */
static void post_event(struct db *db, const struct config *cfg, PGresult *r, int i)
{
	struct db_event_row e;
	struct webhook_result res;
	struct buf body;
	char secret[TOKEN_WHSEC_LEN + 1], previous[TOKEN_WHSEC_LEN + 1];
	char hash[TOKEN_HASH_HEX_LEN] = "", reply[64];

	db_event_row(r, i, &e);
	if (e.url[0] == '\0') {
		give_up(db, &e, "skipped", 0, "the tenant has no webhook_url", hash);
		return;
	}
	if (e.disabled) {
		give_up(db, &e, "skipped", 0, "webhooks are disabled for the tenant after 410 Gone; "
			"set the webhook_url again to enable them", hash);
		return;
	}
	if (webhook_secret_open(cfg, e.secret, secret) < 0 ||
	    webhook_secret_open(cfg, e.secret_previous, previous) < 0) {
		log_errx("event %s: the webhook secret of tenant %s cannot be opened: it was sealed "
			 "under another secret_key (during a rotation, set the old one as "
			 "secret_key_previous)", e.event_id, e.tenant_id);
		give_up(db, &e, "dead", 0, "the tenant's webhook secret cannot be opened "
			"(secret_key changed without secret_key_previous?)", hash);
		return;
	}
	buf_init(&body, BODY_MAX);
	if (event_body(db, cfg, &e, &body, hash) == 0)
		webhook_send(cfg, e.url, secret, previous, e.event_id, body.data, &res);
	else
		res.status = -1;
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(previous, sizeof previous);
	/* a verification.deliver event's body holds a code */
	sodium_memzero(body.data, body.len);
	buf_free(&body);
	if (res.status < 0)
		return;
	if (res.status >= 200 && res.status <= 299) {
		char st[16];
		const char *p[4] = { e.id, st, reply, *hash ? hash : NULL };
		snprintf(st, sizeof st, "%d", res.status);
		snprintf(reply, sizeof reply, "handed to the webhook endpoint (HTTP %d)", res.status);
		log_info("event %s (%s): delivered, %d", e.event_id, e.type, res.status);
		run(db, DB_OUTBOX_DELIVERED, p);
		return;
	}
	if (res.status == 410) {
		const char *t[1] = { e.tenant_id };
		log_warnx("event %s: the endpoint answered 410 Gone; disabling webhooks of tenant %s",
			  e.event_id, t[0]);
		run(db, DB_TENANT_DISABLE_WEBHOOK, t);
		give_up(db, &e, "dead", 410, "410 Gone: webhooks disabled for the tenant", hash);
		return;
	}
	{
		long long delay = outbox_backoff_ms(cfg->webhook_retry_base_ms, e.attempt);
		char d[24], st[16], max[16];
		const char *p[7] = { e.id, d, res.status ? st : NULL, res.error, max,
				     "the webhook endpoint did not take the code: its event is dead",
				     *hash ? hash : NULL };
		enum db_err err;
		PGresult *u;

		/* 429 and 503 may say when to come back */
		if ((res.status == 429 || res.status == 503) && res.retry_after * 1000LL > delay)
			delay = res.retry_after * 1000LL;
		if (delay > OUTBOX_BACKOFF_CAP_MS)
			delay = OUTBOX_BACKOFF_CAP_MS;
		snprintf(d, sizeof d, "%lld", delay);
		snprintf(st, sizeof st, "%d", res.status);
		snprintf(max, sizeof max, "%d", cfg->webhook_max_attempts);
		if ((u = db_run(db, DB_OUTBOX_RETRY, p, &err, NULL)) == NULL)
			return;
		char host[256], kv[400];
		webhook_url_host(e.url, host, sizeof host);
		snprintf(kv, sizeof kv, "event=%s tenant=%s host=%s", e.event_id, e.tenant_id, host);
		if (db_retry_dead(u))
			log_kv(LOG_LVL_ERROR, kv, "event %s (%s) to %s: attempt %d failed (%s); no "
			       "attempts left, dead", e.event_id, e.type, host, e.attempt, res.error);
		else
			log_kv(LOG_LVL_WARN, kv, "event %s (%s) to %s: attempt %d failed (%s); next in "
			       "%lld ms", e.event_id, e.type, host, e.attempt, res.error, delay);
		PQclear(u);
	}
}

int outbox_drain(struct db *db, const struct config *cfg, int batch, const char *holder,
		 const volatile sig_atomic_t *stop)
{
	static const struct lease q = { DB_OUTBOX_CLAIM, DB_OUTBOX_RELEASE, post_event };

	/* long enough for every event of the batch to time out once */
	return lease_drain(&q, db, cfg, batch, batch * cfg->webhook_timeout_ms + 2000, holder,
			   stop);
}
