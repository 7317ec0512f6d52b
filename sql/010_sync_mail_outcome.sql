-- Version 10: a sync-mode mail whose outcome its worker could not record
-- (the worker died, or lost the database, between the SMTP server's answer
-- and the record) converges: the notifier records it from the mail
-- journal, and a retry of the start with the same Idempotency-Key answers
-- what became of the verification (lifecycle.sql).

-- The verification the request that took the key started.
ALTER TABLE idempotency_keys ADD COLUMN verification_id text;

-- Sync-mode resends whose outcome is not recorded yet.  (A start is found
-- by its verification.initiated event, held back until then.)
CREATE TABLE sync_resends (
    verification_id text PRIMARY KEY REFERENCES verifications(id) ON DELETE CASCADE,
    started_at      timestamptz NOT NULL DEFAULT now()
);
