/* Names of the statements of db_sql.c, which holds their SQL. */
#ifndef MAILPROOF_DB_SQL_H
#define MAILPROOF_DB_SQL_H

/*
 * The tenant t's brand, as mail shows it: the display name (its name when
 * none), support address, accent colour, and the logo's type and bytes
 * (base64), the tenant's id and whether it has templates of its own;
 * each "" when unset.  db_mail_brand() decodes them; mail, pages and
 * mailproofctl's preview read them.
 */
#define MAIL_BRAND_COLS \
	"coalesce(t.display_name, t.name) AS brand, coalesce(t.support_url, '') AS support," \
	" coalesce(t.accent_color, '') AS accent, coalesce(t.logo_type, '') AS logo_type," \
	" coalesce(translate(encode(t.logo, 'base64'), E'\\n', ''), '') AS logo," \
	" t.id AS tenant, EXISTS (SELECT 1 FROM tenant_templates x WHERE x.tenant_id = t.id)" \
	" AS custom"
#define MAIL_BRAND_NAMES "brand support accent logo_type logo tenant custom"

/*
 * What a verification's mail is written from, as stored, of verification
 * v and its tenant t: address, effective status, the tenant's sender
 * override, method, subject, line, lifetime, the keyed hash of its
 * current secret, language and brand.  db_mail_of() decodes them.
 */
#define MAIL_OF_COLS \
	"v.email, mp_status(v) AS status, coalesce(t.mail_from, '') AS mail_from, v.method," \
	" v.subject, v.verification_line, v.ttl_seconds," \
	" encode(v.secret_hash, 'hex') AS secret_hash, v.locale, " MAIL_BRAND_COLS
#define MAIL_OF_NAMES "email status mail_from method subject verification_line ttl_seconds" \
	" secret_hash locale " MAIL_BRAND_NAMES

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
	DB_DELIVER_INFO,
	DB_OUTBOX_SKIP,
	DB_MAILQ_CLAIM,
	DB_MAIL_BRAND,
	DB_TENANT_TEMPLATES,
	DB_MAILQ_RESULT,
	DB_MAILQ_DROP,
	DB_MAILQ_RELEASE,
	DB_LEASES_RETURN,
	DB_SWEEP_EXPIRED,
	DB_PURGE,
	DB_NEXT_DUE,
	DB_NOTIFIER_SLEEPS,
	DB_SYNC_UNRECORDED,
	DB_KEY_LIMIT,
	DB_REPORT_VIEW,
	DB_REPORT,
	DB_REPORT_COUNTS,
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
