/*
 * The statements of mailproofctl: tenants, API keys, the outbox, stats.
 * Each returns a result the caller PQclear()s, or NULL with a one-line
 * message in err (PostgreSQL's own text, which names no secret).  The
 * rows are read through the decoders below, in one place: strings point
 * into the result and live as long as it does.  Every result is checked
 * for the column names its decoder reads by position (db_check_cols), so
 * a reordered SELECT is an error, not a misread row.
 */
#ifndef MAILPROOF_DB_ADMIN_H
#define MAILPROOF_DB_ADMIN_H

#include <stddef.h>

#include <libpq-fe.h>

#include "brand.h"

/* A tenant.  A text not set is "", a number not set -1. */
struct db_admin_tenant {
	long long id;
	const char *name;
	const char *webhook_url;
	const char *webhook_disabled_at;	/* set after a 410 Gone */
	const char *redirect_allow;		/* prefixes, space separated */
	long long monthly_quota;
	long long rate_per_email_per_hour;	/* not set: the configured default */
	long long rate_per_key_per_minute;
	long long active_keys;
	const char *created_at;
	const char *mail_from;			/* not set: the configured one */
	const char *display_name;		/* the brand; each "" when not set */
	const char *support_url;
	const char *accent_color;
	const char *default_locale;
	const char *logo_type;
	long long logo_bytes;			/* 0: no logo */
	long long rate_per_client_ip_per_hour;	/* these three: -1 when not set */
	long long rate_per_client_network_per_hour;
	long long addresses_per_client_ip_per_day;
	const char *require_client_ip;		/* "true", "false", or "" when not set */
	const char *resend_policy;		/* "new_code", "same_code", or "" */
};

/* A tenant's template. */
struct db_admin_template {
	const char *name;
	const char *locale;			/* "" for every language */
	long long bytes;
	const char *updated_at;
	const char *body;
};

/* An API key.  A time not set is "". */
struct db_admin_key {
	long long id;
	const char *tenant;
	const char *prefix;
	const char *scopes;			/* comma list */
	const char *created_at;
	const char *revoked_at;
	const char *last_used_at;
	long long requests;
};

/* A webhook event of the outbox. */
struct db_admin_event {
	long long id;
	const char *event_id;
	const char *tenant;
	const char *type;
	const char *state;
	long long attempts;
	const char *run_at;
	long long last_status;			/* an HTTP status, -1 for none */
	const char *last_error;			/* "" for none */
};

/* How many rows of one kind are in one state. */
struct db_admin_count {
	const char *kind;			/* verifications, outbox or mail_jobs */
	const char *state;
	long long count;
};

/* Read with db_admin_id(). */
PGresult *db_admin_tenant_create(PGconn *c, const char *name, const char *webhook_url,
				 const char *webhook_secret, const char *redirect_allow_array,
				 const char *mail_from, char *err, size_t errlen);
/* Every tenant, or the one named name (not NULL), by id.  Read with db_admin_tenant(). */
PGresult *db_admin_tenants(PGconn *c, const char *name, char *err, size_t errlen);
/*
 * Changes what is not NULL: webhook URL ("" removes it; setting it
 * re-enables a disabled endpoint), redirect prefixes (a text[] literal),
 * quota, rate and sender overrides ("" removes the override).  Read with
 * db_admin_id(): no row when there is no such tenant.
 */
PGresult *db_admin_tenant_update(PGconn *c, const char *name, const char *webhook_url,
				 const char *redirect_allow_array, const char *quota,
				 const char *per_hour, const char *per_minute, const char *mail_from,
				 char *err, size_t errlen);
/*
 * A new webhook secret for tenant name; the old one keeps signing for
 * overlap_s seconds.  Read with db_admin_id() (no row: no such tenant);
 * column 1 is the end of the overlap, "" for none.
 */
PGresult *db_admin_tenant_rotate(PGconn *c, const char *name, const char *secret,
				 const char *overlap_s, char *err, size_t errlen);
/* Sets the brand of tenant name (see brand.h); read with db_admin_id(). */
PGresult *db_admin_tenant_brand(PGconn *c, const char *name, const struct brand_values *b,
				char *err, size_t errlen);
/*
 * A tenant's own templates: set one (read with db_admin_id(): no row when
 * there is no such tenant), list them (name NULL) or one name's, delete
 * one (no row when there was none).  locale "" is every language's.
 */
PGresult *db_admin_template_set(PGconn *c, const char *tenant, const char *name,
				const char *locale, const char *body, char *err, size_t errlen);
PGresult *db_admin_templates(PGconn *c, const char *tenant, const char *name, char *err,
			     size_t errlen);
PGresult *db_admin_template_delete(PGconn *c, const char *tenant, const char *name,
				   const char *locale, char *err, size_t errlen);
/* The tenant's brand (db_mail_brand() from column 0) and default locale (column 7). */
PGresult *db_admin_tenant_look(PGconn *c, const char *tenant, char *err, size_t errlen);

