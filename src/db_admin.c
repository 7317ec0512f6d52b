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
				 const char *mail_from, char *err, size_t errlen)
{
	const char *p[5] = { name, webhook_url, webhook_secret, redirect_allow_array, mail_from };

	return run(c, "INSERT INTO tenants (name, webhook_url, webhook_secret, redirect_allow,"
		      " mail_from) VALUES ($1, $2, $3, $4::text[], $5) RETURNING id, name", 5, p, err,
		   errlen);
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

	/* usage: the folded total plus the requests counted since */
	return run(c, "SELECT k.id, t.name, k.key_prefix, array_to_string(k.scopes, ','),"
		      " mp_ts(k.created_at), coalesce(mp_ts(k.revoked_at), ''),"
		      " coalesce(mp_ts(greatest(k.last_used_at, CASE WHEN u.requests > 0"
		      "  THEN u.last_minute + interval '1 minute' END)), ''), k.usage_count + u.requests"
		      " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id,"
		      " LATERAL mp_key_unfolded(k.id) u"
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

PGresult *db_admin_tenant_show(PGconn *c, const char *name, char *err, size_t errlen)
{
	const char *p[1] = { name };

	return run(c, "SELECT t.id, t.name, coalesce(t.webhook_url, ''),"
		      " coalesce(mp_ts(t.webhook_disabled_at), ''),"
		      " array_to_string(t.redirect_allow, ' '), coalesce(t.monthly_quota::text, ''),"
		      " coalesce(t.rate_per_email_per_hour::text, ''),"
		      " coalesce(t.rate_per_key_per_minute::text, ''),"
		      " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id"
		      "  AND k.revoked_at IS NULL), mp_ts(t.created_at), coalesce(t.mail_from, '')"
		      " FROM tenants t WHERE t.name = $1", 1, p, err, errlen);
}

PGresult *db_admin_tenant_update(PGconn *c, const char *name, const char *webhook_url,
				 const char *redirect_allow_array, const char *quota,
				 const char *per_hour, const char *per_minute, const char *mail_from,
				 char *err, size_t errlen)
{
	const char *p[7] = { name, webhook_url, redirect_allow_array, quota, per_hour, per_minute,
			     mail_from };

	return run(c, "UPDATE tenants SET"
		      " webhook_url = CASE WHEN $2::text IS NULL THEN webhook_url"
		      "  ELSE nullif($2, '') END,"
		      " webhook_disabled_at = CASE WHEN $2::text IS NULL THEN webhook_disabled_at END,"
		      " redirect_allow = coalesce($3::text[], redirect_allow),"
		      " monthly_quota = CASE WHEN $4::text IS NULL THEN monthly_quota"
		      "  ELSE nullif($4, '')::int END,"
		      " rate_per_email_per_hour = CASE WHEN $5::text IS NULL THEN rate_per_email_per_hour"
		      "  ELSE nullif($5, '')::int END,"
		      " rate_per_key_per_minute = CASE WHEN $6::text IS NULL THEN rate_per_key_per_minute"
		      "  ELSE nullif($6, '')::int END,"
		      " mail_from = CASE WHEN $7::text IS NULL THEN mail_from ELSE nullif($7, '') END"
		      " WHERE name = $1 RETURNING id", 7, p, err, errlen);
}

PGresult *db_admin_outbox_list(PGconn *c, const char *state, const char *tenant,
			       const char *limit, char *err, size_t errlen)
{
	const char *p[3] = { state, tenant, limit };

	return run(c, "SELECT o.id, o.event_id, t.name, o.type, o.state, o.attempts,"
		      " mp_ts(o.run_at), coalesce(o.last_status::text, ''), coalesce(o.last_error, '')"
		      " FROM outbox o JOIN tenants t ON t.id = o.tenant_id"
		      " WHERE ($1::text IS NULL OR o.state = $1) AND ($2::text IS NULL OR t.name = $2)"
		      " ORDER BY o.id DESC LIMIT $3::int", 3, p, err, errlen);
}

PGresult *db_admin_outbox_retry(PGconn *c, const char *id, char *err, size_t errlen)
{
	const char *p[1] = { id };

	return run(c, "SELECT was FROM mp_outbox_retry($1::bigint) was WHERE was IS NOT NULL", 1, p,
		   err, errlen);
}

PGresult *db_admin_stats(PGconn *c, const char *tenant, char *err, size_t errlen)
{
	const char *p[1] = { tenant };

	return run(c, "WITH t AS (SELECT id FROM tenants WHERE $1::text IS NULL OR name = $1)"
		      " SELECT 'verifications', mp_status(v), count(*) FROM verifications v"
		      "  WHERE v.tenant_id IN (SELECT id FROM t) GROUP BY 2"
		      " UNION ALL SELECT 'outbox', o.state, count(*) FROM outbox o"
		      "  WHERE o.tenant_id IN (SELECT id FROM t) GROUP BY 2"
		      " UNION ALL SELECT 'mail_jobs', j.state, count(*) FROM mail_jobs j"
		      "  JOIN verifications v ON v.id = j.verification_id"
		      "  WHERE v.tenant_id IN (SELECT id FROM t) GROUP BY 2"
		      " ORDER BY 1, 2", 1, p, err, errlen);
}
