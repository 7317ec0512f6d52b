/*
 * Every SQL statement the FastCGI workers run, prepared once per connection.
 * Parameters are text with casts in the SQL.  State changes are single
 * statements: the data-modifying CTEs below decide the transition, its
 * limits and its outbox event in one round trip and one transaction.
 */
#include "db_sql.h"

const struct db_statement db_statements[DB__COUNT] = {
	[DB_PING] = { "ping", 0, 1, "SELECT 1" },

	/*
	 * Authenticates: $1 keyed hash of the presented key (hex bytea), $2 the
	 * configured requests per key per minute.  Counts the request in the
	 * key's minute window in the same round trip; that window is also the
	 * key's usage (mp_purge folds old windows into api_keys.usage_count),
	 * so no request writes the api_keys row, which would serialize every
	 * request of a key.  Returns id, tenant, scopes, revoked, hash (hex),
	 * limit, count in this minute, seconds left in it, the tenant's
	 * mail_from override.
	 */
	[DB_KEY_LOOKUP] = { "key_lookup", 2, 0,
		"WITH k AS ("
		"  SELECT k.id, k.tenant_id, k.scopes, k.revoked_at IS NOT NULL AS revoked,"
		"   k.key_hash, coalesce(t.rate_per_key_per_minute, $2::int) AS lim,"
		"   coalesce(t.mail_from, '') AS mail_from"
		"  FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
		"  WHERE k.key_hash = $1::bytea)"
		" SELECT k.id, k.tenant_id, array_to_string(k.scopes, ','), k.revoked,"
		"  encode(k.key_hash, 'hex'), k.lim,"
		"  CASE WHEN k.revoked THEN 0"
		"   ELSE mp_count('key:' || k.id, date_trunc('minute', now())) END,"
		"  mp_retry_after(date_trunc('minute', now()), interval '1 minute'), k.mail_from"
		" FROM k" },

	/* $1 verification id, $2 tenant id. */
	[DB_VERIFICATION_GET] = { "verification_get", 2, 1,
		"SELECT mp_verification_json(v)::text FROM verifications v"
		" WHERE v.id = $1 AND v.tenant_id = $2::bigint" },

	/*
	 * Checks a code: $1 verification id, $2 tenant id (NULL from the hosted
	 * page, where the unguessable id is the credential), $3 and $4 the keyed
	 * hashes of the submitted code under secret_key and secret_key_previous
	 * ($4 NULL when there is none).
	 * cur locks the row and so sees the latest committed state; upd applies
	 * the transition only to a PENDING, unexpired row with attempts left,
	 * which is what makes concurrent guesses unable to pass max_attempts and
	 * concurrent right codes verify exactly once.  A wrong code also counts
	 * against the address's wrong codes of the day.  The comparison is between
	 * keyed digests, so its timing says nothing about the code.
	 * Returns one row (none: unknown id): stored status, effective status
	 * before, new status or NULL, attempts remaining, and the verification
	 * as GET shows it after the change.
	 */
	[DB_VERIFY_CODE] = { "verify_code", 4, 0,
		"WITH cur AS ("
		"  SELECT v.id, v.status, mp_status(v) AS eff,"
		"   (v.secret_hash = $3::bytea OR coalesce(v.secret_hash = $4::bytea, false)) AS matched"
		"  FROM verifications v WHERE v.id = $1"
		"   AND ($2::bigint IS NULL OR v.tenant_id = $2::bigint) AND v.method = 'OTP'"
		"  FOR UPDATE),"
		" upd AS ("
		"  UPDATE verifications v SET"
		"   attempts = v.attempts + CASE WHEN cur.matched THEN 0 ELSE 1 END,"
		"   status = CASE WHEN cur.matched THEN 'VERIFIED'"
		"                 WHEN v.attempts + 1 >= v.max_attempts THEN 'FAILED'"
		"                 ELSE 'PENDING' END,"
		"   verified_at = CASE WHEN cur.matched THEN now() END,"
		"   updated_at = now()"
		"  FROM cur WHERE v.id = cur.id AND cur.eff = 'PENDING'"
		"   AND v.attempts < v.max_attempts"
		"  RETURNING v),"
		" ev AS ("
		"  INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)"
		"  SELECT (mp_event(upd.v, CASE (upd.v).status WHEN 'VERIFIED' THEN 'email.verified'"
		"   ELSE 'email.failed' END)).*"
		"  FROM upd WHERE (upd.v).status IN ('VERIFIED', 'FAILED')),"
		" wrong AS ("
		"  INSERT INTO rate_counters (bucket, window_start, count)"
		"  SELECT 'fail:' || (upd.v).tenant_id || ':' || (upd.v).email_norm,"
		"   date_trunc('day', now()), 1"
		"  FROM upd WHERE (upd.v).status <> 'VERIFIED'"
		"  ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + 1)"
		" SELECT cur.status, cur.eff, (upd.v).status,"
		"  greatest((upd.v).max_attempts - (upd.v).attempts, 0),"
		"  mp_verification_json(upd.v)::text"
		" FROM cur LEFT JOIN upd ON true" },

	/*
	 * A fetch of a magic link page: $1 and $2 the keyed hashes of the token
	 * under secret_key and secret_key_previous.  Counts the view (a mail
	 * scanner's or a person's, who has not confirmed yet).  Returns id,
	 * effective status, redirect URL.
	 */
	[DB_LINK_VIEW] = { "link_view", 2, 0,
		"UPDATE verifications v SET link_views = v.link_views + 1"
		" WHERE v.method = 'MAGIC_LINK'"
		"  AND (v.secret_hash = $1::bytea OR v.secret_hash = $2::bytea)"
		" RETURNING v.id, mp_status(v), coalesce(v.redirect_url, '')" },

	/*
	 * The confirming POST of a magic link: $1 and $2 as above.  Verifies a
	 * PENDING, unexpired verification with its email.verified event, once.
	 * Returns id, effective status before, redirect URL, new status or NULL.
	 */
	[DB_LINK_CONFIRM] = { "link_confirm", 2, 0,
		"WITH cur AS ("
		"  SELECT v.id, mp_status(v) AS eff, coalesce(v.redirect_url, '') AS redirect"
		"  FROM verifications v WHERE v.method = 'MAGIC_LINK'"
		"   AND (v.secret_hash = $1::bytea OR v.secret_hash = $2::bytea) FOR UPDATE),"
		" upd AS ("
		"  UPDATE verifications v SET status = 'VERIFIED', verified_at = now(),"
		"   updated_at = now()"
		"  FROM cur WHERE v.id = cur.id AND cur.eff = 'PENDING' RETURNING v),"
		" ev AS ("
		"  INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)"
		"  SELECT (mp_event(upd.v, 'email.verified')).* FROM upd)"
		" SELECT cur.id, cur.eff, cur.redirect, (upd.v).status FROM cur LEFT JOIN upd ON true" },

	/* The hosted code page: $1 id.  Returns effective status, attempts left, method, format. */
	[DB_HOSTED_INFO] = { "hosted_info", 1, 1,
		"SELECT mp_status(v), greatest(v.max_attempts - v.attempts, 0), v.method,"
		"  coalesce(v.token_format, '')"
		" FROM verifications v WHERE v.id = $1" },

	/*
	 * One request from client address $1 against rate_per_ip_per_minute $2.
	 * Returns whether it is over, and the seconds left in the minute.
	 */
	[DB_IP_HIT] = { "ip_hit", 2, 0,
		"SELECT mp_count('ip:' || $1, date_trunc('minute', now())) > $2::int,"
		"  mp_retry_after(date_trunc('minute', now()), interval '1 minute')" },

	/* The redirect prefixes a tenant allows: $1 tenant. */
	[DB_TENANT_REDIRECTS] = { "tenant_redirects", 1, 1,
		"SELECT unnest(redirect_allow) FROM tenants WHERE id = $1::bigint" },

	/*
	 * Lists a tenant's verifications, newest first: $1 tenant, $2 email,
	 * $3 userId, $4 status (each NULL for any), $5 and $6 the cursor
	 * (created_at in microseconds since the epoch, id) or NULL, $7 limit.
	 * Returns the verification, and its cursor parts.
	 */
	[DB_VERIFICATION_LIST] = { "verification_list", 7, 1,
		"SELECT mp_verification_json(v)::text,"
		"  (extract(epoch FROM v.created_at) * 1000000)::bigint, v.id"
		" FROM verifications v WHERE v.tenant_id = $1::bigint"
		"  AND ($2::text IS NULL OR v.email_norm = lower($2))"
		"  AND ($3::text IS NULL OR v.user_id = $3)"
		"  AND ($4::text IS NULL OR mp_status(v) = $4)"
		"  AND ($5::bigint IS NULL OR (v.created_at, v.id) <"
		"       ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6))"
		" ORDER BY v.created_at DESC, v.id DESC LIMIT $7::int" },

	/* Starts a verification; see mp_start() in sql/002_verification_flow.sql. */
	[DB_START] = { "start", 22, 0,
		"SELECT outcome, retry_after, body, replay_status FROM mp_start($1::bigint,"
		" $2::bigint, $3, $4, $5, $6, $7, $8::int, $9::bytea, $10::int, $11::int, $12, $13,"
		" $14, $15::jsonb, $16::bytea, $17, $18::bool, $19, $20::bytea, $21::int, $22::int)" },

	/* What a resend needs to write the mail: $1 id, $2 tenant. */
	[DB_MAIL_INFO] = { "mail_info", 2, 1,
		"SELECT v.email, v.method, coalesce(v.token_format, ''), coalesce(v.code_length, 0),"
		"  v.subject, v.verification_line, v.ttl_seconds"
		" FROM verifications v WHERE v.id = $1 AND v.tenant_id = $2::bigint" },

	/*
	 * Records a send: $1 id, $2 success (bool), $3 SMTP code or NULL, $4
	 * the server's reply.  A failed send fails a PENDING verification and
	 * emits email.failed.  Returns the verification as GET shows it.
	 */
	[DB_MAIL_RESULT] = { "mail_result", 4, 0,
		"WITH upd AS ("
		"  UPDATE verifications v SET"
		"   delivery_status = CASE WHEN $2::bool THEN 'SENT' ELSE 'FAILED' END,"
		"   delivery_attempts = v.delivery_attempts + 1, smtp_code = $3::int,"
		"   smtp_reply = $4, sent_at = CASE WHEN $2::bool THEN now() END,"
		"   status = CASE WHEN NOT $2::bool AND v.status = 'PENDING' THEN 'FAILED'"
		"                 ELSE v.status END,"
		"   updated_at = now()"
		"  WHERE v.id = $1 RETURNING v),"
		" ev AS ("
		"  INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)"
		"  SELECT (mp_event(upd.v, 'email.failed')).*"
		"  FROM upd WHERE NOT $2::bool AND (upd.v).status = 'FAILED'"
		"  ON CONFLICT (event_id) DO NOTHING)"
		" SELECT mp_verification_json(upd.v)::text FROM upd" },

	/*
	 * See mp_resend(): $1 tenant, $2 id, $3 new hash, $4 per hour, $5 fails
	 * a day, $6 the sealed mail in queue mode (else NULL).
	 */
	[DB_RESEND] = { "resend", 6, 0,
		"SELECT outcome, retry_after, status, eff, body"
		" FROM mp_resend($1::bigint, $2, $3::bytea, $4::int, $5::int, $6::bytea)" },

	/*
	 * Cancels a PENDING verification: $1 id, $2 tenant.  Returns the stored
	 * and effective status before, and the verification after (NULL when
	 * nothing changed).
	 */
	[DB_CANCEL] = { "cancel", 2, 0,
		"WITH cur AS ("
		"  SELECT v.id, v.status, mp_status(v) AS eff FROM verifications v"
		"  WHERE v.id = $1 AND v.tenant_id = $2::bigint FOR UPDATE),"
		" upd AS ("
		"  UPDATE verifications v SET status = 'CANCELED', updated_at = now()"
		"  FROM cur WHERE v.id = cur.id AND cur.eff = 'PENDING' RETURNING v),"
		" ev AS ("
		"  INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)"
		"  SELECT (mp_event(upd.v, 'verification.canceled')).* FROM upd)"
		" SELECT cur.status, cur.eff,"
		"  CASE WHEN (upd.v).id IS NOT NULL THEN mp_verification_json(upd.v)::text END"
		" FROM cur LEFT JOIN upd ON true" },

	/* Remembers the answer to replay: $1 tenant, $2 key, $3 status, $4 body. */
	[DB_IDEM_STORE] = { "idem_store", 4, 0,
		"UPDATE idempotency_keys SET response_status = $3::int, response_body = $4"
		" WHERE tenant_id = $1::bigint AND key = $2" },

	/* Webhook events not yet delivered, for /metrics. */
	[DB_OUTBOX_DEPTH] = { "outbox_depth", 0, 1,
		"SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')" },

	/*
	 * The notifier's statements.  A claim leases due rows for $2 ms (a row
	 * whose lease ran out, its notifier having died, is due again); SKIP
	 * LOCKED lets any number of notifiers claim side by side.
	 */

	/* $1 batch, $2 lease ms.  Returns id, event id, type, body fields, tenant's endpoint. */
	[DB_OUTBOX_CLAIM] = { "outbox_claim", 2, 0,
		"UPDATE outbox o SET state = 'sending', attempts = o.attempts + 1,"
		"  locked_until = now() + $2::int * interval '1 millisecond'"
		" FROM (SELECT id FROM outbox"
		"       WHERE (state = 'pending' AND run_at <= now())"
		"          OR (state = 'sending' AND locked_until < now())"
		"       ORDER BY run_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED) due,"
		"  tenants t"
		" WHERE o.id = due.id AND t.id = o.tenant_id"
		" RETURNING o.id, o.event_id, o.type, o.payload::text, mp_ts(o.created_at),"
		"  o.attempts, coalesce(t.webhook_url, ''), t.webhook_secret,"
		"  t.webhook_disabled_at IS NOT NULL, t.id" },

	/* $1 id, $2 HTTP status. */
	[DB_OUTBOX_DELIVERED] = { "outbox_delivered", 2, 0,
		"UPDATE outbox SET state = 'delivered', delivered_at = now(), locked_until = NULL,"
		"  last_status = $2::int, last_error = NULL WHERE id = $1::bigint" },

	/*
	 * A failed attempt: $1 id, $2 delay ms, $3 HTTP status or NULL, $4 what
	 * went wrong, $5 webhook_max_attempts.  The row is dead once it has
	 * had all its attempts.  Returns the new state.
	 */
	[DB_OUTBOX_RETRY] = { "outbox_retry", 5, 0,
		"UPDATE outbox SET locked_until = NULL, last_status = $3::int, last_error = $4,"
		"  state = CASE WHEN attempts >= $5::int THEN 'dead' ELSE 'pending' END,"
		"  run_at = now() + $2::int * interval '1 millisecond'"
		" WHERE id = $1::bigint RETURNING state" },

	/* A claimed event not tried (the notifier is stopping): due again at once. */
	[DB_OUTBOX_RELEASE] = { "outbox_release", 1, 0,
		"UPDATE outbox SET state = 'pending', attempts = attempts - 1, locked_until = NULL"
		" WHERE id = $1::bigint AND state = 'sending'" },

	/* No more attempts: $1 id, $2 'dead' or 'skipped', $3 HTTP status or NULL, $4 why. */
	[DB_OUTBOX_GIVE_UP] = { "outbox_give_up", 4, 0,
		"UPDATE outbox SET state = $2, locked_until = NULL, last_status = $3::int,"
		"  last_error = $4 WHERE id = $1::bigint" },

	/* The endpoint answered 410 Gone: $1 tenant. */
	[DB_TENANT_DISABLE_WEBHOOK] = { "tenant_disable_webhook", 1, 0,
		"UPDATE tenants SET webhook_disabled_at = coalesce(webhook_disabled_at, now())"
		" WHERE id = $1::bigint" },

	/*
	 * $1 batch, $2 lease ms.  Returns job id, verification id, address,
	 * sealed mail, attempts, status, the tenant's sender override.
	 */
	[DB_MAILQ_CLAIM] = { "mailq_claim", 2, 0,
		"UPDATE mail_jobs j SET state = 'sending', attempts = j.attempts + 1,"
		"  locked_until = now() + $2::int * interval '1 millisecond'"
		" FROM (SELECT id FROM mail_jobs"
		"       WHERE (state = 'pending' AND run_at <= now())"
		"          OR (state = 'sending' AND locked_until < now())"
		"       ORDER BY run_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED) due,"
		"  verifications v, tenants t"
		" WHERE j.id = due.id AND v.id = j.verification_id AND t.id = v.tenant_id"
		" RETURNING j.id, v.id, v.email, encode(j.sealed_message, 'hex'), j.attempts,"
		"  mp_status(v), coalesce(t.mail_from, '')" },

	/*
	 * The outcome of one queued send: $1 job id, $2 sent (bool), $3 SMTP
	 * code or NULL, $4 reply, $5 final (no retry: sent, a 5xx, or the last
	 * attempt), $6 retry delay ms.  A final failure fails a PENDING
	 * verification and emits email.failed; a finished job drops its sealed
	 * message.
	 */
	[DB_MAILQ_RESULT] = { "mailq_result", 6, 0,
		"WITH job AS ("
		"  UPDATE mail_jobs j SET locked_until = NULL,"
		"   state = CASE WHEN $2::bool THEN 'sent' WHEN $5::bool THEN 'failed' ELSE 'pending' END,"
		"   run_at = now() + $6::int * interval '1 millisecond',"
		"   sealed_message = CASE WHEN $5::bool THEN ''::bytea ELSE j.sealed_message END"
		"  WHERE j.id = $1::bigint RETURNING j.verification_id),"
		" upd AS ("
		"  UPDATE verifications v SET delivery_attempts = v.delivery_attempts + 1,"
		"   smtp_code = $3::int, smtp_reply = $4, updated_at = now(),"
		"   delivery_status = CASE WHEN $2::bool THEN 'SENT' WHEN $5::bool THEN 'FAILED'"
		"                          ELSE 'QUEUED' END,"
		"   sent_at = CASE WHEN $2::bool THEN now() ELSE v.sent_at END,"
		"   status = CASE WHEN NOT $2::bool AND $5::bool AND v.status = 'PENDING'"
		"                 THEN 'FAILED' ELSE v.status END"
		"  FROM job WHERE v.id = job.verification_id RETURNING v)"
		" INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)"
		" SELECT (mp_event(upd.v, 'email.failed')).* FROM upd"
		" WHERE NOT $2::bool AND $5::bool AND (upd.v).status = 'FAILED'"
		" ON CONFLICT (event_id) DO NOTHING" },

	/* A claimed job not tried (the notifier is stopping): due again at once. */
	[DB_MAILQ_RELEASE] = { "mailq_release", 1, 0,
		"UPDATE mail_jobs SET state = 'pending', attempts = attempts - 1, locked_until = NULL"
		" WHERE id = $1::bigint AND state = 'sending'" },

	/*
	 * Expires PENDING verifications past expires_at, at most $1 at a time,
	 * each with its email.expired event: the status change makes it once.
	 */
	[DB_SWEEP_EXPIRED] = { "sweep_expired", 1, 0,
		"WITH exp AS ("
		"  UPDATE verifications v SET status = 'EXPIRED', updated_at = now()"
		"  WHERE v.id IN (SELECT id FROM verifications"
		"                 WHERE status = 'PENDING' AND expires_at <= now()"
		"                 ORDER BY expires_at LIMIT $1::int FOR UPDATE SKIP LOCKED)"
		"  RETURNING v)"
		" INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)"
		" SELECT (mp_event(exp.v, 'email.expired')).* FROM exp"
		" ON CONFLICT (event_id) DO NOTHING" },

	/* See mp_purge(): $1 retention_days. */
	[DB_PURGE] = { "purge", 1, 0,
		"SELECT events, verifications FROM mp_purge($1::int)" },

	/* Milliseconds until the next row falls due (NULL: none waits). */
	[DB_NEXT_DUE] = { "next_due", 0, 1,
		"SELECT greatest(0, ceil(extract(epoch FROM least("
		"  (SELECT min(run_at) FROM outbox WHERE state = 'pending'),"
		"  (SELECT min(locked_until) FROM outbox WHERE state = 'sending'),"
		"  (SELECT min(run_at) FROM mail_jobs WHERE state = 'pending'),"
		"  (SELECT min(locked_until) FROM mail_jobs WHERE state = 'sending')) - now()) * 1000))::bigint" },
};
