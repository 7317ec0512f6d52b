/*
 * mailproofctl bounce: one message on stdin, as an MTA's pipe delivers it
 * (Postfix pipe(8) or local(8) |command, an Exim pipe transport, a
 * .forward or cPanel-style |command).  It finds the verification from the
 * VERP address the message was sent to, reads the bounce (dsn.h), and
 * records it (mp_bounce).  Its exit status is what MTAs understand
 * (sysexits.h), chosen so that nothing is lost and nothing loops:
 *
 *   0            recorded; or nothing to record and nothing to keep: not
 *                sent to a VERP address of ours (a forged or stale tag),
 *                an auto-reply, a message that is no bounce
 *   EX_DATAERR   a bounce that cannot be read: the MTA returns it to its
 *                null sender, so it ends with the postmaster, once
 *   EX_TEMPFAIL  the database is away: the MTA keeps it and tries again
 *   EX_CONFIG    bounce_address is not set: kept too, until it is
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "db_admin.h"
#include "dsn.h"
#include "log.h"
#include "verp.h"

#define BOUNCE_MAX (10 * 1024 * 1024)	/* read; the rest is drained unread */

/* stdin into msg, as much as fits; -1 on a read error. */
static int read_message(struct buf *msg)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (msg->len < msg->max)
			buf_append(msg, chunk, n <= msg->max - msg->len ? n : msg->max - msg->len);
	return ferror(stdin) ? -1 : 0;
}

/*
 * The verification the message was sent for, from where the MTA says it
 * delivered it: --recipient, $ORIGINAL_RECIPIENT or $RECIPIENT (Postfix
 * local(8), Exim), then the headers an MTA adds.  0, or -1 (seen: the
 * first address found, for the log).
 */
static int find_verification(const struct ctx *c, const struct buf *msg, char id[VERP_ID_MAX],
			     char *seen, size_t seenlen)
{
	static const char *const envs[] = { "ORIGINAL_RECIPIENT", "RECIPIENT", NULL };
	static const char *const heads[] = { "X-Original-To", "Delivered-To", "Envelope-To", "To",
					     NULL };
	const char *v = ctl_opt(c, "recipient");
	char h[512];

	seen[0] = '\0';
	if (v)
		snprintf(seen, seenlen, "%s", v);
	if (v && verp_parse(&c->cfg, v, id) == 0)
		return 0;
	for (int i = 0; envs[i]; i++) {
		if ((v = getenv(envs[i])) == NULL || !*v)
			continue;
		if (!seen[0])
			snprintf(seen, seenlen, "%s", v);
		if (verp_parse(&c->cfg, v, id) == 0)
			return 0;
	}
	for (int i = 0; heads[i]; i++) {
		if (dsn_header(msg->data, msg->len, heads[i], h, sizeof h) < 0)
			continue;
		if (!seen[0])
			snprintf(seen, seenlen, "%s", h);
		if (verp_parse(&c->cfg, h, id) == 0)
			return 0;
	}
	return -1;
}

static const char *kind_word(enum dsn_kind k)
{
	return k == DSN_FAILED ? "failed" : k == DSN_DELAYED ? "delayed" : "delivered";
}

/* How the bounce was read: DSN or TEXT; NULL when it is none. */
static const char *source(const struct dsn *d)
{
	if (d->kind != DSN_FAILED && d->kind != DSN_DELAYED && d->kind != DSN_DELIVERED)
		return NULL;
	return d->guessed ? "TEXT" : "DSN";
}

static int report(const struct ctx *c, const char *id, const struct dsn *d, const char *outcome)
{
	json_t *o;

	if (!c->json) {
		printf("%s %s %s %s\n", id[0] ? id : "-", dsn_kind_name(d->kind),
		       d->status[0] ? d->status : "-", outcome);
		return 0;
	}
	o = json_pack("{s:s?, s:s, s:s?, s:s?, s:s?, s:s}", "verificationId", id[0] ? id : NULL,
		      "kind", dsn_kind_name(d->kind), "status", d->status[0] ? d->status : NULL,
		      "diagnostic", d->diagnostic[0] ? d->diagnostic : NULL,
		      "source", source(d),
		      "outcome", outcome);
	return o ? ctl_print_json(o) : 1;
}

int cmd_bounce(struct ctx *c)
{
	struct buf msg;
	struct dsn d;
	char id[VERP_ID_MAX] = "", seen[512], err[512];
	PGresult *r = NULL;
	int rc;

	memset(&d, 0, sizeof d);
	buf_init(&msg, BOUNCE_MAX);
	if (read_message(&msg) < 0) {
		log_errx("bounce: could not read the message: %s", strerror(errno));
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (c->cfg.bounce_address[0] == '\0') {
		log_errx("bounce: bounce_address is not set, so no mail went out with a VERP "
			 "address to come back to: set it (docs/bounces.md); the MTA keeps the message");
		rc = EX_CONFIG;
		goto out;
	}
	if (find_verification(c, &msg, id, seen, sizeof seen) < 0) {
		/* forged, stale (secret_key changed twice) or not ours: nothing to do */
		log_warnx("bounce: not sent to a VERP address of ours (%s): accepted and dropped",
			  seen[0] ? seen : "no recipient found");
		id[0] = '\0';
		rc = report(c, id, &d, "dropped") ? EX_SOFTWARE : EX_OK;
		goto out;
	}
	dsn_parse(msg.data, msg.len, &d);
	if (d.kind == DSN_AUTOREPLY || (d.kind == DSN_UNKNOWN && !d.guessed)) {
		log_info("bounce: %s: %s, not a bounce: ignored", id,
			 d.kind == DSN_AUTOREPLY ? "an auto-reply" : "a message");
		rc = report(c, id, &d, "ignored") ? EX_SOFTWARE : EX_OK;
		goto out;
	}
	if (d.kind == DSN_UNKNOWN) {
		log_errx("bounce: %s: a bounce that says nothing we can read: returned to the MTA",
			 id);
		rc = EX_DATAERR;
		goto out;
	}
	if (c->conn == NULL) {
		log_errx("bounce: %s: %s; the MTA will try again", id, c->db_err);
		rc = EX_TEMPFAIL;
		goto out;
	}
	r = db_admin_bounce(c->conn, id, kind_word(d.kind), d.status, d.diagnostic,
			    source(&d), err, sizeof err);
	if (r == NULL) {
		log_errx("bounce: %s: %s; the MTA will try again", id, err);
		rc = EX_TEMPFAIL;
		goto out;
	}
	log_info("bounce: %s: %s %s (%s, %s) for %s: %s", id, dsn_kind_name(d.kind), d.status,
		 d.guessed ? "read from the text" : "a DSN", d.diagnostic,
		 d.recipient[0] ? d.recipient : "the recipient", db_admin_bounce_outcome(r));
	rc = report(c, id, &d, db_admin_bounce_outcome(r)) ? EX_SOFTWARE : EX_OK;
out:
	PQclear(r);
	buf_free(&msg);
	return rc;
}
