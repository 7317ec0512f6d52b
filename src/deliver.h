/*
 * verification.deliver events (delivery webhook): the application sends
 * the mail itself.  The notifier writes the mail mailproof would have sent
 * (subject, text and HTML, in the verification's language and the
 * tenant's brand) from the code or link sealed in the event's outbox row,
 * and puts it in the event's data beside the verification:
 *
 *   {"type": "verification.deliver", "timestamp": ..., "data": {
 *     ...the verification as GET shows it...,
 *     "message": {"to", "subject", "text", "html", "code", "link"}}}
 *
 * The row's sealed copy is wiped once the event is delivered or given up,
 * and in the same statement the verification's delivery becomes SENT or
 * FAILED (db_sql.c: DB_OUTBOX_*, mp_deliver_result()) when the event's code
 * is still the verification's.
 */
#ifndef MAILPROOF_DELIVER_H
#define MAILPROOF_DELIVER_H

#include "buf.h"
#include "token.h"

struct config;
struct db;
struct db_event_row;

/* The event's type. */
#define DELIVER_EVENT "verification.deliver"

/* What deliver_body() came to. */
enum deliver_outcome {
	DELIVER_BODY,		/* out holds the body to send */
	DELIVER_STALE,		/* nothing to send: the verification is no longer
				   PENDING, or a resend replaced its code; why says */
	DELIVER_FAILED,		/* it can never be sent: why says (logged) */
	DELIVER_DB,		/* the database failed: try again later */
};

/*
 * The webhook body of claimed event e into out (which the caller wipes),
 * and hash, the keyed hash of its code as stored (a bytea literal), or ""
 * when it could not be opened.  why: a reason for the event's last_error.
 */
enum deliver_outcome deliver_body(struct db *db, const struct config *cfg,
				  const struct db_event_row *e, struct buf *out,
				  char hash[TOKEN_HASH_HEX_LEN], char why[160]);

#endif
