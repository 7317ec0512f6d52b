/* See db_admin.h.  Parameters only; arrays travel as text literals. */
#include "db_admin.h"

#include <stdio.h>
#include <string.h>

static PGresult *run(PGconn *c, const char *sql, int n, const char *const *p, char *err,
		     size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	snprintf(err, errlen, "%.*s", (int)strcspn(PQresultErrorMessage(r), "\n"),
		 PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

PGresult *db_admin_tenant_create(PGconn *c, const char *name, const char *webhook_url,
				 const char *webhook_secret, const char *redirect_allow_array,
				 char *err, size_t errlen)
{
	const char *p[4] = { name, webhook_url, webhook_secret, redirect_allow_array };

	return run(c, "INSERT INTO tenants (name, webhook_url, webhook_secret, redirect_allow)"
		      " VALUES ($1, $2, $3, $4::text[]) RETURNING id, name", 4, p, err, errlen);
}

PGresult *db_admin_tenant_list(PGconn *c, char *err, size_t errlen)
{
	return run(c, "SELECT t.id, t.name, coalesce(t.webhook_url, ''),"
		      " array_to_string(t.redirect_allow, ' '),"
		      " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id"
		      "  AND k.revoked_at IS NULL), mp_ts(t.created_at)"
		      " FROM tenants t ORDER BY t.id", 0, NULL, err, errlen);
}

PGresult *db_admin_key_create(PGconn *c, const char *tenant, const char *hash_hex,
			      const char *prefix, const char *scopes_array, char *err,
			      size_t errlen)
{
	const char *p[4] = { tenant, hash_hex, prefix, scopes_array };

	return run(c, "INSERT INTO api_keys (tenant_id, key_hash, key_prefix, scopes)"
		      " SELECT t.id, $2::bytea, $3, $4::text[] FROM tenants t WHERE t.name = $1"
		      " RETURNING id, array_to_string(scopes, ',')", 4, p, err, errlen);
}

PGresult *db_admin_key_list(PGconn *c, const char *tenant, char *err, size_t errlen)
{
	const char *p[1] = { tenant };

	return run(c, "SELECT k.id, t.name, k.key_prefix, array_to_string(k.scopes, ','),"
		      " mp_ts(k.created_at), coalesce(mp_ts(k.revoked_at), ''),"
		      " coalesce(mp_ts(k.last_used_at), ''), k.usage_count"
		      " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
		      " WHERE $1::text IS NULL OR t.name = $1 ORDER BY k.id", 1, p, err, errlen);
}

PGresult *db_admin_key_revoke(PGconn *c, const char *id, char *err, size_t errlen)
{
	const char *p[1] = { id };

	/* The subquery sees the row before this statement's update. */
	return run(c, "UPDATE api_keys k SET revoked_at = coalesce(k.revoked_at, now())"
		      " WHERE k.id = $1::bigint"
		      " RETURNING k.id, (SELECT o.revoked_at IS NOT NULL FROM api_keys o"
		      "  WHERE o.id = k.id)", 1, p, err, errlen);
}
