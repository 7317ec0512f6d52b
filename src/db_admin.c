/*
 * See db_admin.h.  Parameters only; arrays travel as text literals.  The
 * CLI runs each statement once, so they are sent unprepared; the decoders
 * read the positions of their cols.
 */
#include "db_admin.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_sql.h"

static const struct db_statement s_tenant_create = { "tenant_create", 5, 0,
	"INSERT INTO tenants (name, webhook_url, webhook_secret, redirect_allow, mail_from)"
	" VALUES ($1, $2, $3, $4::text[], $5) RETURNING id", "id" };

static const struct db_statement s_tenants = { "tenants", 1, 1,
	"SELECT t.id, t.name, coalesce(t.webhook_url, '') AS webhook_url,"
	" coalesce(mp_ts(t.webhook_disabled_at), '') AS webhook_disabled_at,"
	" array_to_string(t.redirect_allow, ' ') AS redirect_allow, t.monthly_quota,"
	" t.rate_per_email_per_hour, t.rate_per_key_per_minute,"
	" (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id"
	"  AND k.revoked_at IS NULL) AS active_keys, mp_ts(t.created_at) AS created_at,"
	" coalesce(t.mail_from, '') AS mail_from, coalesce(t.display_name, '') AS display_name,"
	" coalesce(t.support_url, '') AS support_url, coalesce(t.accent_color, '') AS accent_color,"
	" coalesce(t.default_locale, '') AS default_locale, coalesce(t.logo_type, '') AS logo_type,"
	" coalesce(octet_length(t.logo), 0) AS logo_bytes, t.rate_per_client_ip_per_hour,"
	" t.rate_per_client_network_per_hour, t.addresses_per_client_ip_per_day,"
	" coalesce(t.require_client_ip::text, '') AS require_client_ip,"
	" coalesce(t.resend_policy, '') AS resend_policy"
	" FROM tenants t WHERE $1::text IS NULL OR t.name = $1 ORDER BY t.id",
	"id name webhook_url webhook_disabled_at redirect_allow monthly_quota"
	" rate_per_email_per_hour rate_per_key_per_minute active_keys created_at mail_from"
	" display_name support_url accent_color default_locale logo_type logo_bytes"
	" rate_per_client_ip_per_hour rate_per_client_network_per_hour"
	" addresses_per_client_ip_per_day require_client_ip resend_policy" };

/*
 * $1 tenant; $2 display name, $3 support, $4 accent, $5 default locale, $6
 * logo (base64) and $7 its type: NULL keeps, '' removes.
 */
static const struct db_statement s_tenant_brand = { "tenant_brand", 7, 0,
	"UPDATE tenants SET"
	" display_name = CASE WHEN $2::text IS NULL THEN display_name ELSE nullif($2, '') END,"
	" support_url = CASE WHEN $3::text IS NULL THEN support_url ELSE nullif($3, '') END,"
	" accent_color = CASE WHEN $4::text IS NULL THEN accent_color ELSE nullif($4, '') END,"
	" default_locale = CASE WHEN $5::text IS NULL THEN default_locale ELSE nullif($5, '') END,"
	" logo = CASE WHEN $6::text IS NULL THEN logo ELSE decode(nullif($6, ''), 'base64') END,"
	" logo_type = CASE WHEN $6::text IS NULL THEN logo_type ELSE nullif($7, '') END"
	" WHERE name = $1 RETURNING id", "id" };

static const struct db_statement s_tenant_update = { "tenant_update", 7, 0,
	"UPDATE tenants SET"
	" webhook_url = CASE WHEN $2::text IS NULL THEN webhook_url ELSE nullif($2, '') END,"
	" webhook_disabled_at = CASE WHEN $2::text IS NULL THEN webhook_disabled_at END,"
	" redirect_allow = coalesce($3::text[], redirect_allow),"
	" monthly_quota = CASE WHEN $4::text IS NULL THEN monthly_quota"
	"  ELSE nullif($4, '')::int END,"
	" rate_per_email_per_hour = CASE WHEN $5::text IS NULL THEN rate_per_email_per_hour"
	"  ELSE nullif($5, '')::int END,"
	" rate_per_key_per_minute = CASE WHEN $6::text IS NULL THEN rate_per_key_per_minute"
	"  ELSE nullif($6, '')::int END,"
	" mail_from = CASE WHEN $7::text IS NULL THEN mail_from ELSE nullif($7, '') END"
	" WHERE name = $1 RETURNING id", "id" };

