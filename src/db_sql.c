/*
 * Every SQL statement the FastCGI workers run, prepared once per connection.
 * Parameters are text with casts in the SQL.  State changes are single
 * statements: the data-modifying CTEs below decide the transition, its
 * limits and its outbox event in one round trip and one transaction.
 */
#include "db_sql.h"

const struct db_statement db_statements[DB__COUNT] = {
	[DB_PING] = { "ping", 0, 1, "SELECT 1" },

	/* $1 keyed hash of the presented key (hex bytea). */
	[DB_KEY_LOOKUP] = { "key_lookup", 1, 1,
		"SELECT k.id, k.tenant_id, array_to_string(k.scopes, ','),"
		" k.revoked_at IS NOT NULL, encode(k.key_hash, 'hex')"
		" FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
		" WHERE k.key_hash = $1::bytea" },

	/* $1 verification id, $2 tenant id. */
	[DB_VERIFICATION_GET] = { "verification_get", 2, 1,
		"SELECT mp_verification_json(v)::text FROM verifications v"
		" WHERE v.id = $1 AND v.tenant_id = $2::bigint" },

	/*
	 * Checks a code: $1 verification id, $2 tenant id, $3 and $4 the keyed
	 * hashes of the submitted code under secret_key and secret_key_previous
	 * ($4 NULL when there is none), $5 the event id for the outbox.
	 * cur locks the row and so sees the latest committed state; upd applies
	 * the transition only to a PENDING, unexpired row with attempts left,
	 * which is what makes concurrent guesses unable to pass max_attempts and
	 * concurrent right codes verify exactly once.  The comparison is between
	 * keyed digests, so its timing says nothing about the code.
	 * Returns one row (none: unknown id): stored status, effective status
	 * before, new status or NULL, attempts remaining, and the verification
	 * as GET shows it after the change.
	 */
	[DB_VERIFY_CODE] = { "verify_code", 5, 0,
		"WITH cur AS ("
		"  SELECT v.id, v.status, mp_status(v) AS eff,"
		"   (v.secret_hash = $3::bytea OR coalesce(v.secret_hash = $4::bytea, false)) AS matched"
		"  FROM verifications v WHERE v.id = $1 AND v.tenant_id = $2::bigint"
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
		"  SELECT $5, (upd.v).tenant_id, (upd.v).id,"
		"   CASE (upd.v).status WHEN 'VERIFIED' THEN 'email.verified' ELSE 'email.failed' END,"
		"   mp_verification_json(upd.v)"
		"  FROM upd WHERE (upd.v).status IN ('VERIFIED', 'FAILED'))"
		" SELECT cur.status, cur.eff, (upd.v).status,"
		"  greatest((upd.v).max_attempts - (upd.v).attempts, 0),"
		"  mp_verification_json(upd.v)::text"
		" FROM cur LEFT JOIN upd ON true" },
};
