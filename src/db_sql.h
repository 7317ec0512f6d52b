/* Names of the statements of db_sql.c, which holds their SQL. */
#ifndef MAILPROOF_DB_SQL_H
#define MAILPROOF_DB_SQL_H

enum db_stmt {
	DB_PING,
	DB_API_GET,
	DB_API_LIST,
	DB_API_VERIFY,
	DB_CHECK_CODE,
	DB_API_REDIRECTS,
	DB_API_START,
	DB_API_MAIL_INFO,
	DB_API_RESEND,
	DB_API_CANCEL,
	DB_LINK_VIEW,
	DB_LINK_CONFIRM,
	DB_HOSTED_INFO,
	DB_IP_HIT,
	DB_MAIL_RESULT,
	DB_IDEM_STORE,
	DB_METRICS,
	DB_NOTIFIER_SEEN,
	DB_OUTBOX_CLAIM,
	DB_OUTBOX_DELIVERED,
	DB_OUTBOX_RETRY,
	DB_OUTBOX_RELEASE,
	DB_OUTBOX_GIVE_UP,
	DB_TENANT_DISABLE_WEBHOOK,
	DB_MAILQ_CLAIM,
	DB_MAIL_BRAND,
	DB_TENANT_TEMPLATES,
	DB_MAILQ_RESULT,
	DB_MAILQ_DROP,
	DB_MAILQ_RELEASE,
	DB_SWEEP_EXPIRED,
	DB_PURGE,
	DB_NEXT_DUE,
	DB_NOTIFIER_SLEEPS,
	DB__COUNT
};

struct db_statement {
	const char *name;
	int nparams;
	/* Safe to send again after a reconnect: it changes nothing. */
	int read_only;
	const char *sql;
	/*
	 * The names of the result columns, in order, that its decoder
	 * (db_api.c, db_pages.c, db_queue.c, db_verify.c, db_admin.c)
	 * reads by position; the connection that prepares the statement
	 * checks them (mailproofctl's unprepared ones: each result), so a
	 * reordered, added or dropped column fails there, not in a
	 * decoder.  NULL for a statement without one.
	 */
	const char *cols;
};

extern const struct db_statement db_statements[DB__COUNT];

#endif
