/*
 * Every SQL statement the FastCGI workers and the notifier run, prepared
 * once per connection.  Parameters are text with casts in the SQL.  The
 * state changes and what the API reads are functions of
 * sql/lifecycle.sql, each called in one statement: one round trip and one
 * transaction.  The API's statements start with the API key's keyed
 * hashes and the configured per-minute limit ($1-$3), and their results
 * with the outcome of authenticating it (auth, retry_after); see
 * auth_run().
 */
#include "db_sql.h"

#include <stddef.h>

/* The API key's part of every mp_api_*() call. */
#define AUTH "$1::bytea, $2::bytea, $3::int"

const struct db_statement db_statements[DB__COUNT] = {
	[DB_PING] = { "ping", 0, 1, "SELECT 1", NULL },

	/* $4 id.  Then: the verification as GET shows it, or NULL. */
	[DB_API_GET] = { "api_get", 4, 0,
		"SELECT auth, retry_after, body FROM mp_api_get(" AUTH ", $4)",
		"auth retry_after body" },

	/*
	 * $4 email, $5 userId, $6 status (each NULL for any), $7 and $8 the
	 * cursor (created_at in microseconds since the epoch, id) or NULL, $9
	 * the page size.  Then: the items (a JSON array), whether more follow,
	 * and the next cursor's parts.
	 */
	[DB_API_LIST] = { "api_list", 9, 0,
		"SELECT auth, retry_after, items, more, last_us, last_id FROM mp_api_list(" AUTH
		", $4, $5, $6, $7::bigint, $8, $9::int)", "auth retry_after items more last_us last_id" },

	/*
	 * $4 id, $5 and $6 the keyed hashes of the code under secret_key and
	 * secret_key_previous ($6 NULL when unset).  Then: stored and effective
	 * status before (NULL: not found), the new status (NULL: refused),
	 * attempts remaining, and on VERIFIED the verification.
	 */
	[DB_API_VERIFY] = { "api_verify", 6, 0,
		"SELECT auth, retry_after, stored, eff, result, remaining, body FROM mp_api_verify("
		AUTH ", $4, $5::bytea, $6::bytea)", "auth retry_after stored eff result remaining body" },

	/* The hosted page's code check: as DB_API_VERIFY less the key, from column 0. */
	[DB_CHECK_CODE] = { "check_code", 3, 0,
		"SELECT stored, eff, result, remaining, body"
		" FROM mp_check_code(NULL, $1, $2::bytea, $3::bytea)", "stored eff result remaining body" },

	/* The tenant's redirect prefixes, one row each (the start that follows counts). */
	[DB_API_REDIRECTS] = { "api_redirects", 3, 0,
		"SELECT a.auth, a.retry_after, p.prefix FROM mp_api_redirects(" AUTH ") a"
		" LEFT JOIN LATERAL unnest(a.prefixes) AS p(prefix) ON true", "auth retry_after prefix" },

	/*
	 * See mp_start() in sql/lifecycle.sql: $4 id, $5 email, $6 userId, $7
	 * method, $8 token format, $9 code length, $10 secret hash, $11 max
	 * attempts, $12 lifetime, $13 redirect URL, $14 subject, $15 line, $16
	 * metadata, $17 the sealed secret in queue mode, $18 deliverability, $19
	 * disposable, $20 and $21 the idempotency key and body hash, $22 mails
	 * per address and hour, $23 wrong codes per address and day, $24 a
	 * refusal (disposable or undeliverable) or NULL, ... $35 delivery
	 * (smtp, none, webhook), $36 the link token's hash beside a code, $37
	 * the hash of a customCode.  Then: tenant, its sender override,
	 * outcome, body, replayed status.
	 */
	[DB_API_START] = { "api_start", 37, 0,
		"SELECT auth, retry_after, tenant_id, mail_from, outcome, body, replay_status, locale,"
		" limit_max"
		" FROM mp_api_start(" AUTH ", $4, $5, $6, $7, $8, $9::int, $10::bytea, $11::int,"
		" $12::int, $13, $14, $15, $16::jsonb, $17::bytea, $18, $19::bool, $20, $21::bytea,"
		" $22::int, $23::int, $24, $25, $26::inet, $27, $28::int, $29::int, $30::int,"
		" $31::bool, $32::bytea, $33, $34::bytea, $35, $36::bytea, $37::bytea)",
		"auth retry_after tenant_id mail_from outcome body replay_status locale limit_max" },

	/* $4 id.  Then: known, email, method, format, length, subject, line, lifetime, sender. */
	[DB_API_MAIL_INFO] = { "api_mail_info", 4, 0,
		"SELECT auth, retry_after, known, email, method, token_format, code_length, subject,"
		" line, ttl, mail_from, locale, delivery_channel FROM mp_api_mail_info(" AUTH ", $4)",
		"auth retry_after known email method token_format code_length subject line ttl mail_from"
		" locale delivery_channel" },

	/*
	 * See mp_resend(): $4 id, $5 new hash, $6 per hour, $7 fails a day, $8
	 * the sealed secret in queue mode, $9 it in any mode (kept under
	 * same_code), $10 the cooldown, $11 the policy, $12 the new link token's
	 * hash beside a code.  Then: outcome, status,
	 * eff, body, and the code sealed before when it is mailed again (hex).
	 */
	[DB_API_RESEND] = { "api_resend", 12, 0,
		"SELECT auth, retry_after, outcome, status, eff, body, tenant_id, limit_max,"
		" coalesce(encode(sealed_code, 'hex'), '') AS sealed_code"
		" FROM mp_api_resend(" AUTH ", $4, $5::bytea, $6::int, $7::int, $8::bytea, $9::bytea,"
		" $10::int, $11, $12::bytea)",
		"auth retry_after outcome status eff body tenant_id limit_max sealed_code" },

	/* $4 id.  Then: stored and effective status before, the verification after. */
	[DB_API_CANCEL] = { "api_cancel", 4, 0,
		"SELECT auth, retry_after, stored, eff, body FROM mp_api_cancel(" AUTH ", $4)",
		"auth retry_after stored eff body" },

	/* A magic link page fetched: $1, $2 the token's hashes.  Returns id, eff, redirect. */
	[DB_LINK_VIEW] = { "link_view", 2, 0,
		"SELECT l.id, l.eff, l.redirect, v.locale, " MAIL_BRAND_COLS
		" FROM mp_link_view($1::bytea, $2::bytea) l, verifications v, tenants t"
		" WHERE v.id = l.id AND t.id = v.tenant_id",
		"id eff redirect locale " MAIL_BRAND_NAMES },

	/* The confirming POST: as above, and the new status (NULL when nothing changed). */
	[DB_LINK_CONFIRM] = { "link_confirm", 2, 0,
		"SELECT l.id, l.eff, l.redirect, v.locale, " MAIL_BRAND_COLS ", l.result"
		" FROM mp_link_confirm($1::bytea, $2::bytea) l, verifications v, tenants t"
		" WHERE v.id = l.id AND t.id = v.tenant_id",
		"id eff redirect locale " MAIL_BRAND_NAMES " result" },

	/* The hosted code page: $1 id.  Returns effective status, method, format, language, brand. */
	[DB_HOSTED_INFO] = { "hosted_info", 1, 1,
		"SELECT mp_status(v) AS status, v.method, coalesce(v.token_format, '') AS format,"
		" v.locale, " MAIL_BRAND_COLS
		" FROM verifications v, tenants t WHERE v.id = $1 AND t.id = v.tenant_id",
		"status method format locale " MAIL_BRAND_NAMES },

	/* One hosted page request from client address $1 against the limit $2. */
	[DB_IP_HIT] = { "ip_hit", 2, 0,
		"SELECT over, retry_after FROM mp_ip_hit($1, $2::int)", "over retry_after" },

	/*
	 * A sync-mode send: $1 id, $2 sent (bool), $3 SMTP code or NULL, $4
	 * the reply.  Returns the verification as GET shows it after.
	 */
	[DB_MAIL_RESULT] = { "mail_result", 4, 0,
		"SELECT mp_verification_json(r)::text AS body"
		" FROM mp_sync_mail_result($1, $2::bool, $3::int, $4) r WHERE r.id IS NOT NULL", "body" },

	/* Remembers the answer to replay: $1 tenant, $2 key, $3 status, $4 body. */
	[DB_IDEM_STORE] = { "idem_store", 4, 0,
		"UPDATE idempotency_keys SET response_status = $3::int, response_body = $4"
		" WHERE tenant_id = $1::bigint AND key = $2", NULL },

	/* Webhook events not yet delivered, for /metrics. */
	/*
	 * What /metrics shows of the queues: events waiting and dead, mail
	 * waiting, the age in seconds of the oldest of each waiting (0: none),
	 * and since when no notifier was seen (NULL: never).  Each through an
	 * index of the rows it counts, whatever the tables' size (the IN of the
	 * dead ones is outbox_given_up's predicate).
	 */
	[DB_METRICS] = { "metrics", 0, 1,
		"SELECT (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending'))"
		"  AS events_waiting,"
		" (SELECT count(*) FROM outbox WHERE state IN ('dead', 'skipped') AND state = 'dead')"
		"  AS events_dead,"
		" (SELECT count(*) FROM mail_jobs WHERE state IN ('pending', 'sending')) AS mail_waiting,"
		" coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM outbox"
		"  WHERE state IN ('pending', 'sending'))), 0)::bigint AS events_oldest,"
		" coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM mail_jobs"
		"  WHERE state IN ('pending', 'sending'))), 0)::bigint AS mail_oldest,"
		" extract(epoch FROM now() - (SELECT seen_at FROM notifier_sleep WHERE id = 1))::bigint"
		"  AS notifier_seen",
		"events_waiting events_dead mail_waiting events_oldest mail_oldest notifier_seen" },

	/* A notifier is at work (after a sweep). */
	[DB_NOTIFIER_SEEN] = { "notifier_seen", 0, 0, "SELECT mp_notifier_seen()", NULL },

	/*
	 * The notifier's statements.  A claim leases due rows for $2 ms (a row
	 * whose lease ran out, its notifier having died, is due again); SKIP
	 * LOCKED lets any number of notifiers claim side by side.
	 */

	/*
	 * $1 batch, $2 lease ms, $3 the notifier's name.  Returns id, event
	 * id, type, body fields, tenant's endpoint.
	 */
	[DB_OUTBOX_CLAIM] = { "outbox_claim", 3, 0,
		"UPDATE outbox o SET state = 'sending', attempts = o.attempts + 1,"
		"  locked_until = now() + $2::int * interval '1 millisecond', locked_by = $3"
		" FROM (SELECT id FROM outbox"
		"       WHERE (state = 'pending' AND run_at <= now())"
		"          OR (state = 'sending' AND locked_until < now())"
		"       ORDER BY run_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED) due,"
		"  tenants t"
		" WHERE o.id = due.id AND t.id = o.tenant_id"
		" RETURNING o.id, o.event_id, o.type, o.payload::text AS payload,"
		"  mp_ts(o.created_at) AS created_at, o.attempts AS attempt,"
		"  coalesce(t.webhook_url, '') AS url, t.webhook_secret AS secret,"
		"  t.webhook_disabled_at IS NOT NULL AS disabled, t.id AS tenant_id,"
		"  CASE WHEN t.webhook_secret_previous_until > now()"
		"   THEN t.webhook_secret_previous ELSE '' END AS secret_previous,"
		"  encode(o.sealed_secret, 'hex') AS sealed_code, o.verification_id",
		"id event_id type payload created_at attempt url secret disabled tenant_id"
		" secret_previous sealed_code verification_id" },

	/*
	 * $1 id, $2 HTTP status; a verification.deliver event's code is wiped,
	 * and in the same transaction its delivery recorded as SENT ($3 how, $4
	 * the keyed hash of its code: see mp_deliver_result()).
	 */
	[DB_OUTBOX_DELIVERED] = { "outbox_delivered", 4, 0,
		"WITH o AS (UPDATE outbox SET state = 'delivered', delivered_at = now(),"
		"  locked_until = NULL, last_status = $2::int, last_error = NULL, sealed_secret = NULL"
		"  WHERE id = $1::bigint RETURNING verification_id, type)"
		" SELECT mp_deliver_result(o.verification_id, true, $3, $4::bytea) FROM o"
		" WHERE o.type = 'verification.deliver'", NULL },

	/*
	 * A failed attempt: $1 id, $2 delay ms, $3 HTTP status or NULL, $4 what
	 * went wrong, $5 webhook_max_attempts.  The row is dead once it has
	 * had all its attempts; a dead verification.deliver event's code is
	 * wiped and its delivery recorded as FAILED ($6 how, $7 the keyed hash
	 * of its code).  Returns the new state.
	 */
	[DB_OUTBOX_RETRY] = { "outbox_retry", 7, 0,
		"WITH o AS (UPDATE outbox SET locked_until = NULL, last_status = $3::int,"
		"  last_error = $4,"
		"  state = CASE WHEN attempts >= $5::int THEN 'dead' ELSE 'pending' END,"
		"  sealed_secret = CASE WHEN attempts >= $5::int THEN NULL ELSE sealed_secret END,"
		"  run_at = now() + $2::int * interval '1 millisecond'"
		"  WHERE id = $1::bigint RETURNING state, verification_id, type)"
		" SELECT o.state, CASE WHEN o.state = 'dead' AND o.type = 'verification.deliver'"
		"  THEN mp_deliver_result(o.verification_id, false, $6, $7::bytea) END AS recorded"
		" FROM o",
		"state recorded" },

	/* A claimed event not tried (the notifier is stopping): due again at once. */
	[DB_OUTBOX_RELEASE] = { "outbox_release", 1, 0,
		"UPDATE outbox SET state = 'pending', attempts = attempts - 1, locked_until = NULL"
		" WHERE id = $1::bigint AND state = 'sending'", NULL },

	/*
	 * No more attempts: $1 id, $2 'dead' or 'skipped', $3 HTTP status or
	 * NULL, $4 why; a verification.deliver event's delivery is recorded as
	 * FAILED ($5 the keyed hash of its code, or NULL for whatever code).
	 */
	[DB_OUTBOX_GIVE_UP] = { "outbox_give_up", 5, 0,
		"WITH o AS (UPDATE outbox SET state = $2, locked_until = NULL, last_status = $3::int,"
		"  last_error = $4, sealed_secret = NULL WHERE id = $1::bigint"
		"  RETURNING verification_id, type)"
		" SELECT mp_deliver_result(o.verification_id, false, $4, $5::bytea) FROM o"
		" WHERE o.type = 'verification.deliver'", NULL },

	/*
	 * A verification.deliver event with nothing to send: $1 id, $2 why.
	 * Skipped; the verification's delivery is its newer code's business.
	 */
	[DB_OUTBOX_SKIP] = { "outbox_skip", 2, 0,
		"UPDATE outbox SET state = 'skipped', locked_until = NULL, last_error = $2,"
		"  sealed_secret = NULL WHERE id = $1::bigint", NULL },

	/* The endpoint answered 410 Gone: $1 tenant. */
	[DB_TENANT_DISABLE_WEBHOOK] = { "tenant_disable_webhook", 1, 0,
		"UPDATE tenants SET webhook_disabled_at = coalesce(webhook_disabled_at, now())"
		" WHERE id = $1::bigint", NULL },

	/* What a verification.deliver event of verification $1 writes its mail from. */
	[DB_DELIVER_INFO] = { "deliver_info", 1, 1,
		"SELECT " MAIL_OF_COLS
		" FROM verifications v, tenants t WHERE v.id = $1 AND t.id = v.tenant_id",
		MAIL_OF_NAMES },

	/*
	 * $1 batch, $2 lease ms, $3 the notifier's name.  Returns job id,
	 * verification id, attempts, the sealed secret (hex; NULL for a job of
	 * version 3, which carries its whole sealed message instead), the
	 * sealed message, and what the mail is written from (MAIL_OF_COLS).
	 */
	[DB_MAILQ_CLAIM] = { "mailq_claim", 3, 0,
		"UPDATE mail_jobs j SET state = 'sending', attempts = j.attempts + 1,"
		"  locked_until = now() + $2::int * interval '1 millisecond', locked_by = $3"
		" FROM (SELECT id FROM mail_jobs"
		"       WHERE (state = 'pending' AND run_at <= now())"
		"          OR (state = 'sending' AND locked_until < now())"
		"       ORDER BY run_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED) due,"
		"  verifications v, tenants t"
		" WHERE j.id = due.id AND v.id = j.verification_id AND t.id = v.tenant_id"
		" RETURNING j.id, v.id AS verification_id, j.attempts AS attempt,"
		"  encode(j.sealed_secret, 'hex') AS sealed_secret,"
		"  encode(j.sealed_message, 'hex') AS sealed_message, " MAIL_OF_COLS,
		"id verification_id attempt sealed_secret sealed_message " MAIL_OF_NAMES },

	/* The templates of tenant $1 (tenant_templates), all of them: a few at most. */
	[DB_TENANT_TEMPLATES] = { "tenant_templates", 1, 1,
		"SELECT name, locale, body FROM tenant_templates WHERE tenant_id = $1::bigint",
		"name locale body" },

	/* What a mail shows of the tenant of verification $1 (see MAIL_BRAND_COLS). */
	[DB_MAIL_BRAND] = { "mail_brand", 1, 0,
		"SELECT " MAIL_BRAND_COLS " FROM verifications v, tenants t"
		" WHERE v.id = $1 AND t.id = v.tenant_id",
		MAIL_BRAND_NAMES },

	/* A job whose code a resend replaced: $1 job id.  Done, unsent. */
	[DB_MAILQ_DROP] = { "mailq_drop", 1, 0,
		"UPDATE mail_jobs SET state = 'failed', locked_until = NULL,"
		"  sealed_message = ''::bytea, sealed_secret = NULL WHERE id = $1::bigint", NULL },

	/*
	 * The outcome of one queued send: $1 job id, $2 sent (bool), $3 final
	 * (no retry: sent, a 5xx, or the last attempt), $4 SMTP code or NULL,
	 * $5 reply, $6 retry delay ms.  See mp_mail_job_result().
	 */
	[DB_MAILQ_RESULT] = { "mailq_result", 6, 0,
		"SELECT mp_mail_job_result($1::bigint, $2::bool, $3::bool, $4::int, $5, $6::int)", NULL },

	/* A claimed job not tried (the notifier is stopping): due again at once. */
	[DB_MAILQ_RELEASE] = { "mailq_release", 1, 0,
		"UPDATE mail_jobs SET state = 'pending', attempts = attempts - 1, locked_until = NULL"
		" WHERE id = $1::bigint AND state = 'sending'", NULL },

	/*
	 * What notifier $1 claimed before it lost the database and did not
	 * finish: due again at once.  Tried or not, it is tried again (an
	 * event may then arrive twice, and a queued mail go twice, as when a
	 * lease runs out).  Returns how many rows.
	 */
	[DB_LEASES_RETURN] = { "leases_return", 1, 0,
		"WITH o AS (UPDATE outbox SET state = 'pending', locked_until = NULL"
		"           WHERE state = 'sending' AND locked_by = $1 RETURNING 1),"
		" m AS (UPDATE mail_jobs SET state = 'pending', locked_until = NULL"
		"       WHERE state = 'sending' AND locked_by = $1 RETURNING 1)"
		" SELECT (SELECT count(*) FROM o) + (SELECT count(*) FROM m) AS n", "n" },

	/* Expires up to $1 overdue verifications, each with its email.expired event. */
	[DB_SWEEP_EXPIRED] = { "sweep_expired", 1, 0, "SELECT mp_expire($1::int)", NULL },

	/* See mp_purge(): $1 retention_days. */
	[DB_PURGE] = { "purge", 1, 0,
		"SELECT events, verifications FROM mp_purge($1::int)", "events verifications" },

	/* Milliseconds until the next row falls due (NULL: none waits). */
	[DB_NEXT_DUE] = { "next_due", 0, 1, "SELECT mp_next_due()", NULL },

	/* The notifier goes to sleep; see mp_notifier_sleeps(). */
	[DB_NOTIFIER_SLEEPS] = { "notifier_sleeps", 0, 0, "SELECT mp_notifier_sleeps()", NULL },

	/* The verification of a report link's token hashes $1, $2 (NULL: none), as it stands. */
	[DB_REPORT_VIEW] = { "report_view", 2, 1,
		"SELECT v.id, v.reported_at IS NOT NULL AS reported, v.locale, "
		MAIL_BRAND_COLS
		" FROM verifications v, tenants t"
		" WHERE (v.report_hash = $1::bytea OR v.report_hash = $2::bytea) AND t.id = v.tenant_id",
		"id reported locale " MAIL_BRAND_NAMES },

	/* The report itself (mp_report): the verification after. */
	[DB_REPORT] = { "report", 2, 0,
		"SELECT r.id, r.reported_at IS NOT NULL AS reported, r.locale, "
		MAIL_BRAND_COLS
		" FROM mp_report($1::bytea, $2::bytea) r, tenants t"
		" WHERE r.id IS NOT NULL AND t.id = r.tenant_id",
		"id reported locale " MAIL_BRAND_NAMES },

	/* Reports ("Didn't ask for this?") per tenant that has had one, for /metrics. */
	[DB_REPORT_COUNTS] = { "report_counts", 0, 1,
		"SELECT name AS tenant, reports FROM tenants WHERE reports > 0 ORDER BY name",
		"tenant reports" },

	/* The per-minute limit of the key with hash $1 or $2: the tenant's, else $3. */
	[DB_KEY_LIMIT] = { "key_limit", 3, 1,
		"SELECT coalesce(t.rate_per_key_per_minute, $3::int) AS max FROM api_keys a"
		" JOIN tenants t ON t.id = a.tenant_id"
		" WHERE a.key_hash = $1::bytea OR a.key_hash = $2::bytea LIMIT 1", "max" },

	/* Sync-mode mails at least $1 seconds old whose outcome is not recorded; $2 at most. */
	[DB_SYNC_UNRECORDED] = { "sync_unrecorded", 2, 1,
		"SELECT u.id, u.tenant_id, u.secret_prefix, u.age, u.mails"
		" FROM mp_sync_unrecorded($1::int, $2::int) u",
		"id tenant_id secret_prefix age mails" },
};
