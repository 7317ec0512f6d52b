-- Version 4: counters that cost no flush, events that cannot be written
-- twice, and notifier wake-ups that do not serialize commits.  The
-- functions these tables serve are in lifecycle.sql, which
-- `mailproofctl migrate` applies after the numbered files; the ones of
-- versions 2 and 3 that it replaces are dropped here.

-- A NOTIFY in a transaction holds a database-wide lock from its commit
-- until the commit's WAL is flushed, so every start committed alone and
-- group commit could not batch them.  mp_wake() now notifies only when a
-- notifier said it is asleep (notifier_sleep).
DROP TRIGGER outbox_notify ON outbox;
DROP TRIGGER mail_jobs_notify ON mail_jobs;
DROP FUNCTION mp_notify();
DROP FUNCTION mp_start(bigint, bigint, text, text, text, text, text, integer, bytea, integer,
    integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer, integer);
DROP FUNCTION mp_resend(bigint, text, bytea, integer, integer, bytea);
DROP FUNCTION mp_emit(verifications, text);
DROP FUNCTION mp_event(verifications, text);
DROP FUNCTION mp_address_limits(bigint, text, integer, integer);
DROP FUNCTION mp_purge(integer);
DROP FUNCTION mp_verification_json(verifications);	-- now json: see below

CREATE UNLOGGED TABLE notifier_sleep (
    id       integer PRIMARY KEY CHECK (id = 1),
    sleeping boolean NOT NULL
);

-- Requests per API key, counted without a write: each key has an UNLOGGED
-- sequence (api_keys.requests), and nextval() on it takes no lock that
-- another request waits for, writes no WAL and assigns no transaction id,
-- so a read stays a read.  key_windows holds, per key, the minute being
-- limited and the sequence's value before it (written once a minute), and
-- the value already folded into api_keys.usage_count (the notifier folds
-- at every sweep).  Both are UNLOGGED: a crash resets them, which forgets
-- the current minute of the limit and the requests not yet folded.
CREATE UNLOGGED TABLE key_windows (
    key_id       bigint PRIMARY KEY,
    window_start timestamptz NOT NULL,
    base         bigint NOT NULL,
    folded       bigint NOT NULL
);
ALTER TABLE api_keys ADD COLUMN requests regclass;
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT id FROM api_keys LOOP
        EXECUTE format('CREATE UNLOGGED SEQUENCE mp_key_requests_%s', k.id);
        UPDATE api_keys SET requests = format('mp_key_requests_%s', k.id)::regclass
        WHERE id = k.id;
    END LOOP;
END $$;
-- What version 3 counted per minute is usage: fold it now.
UPDATE api_keys k SET usage_count = k.usage_count + f.n,
    last_used_at = greatest(k.last_used_at, f.last)
FROM (SELECT substr(c.bucket, 5)::bigint AS id, sum(c.count) AS n,
             max(c.window_start) + interval '1 minute' AS last
      FROM rate_counters c WHERE c.bucket LIKE 'key:%' GROUP BY 1) f
WHERE k.id = f.id;

-- Requests per client address of the hosted pages, per minute: UNLOGGED,
-- so no flush either.  One row per address, rewritten as minutes pass.
CREATE UNLOGGED TABLE ip_hits (
    ip           text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL
);

-- The limits of one address: mails this hour and wrong codes today.  One
-- row per tenant and address (not one per window), so that a start counts
-- its mail and reads the day's wrong codes in one upsert, whose arbiter is
-- the primary key: an index lookup whatever the size of the table.  Its
-- row lock also orders concurrent starts of one address, which makes
-- superseding exact.
CREATE TABLE address_limits (
    tenant_id  bigint NOT NULL,
    email_norm text NOT NULL,
    hour_start timestamptz NOT NULL,
    mails      integer NOT NULL,
    day_start  timestamptz NOT NULL,
    failures   integer NOT NULL,
    PRIMARY KEY (tenant_id, email_norm)
);
INSERT INTO address_limits (tenant_id, email_norm, hour_start, mails, day_start, failures)
SELECT split_part(c.bucket, ':', 2)::bigint,
       substr(c.bucket, length(split_part(c.bucket, ':', 1) || split_part(c.bucket, ':', 2)) + 3),
       max(c.window_start) FILTER (WHERE c.bucket LIKE 'email:%'),
       coalesce(max(c.count) FILTER (WHERE c.bucket LIKE 'email:%'
                                     AND c.window_start = date_trunc('hour', now())), 0),
       max(c.window_start) FILTER (WHERE c.bucket LIKE 'fail:%'),
       coalesce(max(c.count) FILTER (WHERE c.bucket LIKE 'fail:%'
                                     AND c.window_start = date_trunc('day', now())), 0)
