/*
 * The statements of mailproofctl: tenants and API keys.  Each returns a
 * result the caller prints and PQclear()s, or NULL with a one-line message
 * in err (PostgreSQL's own text, which names no secret).
 */
#ifndef MAILPROOF_DB_ADMIN_H
#define MAILPROOF_DB_ADMIN_H

#include <stddef.h>

#include <libpq-fe.h>

/* Columns: id, name. */
PGresult *db_admin_tenant_create(PGconn *c, const char *name, const char *webhook_url,
				 const char *webhook_secret, const char *redirect_allow_array,
				 const char *mail_from, char *err, size_t errlen);
/* Columns: id, name, webhook_url, redirect_allow (text), keys, created_at. */
PGresult *db_admin_tenant_list(PGconn *c, char *err, size_t errlen);
/* Columns: id, scopes (comma list).  No row: no such tenant. */
PGresult *db_admin_key_create(PGconn *c, const char *tenant, const char *hash_hex,
			      const char *prefix, const char *scopes_array, char *err,
			      size_t errlen);
/* Columns: id, tenant, prefix, scopes, created_at, revoked_at, last_used_at, usage. */
PGresult *db_admin_key_list(PGconn *c, const char *tenant, char *err, size_t errlen);
/* Columns: id, was_revoked ("t" when it already was).  No row: no such key. */
PGresult *db_admin_key_revoke(PGconn *c, const char *id, char *err, size_t errlen);

/*
 * Columns: id, name, webhook_url, webhook_disabled_at, redirect_allow
 * (space separated), monthly_quota, rate_per_email_per_hour,
 * rate_per_key_per_minute, active keys, created_at, mail_from.  No row: no tenant.
 */
PGresult *db_admin_tenant_show(PGconn *c, const char *name, char *err, size_t errlen);
/*
 * Changes what is not NULL: webhook URL ("" removes it; setting it
 * re-enables a disabled endpoint), redirect prefixes (a text[] literal),
 * quota, rate and sender overrides ("" removes the override).  Returns the id, or
 * no row when there is no such tenant.
 */
PGresult *db_admin_tenant_update(PGconn *c, const char *name, const char *webhook_url,
				 const char *redirect_allow_array, const char *quota,
				 const char *per_hour, const char *per_minute, const char *mail_from,
				 char *err, size_t errlen);
/* Columns: id, event id, tenant, type, state, attempts, run_at, last_status, last_error. */
PGresult *db_admin_outbox_list(PGconn *c, const char *state, const char *tenant,
			       const char *limit, char *err, size_t errlen);
/* Makes a dead or skipped event due again.  Returns its state before, or no row. */
PGresult *db_admin_outbox_retry(PGconn *c, const char *id, char *err, size_t errlen);

/* Columns: kind (verifications, outbox, mail_jobs), state, count; $1 tenant or NULL. */
PGresult *db_admin_stats(PGconn *c, const char *tenant, char *err, size_t errlen);

#endif