/*
 * Tenant $1's own values of config keys (the limits per client, and
 * resend_policy): each NULL to keep, '' to remove (the default applies).
 */
static const struct db_statement s_tenant_overrides = { "tenant_overrides", 6, 0,
	"UPDATE tenants SET"
	" rate_per_client_ip_per_hour = CASE WHEN $2::text IS NULL THEN rate_per_client_ip_per_hour"
	"  ELSE nullif($2, '')::int END,"
	" rate_per_client_network_per_hour = CASE WHEN $3::text IS NULL"
	"  THEN rate_per_client_network_per_hour ELSE nullif($3, '')::int END,"
	" addresses_per_client_ip_per_day = CASE WHEN $4::text IS NULL"
	"  THEN addresses_per_client_ip_per_day ELSE nullif($4, '')::int END,"
	" require_client_ip = CASE WHEN $5::text IS NULL THEN require_client_ip"
	"  ELSE nullif($5, '')::boolean END,"
	" resend_policy = CASE WHEN $6::text IS NULL THEN resend_policy ELSE nullif($6, '') END"
	" WHERE name = $1 RETURNING id", "id" };

/* $1 tenant, $2 name, $3 locale ('' for every one), $4 body.  Returns the tenant's id. */
static const struct db_statement s_template_set = { "template_set", 4, 0,
	"INSERT INTO tenant_templates AS x (tenant_id, name, locale, body)"
	" SELECT t.id, $2, $3, $4 FROM tenants t WHERE t.name = $1"
	" ON CONFLICT (tenant_id, name, locale) DO UPDATE SET body = EXCLUDED.body,"
	"  updated_at = now()"
	" RETURNING x.tenant_id AS id", "id" };

/* $1 tenant, $2 name or NULL for every one.  Each with its text. */
static const struct db_statement s_templates = { "templates", 2, 1,
	"SELECT x.name, x.locale, octet_length(x.body) AS bytes, mp_ts(x.updated_at) AS updated_at,"
	" x.body FROM tenant_templates x JOIN tenants t ON t.id = x.tenant_id"
	" WHERE t.name = $1 AND ($2::text IS NULL OR x.name = $2) ORDER BY x.name, x.locale",
	"name locale bytes updated_at body" };

/* $1 tenant, $2 name, $3 locale.  Returns the tenant's id when there was one. */
static const struct db_statement s_template_delete = { "template_delete", 3, 0,
	"DELETE FROM tenant_templates x USING tenants t"
	" WHERE t.id = x.tenant_id AND t.name = $1 AND x.name = $2 AND x.locale = $3"
	" RETURNING x.tenant_id AS id", "id" };

/* $1 tenant: its brand as mail shows it, and its default locale. */
static const struct db_statement s_tenant_look = { "tenant_look", 1, 1,
	"SELECT " MAIL_BRAND_COLS ", coalesce(t.default_locale, 'en') AS default_locale"
	" FROM tenants t WHERE t.name = $1", MAIL_BRAND_NAMES " default_locale" };

/*
 * $1 tenant, $2 its new webhook secret, $3 seconds the old one keeps
 * signing (0: none).  Returns the id and the end of the overlap ("" for none).
 */
static const struct db_statement s_tenant_rotate = { "tenant_rotate", 3, 0,
	"UPDATE tenants t SET webhook_secret = $2,"
	" webhook_secret_previous = CASE WHEN $3::int > 0 THEN t.webhook_secret END,"
	" webhook_secret_previous_until = CASE WHEN $3::int > 0"
	"  THEN now() + $3::int * interval '1 second' END"
	" WHERE t.name = $1"
	" RETURNING t.id, coalesce(mp_ts(t.webhook_secret_previous_until), '') AS until",
	"id until" };

static const struct db_statement s_key_create = { "key_create", 4, 0,
	"INSERT INTO api_keys (tenant_id, key_hash, key_prefix, scopes)"
	" SELECT t.id, $2::bytea, $3, $4::text[] FROM tenants t WHERE t.name = $1"
	" RETURNING id", "id" };

