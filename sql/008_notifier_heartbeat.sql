-- Version 8: when a notifier was last seen, for /metrics
-- (mailproof_notifier_last_seen_seconds).  A notifier writes it when it goes
-- to sleep and after each sweep; the table is UNLOGGED, as it was.
ALTER TABLE notifier_sleep ADD COLUMN seen_at timestamptz;
