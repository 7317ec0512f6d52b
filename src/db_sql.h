/* Names of the statements of db_sql.c, which holds their SQL. */
#ifndef MAILPROOF_DB_SQL_H
#define MAILPROOF_DB_SQL_H

enum db_stmt {
	DB_PING,
	DB_KEY_LOOKUP,
	DB_VERIFICATION_GET,
	DB_VERIFICATION_LIST,
	DB_VERIFY_CODE,
	DB_LINK_VIEW,
	DB_LINK_CONFIRM,
	DB_HOSTED_INFO,
	DB_IP_HIT,
	DB_TENANT_REDIRECTS,
	DB_START,
	DB_MAIL_INFO,
	DB_MAIL_RESULT,
	DB_RESEND,
	DB_CANCEL,
	DB_IDEM_STORE,
	DB_OUTBOX_DEPTH,
	DB_OUTBOX_CLAIM,
	DB_OUTBOX_DELIVERED,
	DB_OUTBOX_RETRY,
	DB_OUTBOX_RELEASE,
	DB_OUTBOX_GIVE_UP,
	DB_TENANT_DISABLE_WEBHOOK,
	DB_MAILQ_CLAIM,
	DB_MAILQ_RESULT,
	DB_MAILQ_RELEASE,
	DB_SWEEP_EXPIRED,
	DB_PURGE,
	DB_NEXT_DUE,
	DB__COUNT
};

struct db_statement {
	const char *name;
	int nparams;
	/* Safe to send again after a reconnect: it changes nothing. */
	int read_only;
	const char *sql;
};

extern const struct db_statement db_statements[DB__COUNT];

#endif