/* requests: the folded total plus the requests counted since */
static const struct db_statement s_key_list = { "key_list", 1, 1,
	"SELECT k.id, t.name AS tenant, k.key_prefix AS prefix,"
	" array_to_string(k.scopes, ',') AS scopes, mp_ts(k.created_at) AS created_at,"
	" coalesce(mp_ts(k.revoked_at), '') AS revoked_at,"
	" coalesce(mp_ts(greatest(k.last_used_at, CASE WHEN u.requests > 0"
	"  THEN u.last_minute + interval '1 minute' END)), '') AS last_used_at,"
	" k.usage_count + u.requests AS requests"
	" FROM api_keys k JOIN tenants t ON t.id = k.tenant_id,"
	" LATERAL mp_key_unfolded(k.id) u"
	" WHERE $1::text IS NULL OR t.name = $1 ORDER BY k.id",
	"id tenant prefix scopes created_at revoked_at last_used_at requests" };

/* The subquery sees the row before this statement's update. */
static const struct db_statement s_key_revoke = { "key_revoke", 1, 0,
	"UPDATE api_keys k SET revoked_at = coalesce(k.revoked_at, now())"
	" WHERE k.id = $1::bigint"
	" RETURNING k.id, (SELECT o.revoked_at IS NOT NULL FROM api_keys o"
	"  WHERE o.id = k.id) AS was_revoked", "id was_revoked" };

static const struct db_statement s_outbox_list = { "outbox_list", 3, 1,
	"SELECT o.id, o.event_id, t.name AS tenant, o.type, o.state, o.attempts,"
	" mp_ts(o.run_at) AS run_at, o.last_status, coalesce(o.last_error, '') AS last_error"
	" FROM outbox o JOIN tenants t ON t.id = o.tenant_id"
	" WHERE ($1::text IS NULL OR o.state = $1) AND ($2::text IS NULL OR t.name = $2)"
	" ORDER BY o.id DESC LIMIT $3::int",
	"id event_id tenant type state attempts run_at last_status last_error" };

static const struct db_statement s_outbox_retry = { "outbox_retry", 1, 0,
	"SELECT was FROM mp_outbox_retry($1::bigint) was WHERE was IS NOT NULL", "was" };

/* $3: seconds ago, or $4: a time in any form PostgreSQL reads; both NULL: ever. */
static const struct db_statement s_outbox_retry_all = { "outbox_retry_all", 4, 0,
	"SELECT mp_outbox_retry_all($1, $2, coalesce(now() - $3::int * interval '1 second',"
	" $4::timestamptz)) AS retried", "retried" };

static const struct db_statement s_webhook_secrets = { "webhook_secrets", 0, 1,
	"SELECT t.id, t.name, t.webhook_secret AS secret,"
	" coalesce(t.webhook_secret_previous, '') AS previous"
	" FROM tenants t ORDER BY t.id", "id name secret previous" };

static const struct db_statement s_webhook_secret_store = { "webhook_secret_store", 3, 0,
	"UPDATE tenants SET webhook_secret = $2, webhook_secret_previous = $3"
	" WHERE id = $1::bigint", "" };

/* $1 tenant (NULL: all).  Entries in force first: those expired wait for the purge. */
static const struct db_statement s_suppression_list = { "suppression_list", 1, 1,
	"SELECT t.name AS tenant, x.email_norm AS email, x.reason, coalesce(x.note, '') AS note,"
	" mp_ts(x.created_at) AS created_at, coalesce(mp_ts(x.expires_at), '') AS expires_at"
	" FROM suppressions x JOIN tenants t ON t.id = x.tenant_id"
	" WHERE ($1::text IS NULL OR t.name = $1)"
	"  AND (x.expires_at IS NULL OR x.expires_at > now())"
	" ORDER BY x.created_at DESC, x.email_norm",
	"tenant email reason note created_at expires_at" };

/* $1 tenant, $2 address, $3 seconds from now or NULL, $4 note.  No row: no such tenant. */
static const struct db_statement s_suppression_add = { "suppression_add", 4, 0,
	"INSERT INTO suppressions AS x (tenant_id, email_norm, reason, note, expires_at)"
	" SELECT t.id, lower($2), 'manual', nullif($4, ''),"
	"  now() + $3::int * interval '1 second' FROM tenants t WHERE t.name = $1"
	" ON CONFLICT (tenant_id, email_norm) DO UPDATE SET reason = 'manual', note = excluded.note,"
	"  created_at = now(), expires_at = excluded.expires_at"
	" RETURNING coalesce(mp_ts(x.expires_at), '') AS expires_at", "expires_at" };