/* Read with db_admin_id(): no row when there is no such tenant. */
PGresult *db_admin_key_create(PGconn *c, const char *tenant, const char *hash_hex,
			      const char *prefix, const char *scopes_array, char *err,
			      size_t errlen);
/* The keys of tenant, or of all (NULL), by id.  Read with db_admin_key(). */
PGresult *db_admin_key_list(PGconn *c, const char *tenant, char *err, size_t errlen);
/* Read with db_admin_was_revoked(). */
PGresult *db_admin_key_revoke(PGconn *c, const char *id, char *err, size_t errlen);
/* The newest limit events, of state and tenant when not NULL.  Read with db_admin_event(). */
PGresult *db_admin_outbox_list(PGconn *c, const char *state, const char *tenant,
			       const char *limit, char *err, size_t errlen);
/* Makes a dead or skipped event due again.  Read with db_admin_state_before(). */
PGresult *db_admin_outbox_retry(PGconn *c, const char *id, char *err, size_t errlen);

/*
 * Makes every event in state (dead or skipped) of tenant (a name, NULL:
 * all), created since_seconds ago or at since_time or later (both NULL:
 * ever), due again.  One row, "retried": how many, NULL for no such tenant.
 */
PGresult *db_admin_outbox_retry_all(PGconn *c, const char *state, const char *tenant,
				    const char *since_seconds, const char *since_time, char *err,
				    size_t errlen);
/* By kind, then state; of tenant, or of all (NULL).  Read with db_admin_count(). */
/* Every tenant's webhook secrets as stored: read with db_admin_secrets(). */
PGresult *db_admin_webhook_secrets(PGconn *c, char *err, size_t errlen);

struct db_admin_secrets {
	const char *id;
	const char *name;
	const char *secret;	/* sealed, or whsec_ in clear from before version 11 */
	const char *previous;	/* the same, of a rotation's old secret; "" for none */
};
void db_admin_secrets(const PGresult *r, int i, struct db_admin_secrets *out);

/* Stores tenant id's webhook secrets, sealed; previous NULL for none. */
PGresult *db_admin_webhook_secret_store(PGconn *c, const char *id, const char *secret,
					const char *previous, char *err, size_t errlen);

/*
 * Sets tenant name's own limits per client (clientIp) and resend policy:
 * each NULL to keep, '' to remove (the configured default applies), else a
 * number (require: a boolean; resend_policy: new_code or same_code).  One
 * row, "id", when the tenant exists.
 */
PGresult *db_admin_tenant_overrides(PGconn *c, const char *name, const char *ip_hour,
				    const char *net_hour, const char *addr_day, const char *require,
				    const char *resend_policy, char *err, size_t errlen);

/* A tenant's suppression list (tenant NULL: every tenant's), entries in force. */
PGresult *db_admin_suppression_list(PGconn *c, const char *tenant, char *err, size_t errlen);

struct db_admin_suppression {
	const char *tenant;
	const char *email;
	const char *reason;		/* manual, reported or bounced */
	const char *note;		/* "" for none */
	const char *created_at;
	const char *expires_at;		/* "" for never */
};
void db_admin_suppression(const PGresult *r, int i, struct db_admin_suppression *out);

/*
 * Puts email on tenant's list by hand, for seconds (NULL: for good), with a
 * note ("" or NULL: none); again replaces the entry.  One row
 * (expires_at) when the tenant exists, none when not.
 */
PGresult *db_admin_suppression_add(PGconn *c, const char *tenant, const char *email,
				   const char *seconds, const char *note, char *err, size_t errlen);

/* Takes email off tenant's list: one row, (tenant_found, removed). */
PGresult *db_admin_suppression_remove(PGconn *c, const char *tenant, const char *email,
				      char *err, size_t errlen);

PGresult *db_admin_stats(PGconn *c, const char *tenant, char *err, size_t errlen);

/*
 * Records what a bounce says of verification id (mp_bounce): kind failed,
 * delayed or delivered, its RFC 3463 status and diagnostic, and whether it
 * was a DSN or read from the TEXT.  One row; db_admin_bounce_outcome()
 * tells what changed: bounced, delayed, delivered, ignored or unknown.
 */
PGresult *db_admin_bounce(PGconn *c, const char *id, const char *kind, const char *status,
			  const char *diagnostic, const char *source, char *err, size_t errlen);
const char *db_admin_bounce_outcome(const PGresult *r);

/* The id of what was made or changed; -1 when there is no row. */
long long db_admin_id(const PGresult *r);
void db_admin_tenant(const PGresult *r, int i, struct db_admin_tenant *out);
void db_admin_template(const PGresult *r, int i, struct db_admin_template *out);
void db_admin_key(const PGresult *r, int i, struct db_admin_key *out);
/* 1 when the key already was revoked, 0 when it is now, -1 when there is no such key. */
int db_admin_was_revoked(const PGresult *r);
void db_admin_event(const PGresult *r, int i, struct db_admin_event *out);
/* The event's state before the retry; NULL when there is no such event. */
const char *db_admin_state_before(const PGresult *r);
void db_admin_count(const PGresult *r, int i, struct db_admin_count *out);

#endif
