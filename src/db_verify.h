/*
 * The results of the statements of the verification routes (verify.c):
 * start, resend, cancel, the code check and the mail's outcome, decoded in
 * one place, like the pages' rows in db_pages.c.  Positions are those of
 * db_statement.cols, which every connection checks when it prepares the
 * statement.  The API's statements start with the key's columns (auth,
 * retry_after; see db_auth()), and are decoded only once the key is good.
 * Strings point into the PGresult and live as long as it does.
 */
#ifndef MAILPROOF_DB_VERIFY_H
#define MAILPROOF_DB_VERIFY_H

#include <stddef.h>

#include <libpq-fe.h>

#include "db_sql.h"
#include "vstatus.h"

/* DB_API_START: see mp_start() in sql/lifecycle.sql. */
struct db_verify_start {
	const char *tenant_id;		/* for the idempotency record */
	const char *mail_from;		/* the tenant's sender override, "" for none */
	const char *outcome;		/* created, replay, idem_*, a limit or a refusal */
	int retry_after;		/* seconds until a limit lets the address through */
	const char *body;		/* created, recovered: the verification;
					   replay: the answer */
	int replay_status;		/* replay: the answer's status; 500 when unreadable;
					   recovered: 201, or 502 when its mail failed */
	const char *locale;		/* the language it was started in */
	int limit_max;			/* a limit: its number (0 when none applies) */
};
void db_verify_start(const PGresult *r, struct db_verify_start *out);

/* DB_API_MAIL_INFO: what a resend needs to write its mail. */
struct db_verify_mail_info {
	const char *email;
	const char *method;		/* OTP, MAGIC_LINK or CODE_AND_LINK */
	const char *format;		/* numeric, alpha, alphanumeric or hex; "" for a link */
	int code_length;		/* 6 when unreadable */
	const char *subject;		/* NULL for the default */
	const char *line;		/* NULL for the default */
	int ttl_seconds;
	const char *mail_from;		/* the tenant's sender override, "" for none */
	const char *locale;		/* the verification's language */
	const char *channel;		/* delivery: smtp, none or webhook */
};
/* 0, or -1 when the key's tenant has no such verification. */
int db_verify_mail_info(const PGresult *r, struct db_verify_mail_info *out);

/* DB_API_RESEND: see mp_resend(). */
struct db_verify_resend {
	const char *outcome;		/* resent, not_found, refused or a limit */
	int retry_after;		/* seconds, of a limit */
	enum verification_status stored, eff;	/* refused: the status before */
	const char *body;		/* resent: the verification */
	const char *tenant;		/* the key's tenant, "" when the key was refused */
	int limit_max;			/* a limit: its number */
	const char *sealed_code;	/* same_code: the code sent before, sealed (hex); else "" */
};
void db_verify_resend(const PGresult *r, struct db_verify_resend *out);

/* DB_API_VERIFY or DB_CHECK_CODE: see mp_check_code(). */
struct db_verify_code {
	int found;			/* an OTP verification of that id */
	enum verification_status stored, eff;	/* before */
	int checked;			/* it took the code; else it refused it */
	enum verification_status result;	/* checked: the status after */
	int remaining;			/* attempts left */
	const char *body;		/* result VERIFIED: the verification */
};
/* s is the statement that made r: they differ only in the key's columns. */
void db_verify_code(const PGresult *r, enum db_stmt s, struct db_verify_code *out);

/* DB_API_CANCEL: see mp_cancel(). */
struct db_verify_cancel {
	int found;
	enum verification_status stored, eff;	/* before */
	const char *body;		/* the verification canceled; NULL when refused */
};
void db_verify_cancel(const PGresult *r, struct db_verify_cancel *out);

/* DB_API_REDIRECTS: up to max of the tenant's redirect prefixes; returns how many. */
size_t db_verify_redirects(const PGresult *r, const char **prefixes, size_t max);

/* DB_MAIL_RESULT: the verification after a send (JSON text), or NULL. */
const char *db_verify_mail_result(const PGresult *r);

#endif
