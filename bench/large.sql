-- bench/run.sh --large: tables as a busy month leaves them, before the
-- cases run: 10 M verifications (30 days of 100k addresses, in 10 tenants,
-- mostly finished, 1 % still pending) and this hour's and this day's limits
-- of those 100k addresses.  The rows are history, not starts: no trigger
-- runs (so no events), and the load is not durable (it is set-up, not
-- measured).
SET session_replication_role = replica;
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';

-- Ids in ascending order (hex digits are Crockford base32 too), so the load
-- appends to the primary key; the measured starts then insert their random
-- ids anywhere in it.
INSERT INTO verifications (id, tenant_id, api_key_id, email, email_norm, user_id, method,
    status, token_format, code_length, secret_hash, attempts, max_attempts, expires_at,
    ttl_seconds, created_at, updated_at, verified_at, delivery_status, delivery_attempts,
    smtp_code, smtp_reply, sent_at)
SELECT 'ev_' || upper(lpad(to_hex(k), 26, '0')),
       1 + k % 10, NULL, 'user' || (k % 100000) || '@example.com',
       'user' || (k % 100000) || '@example.com', 'u' || (k % 100000), 'OTP',
       CASE WHEN k % 100 = 0 THEN 'PENDING' WHEN k % 10 < 7 THEN 'VERIFIED'
            WHEN k % 10 < 9 THEN 'EXPIRED' ELSE 'FAILED' END,
       'numeric', 6, sha256(('large' || k)::bytea), k % 3, 3,
       CASE WHEN k % 100 = 0 THEN now() + interval '1 day' ELSE c.t + interval '15 minutes' END,
       900, c.t, c.t, CASE WHEN k % 10 < 7 AND k % 100 <> 0 THEN c.t + interval '1 minute' END,
       'SENT', 1, 250, '250 2.0.0 Ok: queued', c.t
FROM generate_series(1, 10000000) AS k,
     LATERAL (SELECT now() - (k % 2592000) * interval '1 second' AS t) c;

INSERT INTO address_limits (tenant_id, email_norm, hour_start, mails, day_start, failures)
SELECT 1 + k % 10, 'user' || k || '@example.com', date_trunc('hour', now()), 1 + k % 3,
       date_trunc('day', now()), k % 4
FROM generate_series(0, 99999) AS k
ON CONFLICT DO NOTHING;

RESET session_replication_role;
VACUUM (ANALYZE) verifications;
VACUUM (ANALYZE) address_limits;
