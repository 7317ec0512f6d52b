-- Version 17: what a failover to a standby must not lose or hold up.
--
-- The sequences that count each key's requests are WAL-logged.
-- PostgreSQL 15 does not flush an UNLOGGED sequence's init fork when a
-- standby replays its creation, so a standby promoted before its next
-- restartpoint found the sequence of every key made since then unreadable
-- ("bad magic number in sequence"), and those keys got 500s.  A logged
-- sequence writes WAL once per 32 values (SEQ_LOG_VALS); a read does not
-- wait for its flush (mp_read_commits_lazily in lifecycle.sql), so after a
-- crash or a failover a key's count may be off by up to 32, which the
-- unfolded-usage arithmetic tolerates.  key_windows stays UNLOGGED: a
-- failover forgets the current minute.
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT requests FROM api_keys WHERE requests IS NOT NULL LOOP
        EXECUTE format('ALTER SEQUENCE %s SET LOGGED', k.requests);
    END LOOP;
END $$;

-- A notifier's lease names it (a text of its own: host, pid and a random
-- part), so that one that lost the database hands back, once it is back,
-- what it had claimed and not finished, instead of leaving it until the
-- lease runs out (a batch's lease is minutes long).
ALTER TABLE outbox ADD COLUMN locked_by text;
ALTER TABLE mail_jobs ADD COLUMN locked_by text;
