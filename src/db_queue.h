/*
 * The rows the notifier claims, decoded in one place: a claimed webhook
 * event (DB_OUTBOX_CLAIM), a claimed mail job (DB_MAILQ_CLAIM), and the
 * rows of its housekeeping.  The
 * strings point into the PGresult and live as long as it does.  The column
 * positions are those of db_statement.cols, which every connection checks
 * when it prepares the statement: change a claim's columns without this
 * file and mailproof refuses to connect instead of misreading a row.
 */
#ifndef MAILPROOF_DB_QUEUE_H
#define MAILPROOF_DB_QUEUE_H

#include <libpq-fe.h>

#include "mail_verification.h"

struct db_event_row {
	const char *id;			/* outbox row */
	const char *event_id;		/* webhook-id */
	const char *type;
	const char *payload;		/* JSON text */
	const char *created_at;		/* the event's timestamp */
	int attempt;			/* this one, from 1 */
	const char *url;		/* "" when the tenant has none */
	const char *secret;		/* whsec_... */
	int disabled;			/* webhooks off after a 410 */
	const char *tenant_id;
	const char *secret_previous;	/* a rotated-out secret that still signs, or "" */
	const char *sealed_code;	/* verification.deliver: the code or link, sealed
					   (hex); NULL once wiped, and for other events */
	const char *verification_id;	/* NULL for an event of no verification */
};

/* What a verification's mail is written from (MAIL_OF_COLS of db_sql.h). */
struct db_mail_of {
	const char *email;
	const char *status;		/* the verification's, as of now */
	const char *mail_from;		/* the tenant's, "" for the default */
	const char *method;		/* OTP, MAGIC_LINK or CODE_AND_LINK */
	const char *subject;		/* NULL for the default */
	const char *verification_line;	/* NULL for the default */
	int ttl_seconds;
	const char *secret_hash;	/* hex: the verification's current secret */
	const char *locale;
	struct mail_brand brand;
};

/*
 * Points vm at what m says of verification id; its code and link are the
 * caller's (secret_mail()).
 */
void db_mail_of_verification(const struct db_mail_of *m, const char *id,
			     struct mail_verification *vm);

struct db_mail_row {
	const char *id;			/* mail job */
	const char *verification_id;
	int attempt;			/* this one, from 1 */
	const char *sealed_secret;	/* hex, NULL for a job that holds its message */
	const char *sealed_message;	/* hex */
	struct db_mail_of m;
};

/*
 * DB_DELIVER_INFO: what a verification.deliver event's mail is written
 * from.  0, or -1 when there is no such verification (purged).
 */
int db_deliver_info(const PGresult *r, struct db_mail_of *out);

/* DB_SYNC_UNRECORDED: a sync-mode mail whose outcome no worker recorded. */
struct db_unrecorded_row {
	const char *verification_id;
	const char *tenant_id;
	const char *secret_prefix;	/* 8 hex digits of the code's keyed hash */
	int age;			/* seconds since it was sent */
	int mails;			/* mails of the verification recorded before it */
};
void db_unrecorded_row(const PGresult *r, int i, struct db_unrecorded_row *out);

/* DB_PURGE: what mp_purge() deleted. */
struct db_purged {
	long long events;
	long long verifications;
};

/* The id of claimed row i of a claim (every claim returns it first). */
const char *db_claimed_id(const PGresult *r, int i);

/* Row i of a DB_OUTBOX_CLAIM result. */
void db_event_row(const PGresult *r, int i, struct db_event_row *out);

/* Row i of a DB_MAILQ_CLAIM result. */
void db_mail_row(const PGresult *r, int i, struct db_mail_row *out);

void db_purged(const PGresult *r, struct db_purged *out);

/* True when a DB_OUTBOX_RETRY result says the event is dead: no attempts left. */
int db_retry_dead(const PGresult *r);

#endif