/* $1 tenant, $2 address.  Returns (tenant_found, removed). */
static const struct db_statement s_suppression_remove = { "suppression_remove", 2, 0,
	"WITH t AS (SELECT id FROM tenants WHERE name = $1),"
	" d AS (DELETE FROM suppressions x USING t WHERE x.tenant_id = t.id"
	"  AND x.email_norm = lower($2) RETURNING 1)"
	" SELECT EXISTS (SELECT 1 FROM t) AS tenant_found, (SELECT count(*) FROM d) AS removed",
	"tenant_found removed" };

/* $1 verification id, $2 failed|delayed|delivered, $3 status, $4 diagnostic, $5 DSN|TEXT. */
static const struct db_statement s_bounce = { "bounce", 5, 0,
	"SELECT mp_bounce($1, $2, $3, $4, $5) AS outcome", "outcome" };

static const struct db_statement s_stats = { "stats", 1, 1,
	"WITH t AS (SELECT id FROM tenants WHERE $1::text IS NULL OR name = $1)"
	" SELECT 'verifications' AS kind, mp_status(v) AS state, count(*) AS count"
	"  FROM verifications v WHERE v.tenant_id IN (SELECT id FROM t) GROUP BY 2"
	" UNION ALL SELECT 'outbox', o.state, count(*) FROM outbox o"
	"  WHERE o.tenant_id IN (SELECT id FROM t) GROUP BY 2"
	" UNION ALL SELECT 'reports', 'reported', coalesce(sum(x.reports), 0) FROM tenants x"
	"  WHERE x.id IN (SELECT id FROM t)"
	" UNION ALL SELECT 'mail_jobs', j.state, count(*) FROM mail_jobs j"
	"  JOIN verifications v ON v.id = j.verification_id"
	"  WHERE v.tenant_id IN (SELECT id FROM t) GROUP BY 2"
	" ORDER BY 1, 2", "kind state count" };

/* Runs st with its nparams parameters p: an array, or the address of the one. */
static PGresult *run(PGconn *c, const struct db_statement *st, const char *const *p, char *err,
		     size_t errlen)
{
	PGresult *r = PQexecParams(c, st->sql, st->nparams, NULL, p, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(r);

	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%.*s", (int)strcspn(PQresultErrorMessage(r), "\n"),
			 PQresultErrorMessage(r));
		goto fail;
	}
	if (db_check_cols(r, st->name, st->cols, err, errlen) < 0)
		goto fail;
	return r;
fail:
	PQclear(r);
	return NULL;
}

PGresult *db_admin_tenant_create(PGconn *c, const char *name, const char *webhook_url,
				 const char *webhook_secret, const char *redirect_allow_array,
				 const char *mail_from, char *err, size_t errlen)
{
	const char *p[5] = { name, webhook_url, webhook_secret, redirect_allow_array, mail_from };

	return run(c, &s_tenant_create, p, err, errlen);
}

PGresult *db_admin_tenants(PGconn *c, const char *name, char *err, size_t errlen)
{
	return run(c, &s_tenants, &name, err, errlen);
}

PGresult *db_admin_tenant_update(PGconn *c, const char *name, const char *webhook_url,
				 const char *redirect_allow_array, const char *quota,
				 const char *per_hour, const char *per_minute, const char *mail_from,
				 char *err, size_t errlen)
{
	const char *p[7] = { name, webhook_url, redirect_allow_array, quota, per_hour, per_minute,
			     mail_from };

	return run(c, &s_tenant_update, p, err, errlen);
}

PGresult *db_admin_tenant_brand(PGconn *c, const char *name, const struct brand_values *b,
				char *err, size_t errlen)
{
	const char *p[7] = { name, b->display_name, b->support_url, b->accent_color,
			     b->default_locale, b->logo, b->logo_type };

	return run(c, &s_tenant_brand, p, err, errlen);
}

PGresult *db_admin_template_set(PGconn *c, const char *tenant, const char *name,
				const char *locale, const char *body, char *err, size_t errlen)
{
	const char *p[4] = { tenant, name, locale, body };

	return run(c, &s_template_set, p, err, errlen);
}

PGresult *db_admin_templates(PGconn *c, const char *tenant, const char *name, char *err,
			     size_t errlen)
{
	const char *p[2] = { tenant, name };

	return run(c, &s_templates, p, err, errlen);
}

PGresult *db_admin_template_delete(PGconn *c, const char *tenant, const char *name,
				   const char *locale, char *err, size_t errlen)
{
	const char *p[3] = { tenant, name, locale };

	return run(c, &s_template_delete, p, err, errlen);
}