FROM rate_counters c
WHERE (c.bucket LIKE 'email:%' AND c.window_start = date_trunc('hour', now()))
   OR (c.bucket LIKE 'fail:%' AND c.window_start = date_trunc('day', now()))
GROUP BY 1, 2;
UPDATE address_limits SET hour_start = coalesce(hour_start, date_trunc('hour', now())),
    day_start = coalesce(day_start, date_trunc('day', now()));
-- Only monthly quotas stay in rate_counters.
DELETE FROM rate_counters WHERE bucket NOT LIKE 'quota:%';

-- Indexes are what a write pays for, and one keyed by something random (an
-- id, an address) costs the most: each insert lands on a page of its own,
-- which after every checkpoint is written to the WAL whole.  So:
-- * No index of a verification's events or mail jobs.  An event of a kind
--   is written once by construction (see mp_verification_written() in
--   lifecycle.sql: a status leaves PENDING once); a mail job replaced by a
--   resend is found stale by the notifier, whose code no longer matches.
--   Their event_id stays unique, being derived from the verification and
--   the kind, and the purge deletes them by their own age.
-- * One index of an address's verifications instead of two, by expiry, so
--   that superseding reads only the ones not yet expired.
-- * The tenant's list in ascending order, read backwards: new rows go to
--   the right edge of the index, where PostgreSQL appends without a search.
-- * Every event paid for an index by tenant and state that only `outbox
--   list` read; the events it is for (dead, skipped) get their own.
DROP INDEX outbox_verification;
ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_key;
DROP INDEX outbox_tenant_state;
CREATE INDEX outbox_given_up ON outbox (id) WHERE state IN ('dead', 'skipped');
DROP INDEX mail_jobs_verification;
DROP INDEX verifications_supersede;
DROP INDEX verifications_tenant_email;
CREATE INDEX verifications_address ON verifications (tenant_id, email_norm, expires_at);
DROP INDEX verifications_tenant_created;
CREATE INDEX verifications_tenant_created ON verifications (tenant_id, created_at, id);

-- No index names the status, in its columns or its WHERE: a change of
-- status (verified, failed, canceled, expired) is then a heap-only update,
-- which writes no index entry, when the row's page has room.  So the
-- expiry sweep reads all expiries, from where it got to (sweep_state).
DROP INDEX verifications_pending_expiry;
CREATE INDEX verifications_expiry ON verifications (expires_at);
CREATE TABLE sweep_state (
    id       integer PRIMARY KEY CHECK (id = 1),
    swept_to timestamptz NOT NULL,  -- every expiry before it is swept
    complete boolean NOT NULL       -- the last sweep reached its now
);
INSERT INTO sweep_state VALUES (1, '-infinity', false);

-- The verification as the API shows it, as composite types whose fields
-- are named as in the JSON: row_to_json() of one writes the API's object,
-- compact, for about two thirds of what jsonb_build_object() and its text
-- cost.  Events keep it as that text (json), as it was written.
CREATE TYPE mp_api_delivery AS (
    status text, attempts integer, "smtpCode" integer, "smtpReply" text, "sentAt" text);
CREATE TYPE mp_api_verification AS (
    id text, "userId" text, email text, method text, status text, attempts integer,
    "attemptsRemaining" integer, "maxAttempts" integer, "expiresAt" text, "createdAt" text,
    "verifiedAt" text, delivery mp_api_delivery, deliverability text, disposable boolean,
    "linkViews" integer, metadata jsonb);
ALTER TABLE outbox ALTER COLUMN payload TYPE json USING payload::json;

-- Queued mail keeps only the code or link token, sealed; the notifier
-- writes the message when it sends it.  Jobs queued by version 3 still
-- carry the whole sealed message.
ALTER TABLE mail_jobs ADD COLUMN sealed_secret bytea;
ALTER TABLE mail_jobs ALTER COLUMN sealed_message SET DEFAULT ''::bytea;

-- Room on each page for the new version of a row whose attempts change
-- (a heap-only update, which writes no index entry).
ALTER TABLE verifications SET (fillfactor = 90);

-- The tables every request writes keep no CHECK and no foreign key.
-- PostgreSQL 15 parses and plans each CHECK expression again for every
-- statement that writes the table (about a quarter of a start's cost in
-- the database), and a foreign key check locks the referenced row FOR KEY
-- SHARE, so that every start of a tenant took a lock on the one tenants
-- row.  The same rules are now checked once per row by
-- mp_verification_written() of lifecycle.sql, where they are compiled once
-- per session; rows of outbox and mail_jobs are written only by the
-- functions there.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
             WHERE conrelid IN ('verifications'::regclass, 'outbox'::regclass,
                                'mail_jobs'::regclass)
               AND contype IN ('c', 'f')
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
    END LOOP;
END $$;
