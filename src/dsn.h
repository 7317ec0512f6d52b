/*
 * Reading what comes back to the envelope sender: a delivery status
 * notification (RFC 3464: multipart/report; report-type=delivery-status,
 * or a message/delivery-status part anywhere in the message), by best
 * effort the plain-text bounce of an MTA that sends none (qmail, old
 * Exim and Sendmail setups), and an auto-reply (RFC 3834), which is not a
 * bounce.  Pure parsing: no I/O, no allocation that outlives the call.
 */
#ifndef MAILPROOF_DSN_H
#define MAILPROOF_DSN_H

#include <stddef.h>

#define DSN_TEXT_MAX 301	/* the diagnostic kept: 300 characters */
#define DSN_ADDR_MAX 321

enum dsn_kind {
	DSN_UNKNOWN = 0,	/* neither a bounce nor an auto-reply that we can read */
	DSN_FAILED,		/* permanent: Action failed, a 5.x.x status */
	DSN_DELAYED,		/* Action delayed, a 4.x.x status */
	DSN_DELIVERED,		/* Action delivered, relayed or expanded */
	DSN_AUTOREPLY,		/* out of office and the like */
};

struct dsn {
	enum dsn_kind kind;
	int guessed;			/* 1: read from a plain-text bounce, not a report */
	char status[12];		/* RFC 3463, "5.1.1"; "" when none was given */
	char diagnostic[DSN_TEXT_MAX];	/* printable ASCII, whitespace folded */
	char recipient[DSN_ADDR_MAX];	/* Final-Recipient's address, when given */
};

/* Reads msg (len bytes, any content).  Always fills *out. */
void dsn_parse(const char *msg, size_t len, struct dsn *out);

/*
 * The unfolded value of the top-level header name (case-insensitive), the
 * first of them, in out.  Returns 0, or -1 when the message has none.
 */
int dsn_header(const char *msg, size_t len, const char *name, char *out, size_t outlen);

/* "FAILED", "DELAYED", ... for logs. */
const char *dsn_kind_name(enum dsn_kind k);

#endif