PGresult *db_admin_tenant_look(PGconn *c, const char *tenant, char *err, size_t errlen)
{
	return run(c, &s_tenant_look, &tenant, err, errlen);
}

void db_admin_template(const PGresult *r, int i, struct db_admin_template *out)
{
	out->name = PQgetvalue(r, i, 0);
	out->locale = PQgetvalue(r, i, 1);
	out->bytes = db_get_int(r, i, 2, 0, INT64_MAX, 0);
	out->updated_at = PQgetvalue(r, i, 3);
	out->body = PQgetvalue(r, i, 4);
}

PGresult *db_admin_tenant_rotate(PGconn *c, const char *name, const char *secret,
				 const char *overlap_s, char *err, size_t errlen)
{
	const char *p[3] = { name, secret, overlap_s };

	return run(c, &s_tenant_rotate, p, err, errlen);
}

PGresult *db_admin_key_create(PGconn *c, const char *tenant, const char *hash_hex,
			      const char *prefix, const char *scopes_array, char *err,
			      size_t errlen)
{
	const char *p[4] = { tenant, hash_hex, prefix, scopes_array };

	return run(c, &s_key_create, p, err, errlen);
}

PGresult *db_admin_key_list(PGconn *c, const char *tenant, char *err, size_t errlen)
{
	return run(c, &s_key_list, &tenant, err, errlen);
}

PGresult *db_admin_key_revoke(PGconn *c, const char *id, char *err, size_t errlen)
{
	return run(c, &s_key_revoke, &id, err, errlen);
}

PGresult *db_admin_outbox_list(PGconn *c, const char *state, const char *tenant,
			       const char *limit, char *err, size_t errlen)
{
	const char *p[3] = { state, tenant, limit };

	return run(c, &s_outbox_list, p, err, errlen);
}

PGresult *db_admin_outbox_retry(PGconn *c, const char *id, char *err, size_t errlen)
{
	return run(c, &s_outbox_retry, &id, err, errlen);
}

PGresult *db_admin_outbox_retry_all(PGconn *c, const char *state, const char *tenant,
				    const char *since_seconds, const char *since_time, char *err,
				    size_t errlen)
{
	const char *p[4] = { state, tenant, since_seconds, since_time };

	return run(c, &s_outbox_retry_all, p, err, errlen);
}

PGresult *db_admin_webhook_secrets(PGconn *c, char *err, size_t errlen)
{
	return run(c, &s_webhook_secrets, NULL, err, errlen);
}

void db_admin_secrets(const PGresult *r, int i, struct db_admin_secrets *out)
{
	out->id = PQgetvalue(r, i, 0);
	out->name = PQgetvalue(r, i, 1);
	out->secret = PQgetvalue(r, i, 2);
	out->previous = PQgetvalue(r, i, 3);
}

PGresult *db_admin_webhook_secret_store(PGconn *c, const char *id, const char *secret,
					const char *previous, char *err, size_t errlen)
{
	const char *p[3] = { id, secret, previous };

	return run(c, &s_webhook_secret_store, p, err, errlen);
}

PGresult *db_admin_tenant_overrides(PGconn *c, const char *name, const char *ip_hour,
				    const char *net_hour, const char *addr_day, const char *require,
				    const char *resend_policy, char *err, size_t errlen)
{
	const char *p[6] = { name, ip_hour, net_hour, addr_day, require, resend_policy };

	return run(c, &s_tenant_overrides, p, err, errlen);
}

PGresult *db_admin_suppression_list(PGconn *c, const char *tenant, char *err, size_t errlen)
{
	return run(c, &s_suppression_list, &tenant, err, errlen);
}

void db_admin_suppression(const PGresult *r, int i, struct db_admin_suppression *out)
{
	out->tenant = PQgetvalue(r, i, 0);
	out->email = PQgetvalue(r, i, 1);
	out->reason = PQgetvalue(r, i, 2);
	out->note = PQgetvalue(r, i, 3);
	out->created_at = PQgetvalue(r, i, 4);
	out->expires_at = PQgetvalue(r, i, 5);
}

PGresult *db_admin_suppression_add(PGconn *c, const char *tenant, const char *email,
				   const char *seconds, const char *note, char *err, size_t errlen)
{
	const char *p[4] = { tenant, email, seconds, note };

	return run(c, &s_suppression_add, p, err, errlen);
}

PGresult *db_admin_suppression_remove(PGconn *c, const char *tenant, const char *email,
				      char *err, size_t errlen)
{
	const char *p[2] = { tenant, email };

	return run(c, &s_suppression_remove, p, err, errlen);
}

