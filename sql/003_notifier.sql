-- mailproof-notifier: wake-ups for new work, and retention.

-- Any number of notifiers LISTEN here; a notification is only a hint to
-- look for due rows (they also poll), sent when the inserting transaction
-- commits.
CREATE FUNCTION mp_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');	-- the channel, named by the trigger
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION mp_notify('mailproof_outbox');
CREATE TRIGGER mail_jobs_notify AFTER INSERT ON mail_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION mp_notify('mailproof_mail');

CREATE INDEX outbox_tenant_state ON outbox (tenant_id, state, id);
CREATE INDEX outbox_verification ON outbox (verification_id);
CREATE INDEX mail_jobs_verification ON mail_jobs (verification_id);

-- Deletes what is older than the retention period: finished events,
-- verifications none of whose events still wait (their mail jobs go with
-- them), and expired idempotency keys and rate windows (a key's windows
-- first added to its usage_count).
CREATE FUNCTION mp_purge(p_days integer, OUT events bigint, OUT verifications bigint)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM outbox o
    WHERE o.state IN ('delivered', 'dead', 'skipped')
      AND o.created_at < now() - p_days * interval '1 day';
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM verifications v
    WHERE v.created_at < now() - p_days * interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.verification_id = v.id
                      AND o.state IN ('pending', 'sending'));
    GET DIAGNOSTICS verifications = ROW_COUNT;
    DELETE FROM idempotency_keys k WHERE k.created_at < now() - interval '24 hours';
    -- a key's minute windows are its usage: fold the old ones into the total
    UPDATE api_keys k SET usage_count = k.usage_count + f.n,
        last_used_at = greatest(k.last_used_at, f.last)
    FROM (SELECT substr(c.bucket, 5)::bigint AS id, sum(c.count) AS n,
                 max(c.window_start) + interval '1 minute' AS last
          FROM rate_counters c
          WHERE c.bucket LIKE 'key:%' AND c.window_start < now() - interval '32 days'
          GROUP BY 1) f
    WHERE k.id = f.id;
    DELETE FROM rate_counters c WHERE c.window_start < now() - interval '32 days';
END $$;
