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
				 char *err, size_t errlen);
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

#endif