PGresult *db_admin_bounce(PGconn *c, const char *id, const char *kind, const char *status,
			  const char *diagnostic, const char *source, char *err, size_t errlen)
{
	const char *p[5] = { id, kind, status, diagnostic, source };

	return run(c, &s_bounce, p, err, errlen);
}

const char *db_admin_bounce_outcome(const PGresult *r)
{
	return PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "unknown";
}

PGresult *db_admin_stats(PGconn *c, const char *tenant, char *err, size_t errlen)
{
	return run(c, &s_stats, &tenant, err, errlen);
}

long long db_admin_id(const PGresult *r)
{
	return PQntuples(r) == 1 ? db_get_int(r, 0, 0, 0, INT64_MAX, 0) : -1;
}

void db_admin_tenant(const PGresult *r, int i, struct db_admin_tenant *out)
{
	out->id = db_get_int(r, i, 0, 0, INT64_MAX, 0);
	out->name = PQgetvalue(r, i, 1);
	out->webhook_url = PQgetvalue(r, i, 2);
	out->webhook_disabled_at = PQgetvalue(r, i, 3);
	out->redirect_allow = PQgetvalue(r, i, 4);
	out->monthly_quota = db_get_int(r, i, 5, 0, INT64_MAX, -1);
	out->rate_per_email_per_hour = db_get_int(r, i, 6, 0, INT64_MAX, -1);
	out->rate_per_key_per_minute = db_get_int(r, i, 7, 0, INT64_MAX, -1);
	out->active_keys = db_get_int(r, i, 8, 0, INT64_MAX, 0);
	out->created_at = PQgetvalue(r, i, 9);
	out->mail_from = PQgetvalue(r, i, 10);
	out->display_name = PQgetvalue(r, i, 11);
	out->support_url = PQgetvalue(r, i, 12);
	out->accent_color = PQgetvalue(r, i, 13);
	out->default_locale = PQgetvalue(r, i, 14);
	out->logo_type = PQgetvalue(r, i, 15);
	out->logo_bytes = db_get_int(r, i, 16, 0, INT64_MAX, 0);
	out->rate_per_client_ip_per_hour = db_get_int(r, i, 17, 0, INT64_MAX, -1);
	out->rate_per_client_network_per_hour = db_get_int(r, i, 18, 0, INT64_MAX, -1);
	out->addresses_per_client_ip_per_day = db_get_int(r, i, 19, 0, INT64_MAX, -1);
	out->require_client_ip = PQgetvalue(r, i, 20);
	out->resend_policy = PQgetvalue(r, i, 21);
}

void db_admin_key(const PGresult *r, int i, struct db_admin_key *out)
{
	out->id = db_get_int(r, i, 0, 0, INT64_MAX, 0);
	out->tenant = PQgetvalue(r, i, 1);
	out->prefix = PQgetvalue(r, i, 2);
	out->scopes = PQgetvalue(r, i, 3);
	out->created_at = PQgetvalue(r, i, 4);
	out->revoked_at = PQgetvalue(r, i, 5);
	out->last_used_at = PQgetvalue(r, i, 6);
	out->requests = db_get_int(r, i, 7, 0, INT64_MAX, 0);
}

int db_admin_was_revoked(const PGresult *r)
{
	return PQntuples(r) == 1 ? PQgetvalue(r, 0, 1)[0] == 't' : -1;
}

void db_admin_event(const PGresult *r, int i, struct db_admin_event *out)
{
	out->id = db_get_int(r, i, 0, 0, INT64_MAX, 0);
	out->event_id = PQgetvalue(r, i, 1);
	out->tenant = PQgetvalue(r, i, 2);
	out->type = PQgetvalue(r, i, 3);
	out->state = PQgetvalue(r, i, 4);
	out->attempts = db_get_int(r, i, 5, 0, INT64_MAX, 0);
	out->run_at = PQgetvalue(r, i, 6);
	out->last_status = db_get_int(r, i, 7, 0, INT64_MAX, -1);
	out->last_error = PQgetvalue(r, i, 8);
}

const char *db_admin_state_before(const PGresult *r)
{
	return PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : NULL;
}

void db_admin_count(const PGresult *r, int i, struct db_admin_count *out)
{
	out->kind = PQgetvalue(r, i, 0);
	out->state = PQgetvalue(r, i, 1);
	out->count = db_get_int(r, i, 2, 0, INT64_MAX, 0);
}
