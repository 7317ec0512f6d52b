/*
 * The rows the hosted pages read (hosted.c), decoded in one place, like
 * the notifier's in db_queue.c: positions are those of db_statement.cols,
 * which every connection checks when it prepares the statement.  Strings
 * point into the PGresult and live as long as it does.
 */
#ifndef MAILPROOF_DB_PAGES_H
#define MAILPROOF_DB_PAGES_H

#include <libpq-fe.h>

#include "mail_verification.h"
#include "vstatus.h"

/* DB_IP_HIT: whether the client address is over its limit, and for how long. */
struct db_ip_hit {
	int over;
	int retry_after;	/* seconds, 1-60 */
};

/* DB_LINK_VIEW and DB_LINK_CONFIRM: the verification of a link token. */
struct db_link {
	const char *id;
	enum verification_status eff;	/* before a confirm */
	const char *redirect;		/* "" for none */
	int confirmed;			/* DB_LINK_CONFIRM verified it now */
	const char *locale;
	struct mail_brand brand;
};

/* DB_REPORT_VIEW and DB_REPORT: the verification of a report link. */
struct db_report {
	const char *id;
	int reported;			/* its person said they did not ask */
	const char *locale;
	struct mail_brand brand;
};
/* Reads the one row of r into out; -1 when there is none. */
int db_report(const PGresult *r, struct db_report *out);

/* DB_HOSTED_INFO: the verification of the hosted code page. */
struct db_hosted_info {
	enum verification_status eff;
	int otp;			/* a code, not a magic link */
	const char *format;		/* numeric, alpha or alphanumeric */
	const char *locale;
	struct mail_brand brand;
};

void db_ip_hit(const PGresult *r, struct db_ip_hit *out);

/* 0, or -1 when the token matched nothing (r has no row). */
int db_link(const PGresult *r, struct db_link *out);

/* 0, or -1 when there is no such verification. */
int db_hosted_info(const PGresult *r, struct db_hosted_info *out);

#endif
