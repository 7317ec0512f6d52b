-- The verification lifecycle: every change of a verification, and what the
-- API reads, as functions.  `mailproofctl migrate` applies this file after
-- the numbered migrations whenever it has changed, so it holds only
-- CREATE OR REPLACE of functions and triggers; tables and indexes are in
-- the numbered files, and a numbered file drops a function whose
-- signature changes.
--
-- The rules:
-- * A transition is one function here, called in one statement (so one
--   transaction): start (with superseding), resend, the code check, the
--   link confirmation, cancel, the mail results and expiry.
-- * Every row written to verifications passes mp_verification_written(),
--   the one place that checks a row and its transition (a status only
--   leaves PENDING, for VERIFIED, FAILED, EXPIRED or CANCELED) and the one
--   writer of the events of a status: the event of the new status, in the
--   same transaction, at most one of a kind per verification.  It then
--   wakes a sleeping notifier (mp_wake).  The events that are no status's
--   are written where they happen: email.reported (mp_report),
--   email.bounced (mp_bounce), verification.deliver (mp_deliver_event).
-- * mp_api_*() are what the HTTP API calls: each first authenticates the
--   API key (mp_authorize), then does its work, in one round trip.
-- * PL/pgSQL keeps its plans for the session, and each query here is
--   written so that its generic plan is as good as a custom one (no
--   "col = $1 OR col = $2" on an index), so it is planned once per
--   session.  The small helpers are SQL functions of one expression, which
--   the planner inlines.

-- RFC 3339 UTC with milliseconds, the API's time format.
CREATE OR REPLACE FUNCTION mp_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Row-level expiry: a PENDING row past expires_at reads EXPIRED at once.
CREATE OR REPLACE FUNCTION mp_status(v verifications) RETURNS text
LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN v.status = 'PENDING' AND v.expires_at <= now()
               THEN 'EXPIRED' ELSE v.status END $$;

-- The verification as GET shows it; webhooks carry the same object.
CREATE OR REPLACE FUNCTION mp_verification_json(v verifications) RETURNS json
LANGUAGE sql STABLE AS
$$ SELECT row_to_json(ROW(v.id, v.user_id, v.email, v.method, mp_status(v), v.attempts,
       greatest(v.max_attempts - v.attempts, 0), v.max_attempts, mp_ts(v.expires_at),
       mp_ts(v.created_at), mp_ts(v.verified_at),
       ROW(v.delivery_status, v.delivery_attempts, v.smtp_code, v.smtp_reply,
           mp_ts(v.sent_at), v.bounce_code, v.bounce_reason, v.bounce_source,
           mp_ts(v.bounced_at))::mp_api_delivery,
       v.deliverability, v.disposable, v.link_views, v.metadata, v.locale,
       host(v.client_ip), v.user_agent, mp_ts(v.reported_at))::mp_api_verification) $$;

-- Webhook ids are derived, not random: stable across retries, and one per
-- event kind and verification.
CREATE OR REPLACE FUNCTION mp_event_id(vid text, type text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT 'msg_' || substr(vid, 4) || '_' || replace(type, '.', '_') $$;

-- Whole seconds until a window that started at w and lasts len is over.
CREATE OR REPLACE FUNCTION mp_retry_after(w timestamptz, len interval) RETURNS integer
LANGUAGE sql STABLE AS
$$ SELECT greatest(1, ceil(extract(epoch FROM w + len - now())))::integer $$;

-- ------------------------------------------------------------ the one check

-- Checks every row written to verifications, and writes the event of its
-- change: verification.initiated for a new row; email.verified,
-- email.failed, email.expired or verification.canceled when it leaves
-- PENDING.  A status never changes again after that.  (These rules are not
-- CHECK constraints: PostgreSQL 15 would parse them again for every
-- statement; see 004_counters_and_wakeups.sql.)
CREATE OR REPLACE FUNCTION mp_verification_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    held boolean;
BEGIN
    IF NEW.attempts < 0 OR NEW.attempts > NEW.max_attempts
       OR NEW.max_attempts NOT BETWEEN 1 AND 10
       OR octet_length(NEW.secret_hash) <> 32
       OR NEW.delivery_status NOT IN ('QUEUED', 'SENT', 'FAILED', 'DELAYED', 'BOUNCED',
                                      'HANDED_OVER') THEN
        RAISE EXCEPTION 'verification %: attempts %/%, hash or delivery status out of range',
            NEW.id, NEW.attempts, NEW.max_attempts USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- (the id's characters are tok_random_id()'s: a regular expression
        -- here cost more than all the other checks together)
        IF NEW.status <> 'PENDING' OR length(NEW.id) <> 29 OR left(NEW.id, 3) <> 'ev_'
           OR NEW.method NOT IN ('OTP', 'MAGIC_LINK', 'CODE_AND_LINK')
           OR NEW.token_format NOT IN ('numeric', 'alpha', 'alphanumeric', 'hex')
           OR NEW.code_length NOT BETWEEN 4 AND 12 AND NEW.token_format <> 'hex'
           OR NEW.code_length <> 64 AND NEW.token_format = 'hex'
           OR NEW.delivery_channel NOT IN ('smtp', 'none', 'webhook')
           OR (NEW.link_hash IS NULL) <> (NEW.method <> 'CODE_AND_LINK')
           OR NEW.ttl_seconds NOT BETWEEN 60 AND 2592000
           OR NEW.deliverability NOT IN ('DELIVERABLE', 'UNDELIVERABLE', 'UNKNOWN') THEN
            RAISE EXCEPTION 'verification %: a new verification out of range', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        kind := 'verification.initiated';
    ELSIF NEW.status = OLD.status THEN
        RETURN NEW;
    ELSIF OLD.status <> 'PENDING'
          OR NEW.status NOT IN ('VERIFIED', 'FAILED', 'EXPIRED', 'CANCELED') THEN
        RAISE EXCEPTION 'verification %: illegal transition % -> %', NEW.id, OLD.status,
            NEW.status USING ERRCODE = 'check_violation';
    ELSE
        -- a mail a delay notice was about arrived after all: it was verified
        IF NEW.status = 'VERIFIED' AND NEW.delivery_status = 'DELAYED' THEN
            NEW.delivery_status := 'SENT';
        END IF;
        -- no code is kept sealed past the time it can be used
        NEW.sealed_code := NULL;
        IF NEW.delivery_channel = 'webhook' THEN
            PERFORM mp_deliver_events_skip(NEW.id, 'not sent: the verification is '
                                                   || NEW.status);
            -- a code that never reached the application
            IF NEW.delivery_status = 'QUEUED' AND NEW.status <> 'VERIFIED' THEN
                NEW.delivery_status := 'FAILED';
                NEW.smtp_reply := 'not sent: the verification is ' || NEW.status;
            END IF;
        END IF;
        kind := CASE NEW.status WHEN 'VERIFIED' THEN 'email.verified'
                                WHEN 'FAILED' THEN 'email.failed'
                                WHEN 'EXPIRED' THEN 'email.expired'
                                ELSE 'verification.canceled' END;
    END IF;
    -- The one log line of each transition: the client's db layer writes it
    -- to mailproof's log once the statement has succeeded (see db.c).  A
    -- notice is a message of its own that the server flushes at once, so
    -- a new row, which the start that made it logs anyway, sends none.
    IF TG_OP = 'UPDATE' THEN
        RAISE NOTICE USING MESSAGE = 'mailproof transition ' || NEW.id || ' ' || OLD.status
            || ' ' || NEW.status || ' ' || NEW.tenant_id;
    END IF;
    -- A start whose mail the worker sends itself (sync mode) holds its
    -- event back, unannounced, until mp_sync_mail_result() tells how the
    -- mail went; should the worker die first, the notifier records the
    -- outcome from the mail journal after sync_mail_settle_seconds (at most
    -- 240), or FAILED after twice that, before it goes out as it stands
    -- after ten minutes (see mp_sync_unrecorded).
    held := TG_OP = 'INSERT'
            AND coalesce(current_setting('mailproof.hold_initiated', true), '') = 'on';
    -- no second event of a kind: a row is inserted once and leaves PENDING once
    INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload, run_at)
    VALUES (mp_event_id(NEW.id, kind), NEW.tenant_id, NEW.id, kind, mp_verification_json(NEW),
            CASE WHEN held THEN now() + interval '10 minutes' ELSE now() END);
    IF NOT held THEN
        PERFORM mp_wake();
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS verifications_written ON verifications;
CREATE TRIGGER verifications_written BEFORE INSERT OR UPDATE ON verifications
    FOR EACH ROW EXECUTE FUNCTION mp_verification_written();

-- ------------------------------------------------------------ waking the notifier

-- Called at the end of a transaction that queued work for the notifier:
-- when a notifier has said it sleeps, the first such transaction wakes it.
-- The shared lock, held to the commit, lets mp_notifier_sleeps() wait for
-- every transaction that read "awake" to commit, so no work is left unseen.
CREATE OR REPLACE FUNCTION mp_wake() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7243502);
    UPDATE notifier_sleep SET sleeping = false WHERE id = 1 AND sleeping;
    IF FOUND THEN
        PERFORM pg_notify('mailproof_wake', '');
    END IF;
END $$;

-- A notifier is about to sleep: it calls this, then looks for due work
-- once more, then waits for a notification on mailproof_wake.
CREATE OR REPLACE FUNCTION mp_notifier_sleeps() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7243502);
    INSERT INTO notifier_sleep (id, sleeping, seen_at) VALUES (1, true, now())
    ON CONFLICT (id) DO UPDATE SET sleeping = true, seen_at = now();
END $$;

-- A notifier at work says so (after each sweep): /metrics shows since when
-- none was seen.
CREATE OR REPLACE FUNCTION mp_notifier_seen() RETURNS void
LANGUAGE sql AS
$$ INSERT INTO notifier_sleep (id, sleeping, seen_at) VALUES (1, false, now())
   ON CONFLICT (id) DO UPDATE SET seen_at = now() $$;

-- Milliseconds until the next queued row falls due: 0 when one is due now,
-- NULL when nothing waits (greatest() skips a NULL, so it must not see one).
CREATE OR REPLACE FUNCTION mp_next_due() RETURNS bigint
LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN d.t IS NOT NULL
               THEN greatest(0, ceil(extract(epoch FROM d.t - now()) * 1000))::bigint END
   FROM (SELECT least((SELECT min(run_at) FROM outbox WHERE state = 'pending'),
                      (SELECT min(locked_until) FROM outbox WHERE state = 'sending'),
                      (SELECT min(run_at) FROM mail_jobs WHERE state = 'pending'),
                      (SELECT min(locked_until) FROM mail_jobs WHERE state = 'sending')) AS t) d $$;

-- ------------------------------------------------------------ limits

-- A new key gets the sequence that counts its requests (see key_windows
-- in 004_counters_and_wakeups.sql), in api_keys.requests.  Logged: see
-- 017_logged_key_counters.sql for why not UNLOGGED.
CREATE OR REPLACE FUNCTION mp_key_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS mp_key_requests_%s', NEW.id);
    NEW.requests := format('mp_key_requests_%s', NEW.id)::regclass;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS api_keys_created ON api_keys;
CREATE TRIGGER api_keys_created BEFORE INSERT ON api_keys
    FOR EACH ROW EXECUTE FUNCTION mp_key_created();

-- A read writes nothing of ours but, once per 32 requests, the WAL record
-- of its key's request sequence.  Its commit need not wait for that to be
-- flushed, nor for the standby: a crash or a failover may then forget a
-- few counted requests, as it forgets the minute's window (key_windows).
-- Only for statements that write nothing else.
CREATE OR REPLACE FUNCTION mp_read_commits_lazily() RETURNS void
LANGUAGE sql AS $$ SELECT set_config('synchronous_commit', 'off', true) $$;

-- Checks an API key, and counts the request against the key's usage and
-- per-minute limit when p_count.  p_key and p_key_prev are its keyed
-- hashes under secret_key and secret_key_previous (NULL when not set).
-- auth: ok | unknown | revoked | limited | scope (the key lacks p_scope);
-- retry_after goes with limited.  The tenant's overrides come along, and
-- whether the key may also see or redirect codes (may_deliver: it holds
-- verifications:deliver).
-- Counting writes nothing but the key's minute, once a minute, and the
-- sequence's WAL record once per 32 requests (whose commit a read does
-- not wait for: mp_read_commits_lazily), so a read stays a read.  Requests that cross into a new minute together may
-- count a few fewer than they are.
CREATE OR REPLACE FUNCTION mp_authorize(p_key bytea, p_key_prev bytea, p_scope text,
    p_limit integer, p_count boolean,
    OUT auth text, OUT retry_after integer, OUT key_id bigint, OUT tenant_id bigint,
    OUT mail_from text, OUT per_hour integer, OUT quota integer, OUT default_locale text,
    OUT client_ip_hour integer, OUT client_net_hour integer, OUT client_addr_day integer,
    OUT require_client_ip boolean, OUT resend_policy text, OUT may_deliver boolean)
LANGUAGE plpgsql AS $$
DECLARE
    k record;
    w timestamptz := date_trunc('minute', now());
    lim integer;
    base bigint;
BEGIN
    -- One query: the key, its tenant and its minute (as subqueries: index
    -- lookups, never a hash join), and the count.  One hash per query, so
    -- that the plan made once serves every call.
    SELECT a.id, a.tenant_id, a.scopes, a.revoked_at IS NOT NULL AS revoked,
           (SELECT t FROM tenants t WHERE t.id = a.tenant_id) AS t,
           (SELECT x FROM key_windows x WHERE x.key_id = a.id) AS kw,
           CASE WHEN p_count AND a.revoked_at IS NULL THEN nextval(a.requests)
                ELSE pg_sequence_last_value(a.requests) END AS seq
    INTO k FROM api_keys a WHERE a.key_hash = p_key;
    IF NOT FOUND AND p_key_prev IS NOT NULL THEN
        SELECT a.id, a.tenant_id, a.scopes, a.revoked_at IS NOT NULL AS revoked,
               (SELECT t FROM tenants t WHERE t.id = a.tenant_id) AS t,
               (SELECT x FROM key_windows x WHERE x.key_id = a.id) AS kw,
               CASE WHEN p_count AND a.revoked_at IS NULL THEN nextval(a.requests)
                    ELSE pg_sequence_last_value(a.requests) END AS seq
        INTO k FROM api_keys a WHERE a.key_hash = p_key_prev;
    END IF;
    IF NOT FOUND THEN
        auth := 'unknown';
        RETURN;
    END IF;
    IF k.revoked THEN
        auth := 'revoked';
        RETURN;
    END IF;
    lim := coalesce((k.t).rate_per_key_per_minute, p_limit);
    base := CASE WHEN (k.kw).window_start = w THEN (k.kw).base END;
    IF base IS NULL AND p_count THEN
        -- the first request of the minute starts it; a key's row that a
        -- crash took is made again, with what came before counted as folded
        INSERT INTO key_windows AS x (key_id, window_start, base, folded)
        VALUES (k.id, w, coalesce(k.seq, 1) - 1, coalesce(k.seq, 1) - 1)
        ON CONFLICT ON CONSTRAINT key_windows_pkey DO UPDATE
            SET window_start = w, base = coalesce(k.seq, 1) - 1 WHERE x.window_start < w;
        SELECT x.base INTO base FROM key_windows x WHERE x.key_id = k.id;
    END IF;
    -- counting, this request is in seq; checking only, the next would be
    IF lim > 0 AND coalesce(k.seq, 0) - coalesce(base, k.seq, 0)
                   + (CASE WHEN p_count THEN 0 ELSE 1 END) > lim THEN
        auth := 'limited';
        retry_after := mp_retry_after(w, interval '1 minute');
        RETURN;
    END IF;
    IF NOT p_scope = ANY (k.scopes) THEN
        auth := 'scope';
        RETURN;
    END IF;
    auth := 'ok';
    key_id := k.id;
    tenant_id := k.tenant_id;
    mail_from := (k.t).mail_from;
    per_hour := (k.t).rate_per_email_per_hour;
    quota := (k.t).monthly_quota;
    default_locale := (k.t).default_locale;
    client_ip_hour := (k.t).rate_per_client_ip_per_hour;
    client_net_hour := (k.t).rate_per_client_network_per_hour;
    client_addr_day := (k.t).addresses_per_client_ip_per_day;
    require_client_ip := (k.t).require_client_ip;
    resend_policy := (k.t).resend_policy;
    may_deliver := 'verifications:deliver' = ANY (k.scopes);
END $$;

-- Requests of key p_key counted since the last fold into
-- api_keys.usage_count, and the minute of the last one.
CREATE OR REPLACE FUNCTION mp_key_unfolded(p_key bigint, OUT requests bigint,
    OUT last_minute timestamptz)
LANGUAGE sql AS
$$ SELECT greatest(coalesce(pg_sequence_last_value(a.requests), 0) - coalesce(x.folded, 0), 0),
          x.window_start
   FROM api_keys a LEFT JOIN key_windows x ON x.key_id = a.id WHERE a.id = p_key $$;

-- Counts a mail (p_mail) or a wrong code (not p_mail) of an address, and
-- returns the mails of this hour and the wrong codes of today, this one
-- included.  Locks the address's row until the transaction ends.
CREATE OR REPLACE FUNCTION mp_address_count(p_tenant bigint, p_norm text, p_mail boolean,
    OUT mails integer, OUT failures integer)
LANGUAGE plpgsql AS $$
DECLARE
    hour timestamptz := date_trunc('hour', now());
    day timestamptz := date_trunc('day', now());
BEGIN
    INSERT INTO address_limits AS a (tenant_id, email_norm, hour_start, mails, day_start,
                                     failures)
    VALUES (p_tenant, p_norm, hour, CASE WHEN p_mail THEN 1 ELSE 0 END, day,
            CASE WHEN p_mail THEN 0 ELSE 1 END)
    ON CONFLICT (tenant_id, email_norm) DO UPDATE SET
        mails = CASE WHEN a.hour_start = hour THEN a.mails ELSE 0 END
                + CASE WHEN p_mail THEN 1 ELSE 0 END,
        hour_start = hour,
        failures = CASE WHEN a.day_start = day THEN a.failures ELSE 0 END
                   + CASE WHEN p_mail THEN 0 ELSE 1 END,
        day_start = day
    RETURNING a.mails, a.failures INTO mails, failures;
END $$;

-- Counts a start or resend against its address: refused when the address
-- had p_fail_day wrong codes today, or with this mail goes over p_per_hour
-- (0 turns a limit off).  NULL outcome when allowed, else the outcome and
-- the seconds to wait.
CREATE OR REPLACE FUNCTION mp_address_allows(p_tenant bigint, p_norm text, p_per_hour integer,
    p_fail_day integer, OUT outcome text, OUT retry_after integer, OUT limit_max integer)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    c := mp_address_count(p_tenant, p_norm, true);
    IF p_fail_day > 0 AND c.failures >= p_fail_day THEN
        outcome := 'rate_failed';
        retry_after := mp_retry_after(date_trunc('day', now()), interval '1 day');
        limit_max := p_fail_day;
    ELSIF p_per_hour > 0 AND c.mails > p_per_hour THEN
        outcome := 'rate_email';
        retry_after := mp_retry_after(date_trunc('hour', now()), interval '1 hour');
        limit_max := p_per_hour;
    END IF;
END $$;

-- Adds one to the count of bucket of tenant p_tenant in the window that
-- started at p_w (a new window starts again from one) and returns it.
CREATE OR REPLACE FUNCTION mp_client_count(p_tenant bigint, p_bucket text, p_w timestamptz)
    RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO client_windows AS c (tenant_id, bucket, window_start, count)
    VALUES (p_tenant, p_bucket, p_w, 1)
    ON CONFLICT (tenant_id, bucket) DO UPDATE SET
        count = CASE WHEN c.window_start = p_w THEN c.count + 1 ELSE 1 END, window_start = p_w
    RETURNING c.count INTO n;
    RETURN n;
END $$;

-- The limits of the person behind a start, by the address the application
-- gave (p_ip): starts this hour from it and from its network (/24 of IPv4,
-- /56 of IPv6), and the distinct addresses it asked for today (p_norm
-- counts once; one over the limit is refused without being counted).
-- 0 turns one off.  outcome: NULL (allowed) | rate_client_ip |
-- rate_client_network | rate_client_addresses, with when it resets.
CREATE OR REPLACE FUNCTION mp_client_allows(p_tenant bigint, p_ip inet, p_norm text,
    p_per_hour integer, p_net_hour integer, p_addr_day integer,
    OUT outcome text, OUT retry_after integer, OUT limit_max integer)
LANGUAGE plpgsql AS $$
DECLARE
    h timestamptz := date_trunc('hour', now());
    net inet := network(set_masklen(p_ip, CASE WHEN family(p_ip) = 4 THEN 24 ELSE 56 END));
    n integer;
BEGIN
    IF p_per_hour > 0 AND mp_client_count(p_tenant, 'ip ' || host(p_ip), h) > p_per_hour THEN
        outcome := 'rate_client_ip';
        retry_after := mp_retry_after(h, interval '1 hour');
        limit_max := p_per_hour;
    ELSIF p_net_hour > 0 AND mp_client_count(p_tenant, 'net ' || net::text, h) > p_net_hour THEN
        outcome := 'rate_client_network';
        retry_after := mp_retry_after(h, interval '1 hour');
        limit_max := p_net_hour;
    ELSIF p_addr_day > 0 THEN
        -- one start of this client at a time from here: concurrent starts
        -- for different addresses would each count the others not yet
        PERFORM pg_advisory_xact_lock(hashtextextended(
            'client ' || p_tenant || ' ' || host(p_ip), 0));
        IF NOT EXISTS (SELECT 1 FROM client_addresses a
                       WHERE a.tenant_id = p_tenant AND a.client_ip = p_ip
                         AND a.day = current_date AND a.email_norm = p_norm) THEN
            SELECT count(*) INTO n FROM client_addresses a
            WHERE a.tenant_id = p_tenant AND a.client_ip = p_ip AND a.day = current_date;
            IF n >= p_addr_day THEN
                outcome := 'rate_client_addresses';
                retry_after := mp_retry_after(date_trunc('day', now()), interval '1 day');
                limit_max := p_addr_day;
            ELSE
                INSERT INTO client_addresses (tenant_id, client_ip, day, email_norm)
                VALUES (p_tenant, p_ip, current_date, p_norm) ON CONFLICT DO NOTHING;
            END IF;
        END IF;
    END IF;
END $$;

-- Adds one to a durable fixed-window counter and returns the new count
-- (monthly quotas: exact, and kept across a crash).
CREATE OR REPLACE FUNCTION mp_count(p_bucket text, p_window timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO rate_counters AS c (bucket, window_start, count) VALUES (p_bucket, p_window, 1)
    ON CONFLICT (bucket, window_start) DO UPDATE SET count = c.count + 1
    RETURNING c.count INTO n;
    RETURN n;
END $$;

-- One request of a hosted page from client address p_ip: true when it is
-- over p_limit in this minute.  Not durable, like key_windows.
CREATE OR REPLACE FUNCTION mp_ip_hit(p_ip text, p_limit integer,
    OUT over boolean, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    w timestamptz := date_trunc('minute', now());
    n integer;
BEGIN
    INSERT INTO ip_hits AS h (ip, window_start, count) VALUES (p_ip, w, 1)
    ON CONFLICT (ip) DO UPDATE SET
        count = CASE WHEN h.window_start = w THEN h.count + 1 ELSE 1 END, window_start = w
    RETURNING h.count INTO n;
    over := n > p_limit;
    retry_after := mp_retry_after(w, interval '1 minute');
END $$;

-- ------------------------------------------------------------ transitions

-- Starts a verification for tenant p_tenant, in language p_locale:
-- idempotency, the address's limits, the quota, superseding (a PENDING
-- verification of the same address and userId becomes CANCELED), the row,
-- its event and its code's way out (p_delivery): in queue mode its mail
-- job (p_sealed_secret: the sealed code or link token), with delivery
-- webhook its verification.deliver event (p_sealed_code), with none
-- nothing.  p_custom_hash: the keyed hash of a customCode, bound to the
-- address.  Under resend_policy same_code the sealed code is kept for a
-- resend (smtp delivery only: a code handed to the application is not
-- kept).
-- outcome: created | replay | recovered | idem_conflict | idem_in_progress |
--          client_ip_required | suppressed | rate_failed | rate_email |
--          rate_client_ip | rate_client_network | rate_client_addresses | quota |
--          no_webhook | custom_code_in_use
CREATE OR REPLACE FUNCTION mp_start(
    p_tenant bigint, p_key bigint, p_id text, p_email text, p_user_id text,
    p_method text, p_token_format text, p_code_length integer, p_secret_hash bytea,
    p_max_attempts integer, p_ttl integer, p_redirect_url text, p_subject text,
    p_line text, p_metadata jsonb, p_sealed_secret bytea, p_deliverability text,
    p_disposable boolean, p_idem_key text, p_idem_hash bytea, p_per_hour integer,
    p_fail_day integer, p_quota integer, p_locale text, p_client_ip inet, p_user_agent text,
    p_client_ip_hour integer, p_client_net_hour integer, p_client_addr_day integer,
    p_require_client_ip boolean, p_sealed_code bytea, p_resend_policy text, p_report_hash bytea,
    p_delivery text, p_link_hash bytea, p_custom_hash bytea,
    OUT outcome text, OUT retry_after integer, OUT body text, OUT replay_status integer,
    OUT limit_max integer)
LANGUAGE plpgsql AS $$
DECLARE
    norm text := lower(p_email);
    idem idempotency_keys;
    lim record;
    v verifications;
BEGIN
    IF p_require_client_ip AND p_client_ip IS NULL THEN
        outcome := 'client_ip_required';
        RETURN;
    END IF;
    IF p_idem_key IS NOT NULL THEN
        -- Past 24 hours a key is new again; a request that never finished
        -- and started nothing (from before version 10) frees it after 5
        -- minutes.
        DELETE FROM idempotency_keys k
        WHERE k.tenant_id = p_tenant AND k.key = p_idem_key
          AND (k.created_at < now() - interval '24 hours'
               OR (k.response_status IS NULL AND k.verification_id IS NULL
                   AND k.created_at < now() - interval '5 minutes'));
        INSERT INTO idempotency_keys (tenant_id, key, request_hash, verification_id)
        VALUES (p_tenant, p_idem_key, p_idem_hash, p_id) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO idem FROM idempotency_keys k
            WHERE k.tenant_id = p_tenant AND k.key = p_idem_key;
            IF idem.request_hash <> p_idem_hash THEN
                outcome := 'idem_conflict';
            ELSIF idem.response_status IS NULL THEN
                -- The request that took the key stored its verification but
                -- its answer was never remembered: lost to a 5xx or a dead
                -- worker (the client retries), or still being sent.
                SELECT * INTO v FROM verifications x WHERE x.id = idem.verification_id;
                IF FOUND AND NOT mp_mail_unrecorded(v) THEN
                    outcome := 'recovered';
                    replay_status := CASE WHEN v.delivery_status = 'FAILED' THEN 502 ELSE 201 END;
                    body := mp_verification_json(v)::text;
                ELSE
                    outcome := 'idem_in_progress';
                END IF;
            ELSE
                outcome := 'replay';
                replay_status := idem.response_status;
                body := idem.response_body;
            END IF;
            RETURN;
        END IF;
    END IF;

    -- an address that asked for no more (or was put on the list): nothing
    IF EXISTS (SELECT 1 FROM suppressions x WHERE x.tenant_id = p_tenant AND x.email_norm = norm
               AND (x.expires_at IS NULL OR x.expires_at > now())) THEN
        DELETE FROM idempotency_keys k WHERE k.tenant_id = p_tenant AND k.key = p_idem_key;
        outcome := 'suppressed';
        RETURN;
    END IF;
    -- refusals that must not count against the address's limits: before them.
    -- (Two concurrent starts with the same customCode may both pass; each
    -- is checked by its own id, and one may supersede the other.)
    IF p_delivery = 'webhook' AND NOT mp_webhook_set(p_tenant) THEN
        outcome := 'no_webhook';
    ELSIF p_custom_hash IS NOT NULL
          AND EXISTS (SELECT 1 FROM verifications x WHERE x.tenant_id = p_tenant
                      AND x.email_norm = norm AND x.expires_at > now()
                      AND x.status = 'PENDING' AND x.custom_code_hash = p_custom_hash) THEN
        outcome := 'custom_code_in_use';
    END IF;
    IF outcome IS NOT NULL THEN
        DELETE FROM idempotency_keys k WHERE k.tenant_id = p_tenant AND k.key = p_idem_key;
        RETURN;
    END IF;

    -- also locks the address until the commit: one start at a time per
    -- address, so superseding below is exact
    lim := mp_address_allows(p_tenant, norm, p_per_hour, p_fail_day);
    IF lim.outcome IS NULL AND p_client_ip IS NOT NULL THEN
        lim := mp_client_allows(p_tenant, p_client_ip, norm, p_client_ip_hour, p_client_net_hour,
                                p_client_addr_day);
    END IF;
    IF lim.outcome IS NULL AND p_quota IS NOT NULL
       AND mp_count('quota:' || p_tenant, date_trunc('month', now())) > p_quota THEN
        lim.outcome := 'quota';
        lim.retry_after := mp_retry_after(date_trunc('month', now()), interval '1 month');
    END IF;
    IF lim.outcome IS NOT NULL THEN
        -- A refusal is not remembered: the same key may try again later.
        DELETE FROM idempotency_keys k WHERE k.tenant_id = p_tenant AND k.key = p_idem_key;
        outcome := lim.outcome;
        retry_after := lim.retry_after;
        limit_max := lim.limit_max;
        RETURN;
    END IF;

    UPDATE verifications s SET status = 'CANCELED', updated_at = now()
    WHERE s.tenant_id = p_tenant AND s.email_norm = norm AND s.expires_at > now()
      AND s.status = 'PENDING' AND s.user_id IS NOT DISTINCT FROM p_user_id;

    IF p_delivery = 'smtp' AND p_sealed_secret IS NULL THEN
        -- sync mode: the worker sends the mail now, and the event waits to
        -- tell how that went (see mp_verification_written)
        PERFORM set_config('mailproof.hold_initiated', 'on', true);
    END IF;
    INSERT INTO verifications (id, tenant_id, api_key_id, email, email_norm, user_id, method,
        token_format, code_length, secret_hash, max_attempts, expires_at, ttl_seconds,
        redirect_url, subject, verification_line, metadata, delivery_status, deliverability,
        disposable, locale, client_ip, user_agent, sealed_code, report_hash, delivery_channel,
        link_hash, custom_code_hash)
    VALUES (p_id, p_tenant, p_key, p_email, norm, p_user_id, p_method, p_token_format,
        p_code_length, p_secret_hash, p_max_attempts, now() + p_ttl * interval '1 second',
        p_ttl, p_redirect_url, p_subject, p_line, p_metadata,
        CASE WHEN p_delivery = 'none' THEN 'HANDED_OVER' ELSE 'QUEUED' END, p_deliverability,
        p_disposable, p_locale, p_client_ip, p_user_agent,
        CASE WHEN p_resend_policy = 'same_code' AND p_delivery = 'smtp' THEN p_sealed_code END,
        p_report_hash, p_delivery, p_link_hash, p_custom_hash)
    RETURNING * INTO v;
    IF p_delivery = 'webhook' THEN
        PERFORM mp_deliver_event(v, p_sealed_code);
    ELSIF p_delivery = 'smtp' AND p_sealed_secret IS NOT NULL THEN
        INSERT INTO mail_jobs (verification_id, sealed_secret) VALUES (v.id, p_sealed_secret);
    END IF;
    outcome := 'created';
    body := mp_verification_json(v)::text;
END $$;

-- The verification.deliver event of v's new code or link (delivery
-- webhook), one per start or resend, its id numbered by its outbox row:
-- p_sealed, the sealed secret, stays in the row until the notifier has
-- delivered the event or given up on it (mp_deliver_result), or the
-- verification leaves PENDING or gets a new code (mp_deliver_events_skip).
CREATE OR REPLACE FUNCTION mp_deliver_event(v verifications, p_sealed bytea) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n bigint := nextval('outbox_id_seq');
BEGIN
    INSERT INTO outbox (id, event_id, tenant_id, verification_id, type, payload, sealed_secret)
    VALUES (n, mp_event_id(v.id, 'verification.deliver') || '_' || n, v.tenant_id, v.id,
            'verification.deliver', mp_verification_json(v), p_sealed);
    PERFORM mp_wake();
END $$;

-- The verification.deliver events of verification p_id still waiting with
-- their code: skipped, the code wiped (p_why says why).  One being sent
-- now finishes, and mp_deliver_result ignores it when its code is no
-- longer the verification's.
CREATE OR REPLACE FUNCTION mp_deliver_events_skip(p_id text, p_why text) RETURNS void
LANGUAGE sql AS $$
    UPDATE outbox o SET state = 'skipped', sealed_secret = NULL, last_error = p_why
    WHERE o.verification_id = p_id AND o.sealed_secret IS NOT NULL AND o.state = 'pending' $$;

-- Whether tenant p_tenant's webhooks can be delivered: a URL, not disabled
-- after a 410.
CREATE OR REPLACE FUNCTION mp_webhook_set(p_tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT t.webhook_url IS NOT NULL AND t.webhook_disabled_at IS NULL
    FROM tenants t WHERE t.id = p_tenant $$;

-- How the verification.deliver event p_event of verification p_id ended,
-- in the transaction that ends it (DB_OUTBOX_*): delivered (p_sent), or
-- given up.  When p_hash, the keyed hash of the event's code, is still the
-- verification's (NULL: whatever it is), its delivery becomes SENT, or
-- FAILED and a PENDING verification FAILED; p_reply says how.  Returns
-- whether it was recorded.
CREATE OR REPLACE FUNCTION mp_deliver_result(p_id text, p_sent boolean, p_reply text,
    p_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM verifications x WHERE x.id = p_id
        AND (p_hash IS NULL OR x.secret_hash = p_hash) FOR UPDATE;
    RETURN FOUND AND (mp_mail_record(p_id, p_sent, true, NULL, p_reply, true)).id IS NOT NULL;
END $$;

-- A new code and expiry for a PENDING verification of p_tenant: the old
-- code stops working and attempts start again.  Counts against the
-- address's limits.  In queue mode (p_sealed_secret) the new mail is
-- queued; one still queued for the old code is not sent.
-- Under p_policy same_code a verification that kept its sealed code is
-- mailed that code again (sealed_code: for the mail), and p_secret_hash
-- is not used.  Within p_cooldown seconds of the last mail, nothing.
-- The new code goes the start's way (delivery_channel): mailed, handed
-- over in the answer (none), or in a new verification.deliver event
-- (webhook; the waiting ones, of the old code, are skipped).
-- outcome: resent | not_found | refused (see status, eff) | suppressed |
--          cooldown | rate_failed | rate_email | no_webhook | scope (the key may
--          not deliver this verification's code: p_may_deliver)
CREATE OR REPLACE FUNCTION mp_resend(p_tenant bigint, p_id text, p_secret_hash bytea,
    p_per_hour integer, p_fail_day integer, p_sealed_secret bytea, p_sealed_code bytea,
    p_cooldown integer, p_policy text, p_link_hash bytea, p_may_deliver boolean,
    OUT outcome text, OUT retry_after integer, OUT status text, OUT eff text, OUT body text,
    OUT limit_max integer, OUT sealed_code bytea)
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
    lim record;
BEGIN
    SELECT * INTO v FROM verifications x WHERE x.id = p_id AND x.tenant_id = p_tenant
    FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    -- a code handed to the application, or to its webhook: only for a key
    -- that may see or redirect codes (p_may_deliver)
    IF v.delivery_channel <> 'smtp' AND NOT p_may_deliver THEN
        outcome := 'scope';
        RETURN;
    END IF;
    status := v.status;
    eff := mp_status(v);
    IF eff <> 'PENDING' THEN
        outcome := 'refused';
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM suppressions x WHERE x.tenant_id = p_tenant
               AND x.email_norm = v.email_norm
               AND (x.expires_at IS NULL OR x.expires_at > now())) THEN
        outcome := 'suppressed';
        RETURN;
    END IF;
    IF v.delivery_channel = 'webhook' AND NOT mp_webhook_set(p_tenant) THEN
        outcome := 'no_webhook';
        RETURN;
    END IF;
    -- too soon after the last mail: refused before it counts
    IF p_cooldown > 0 AND v.last_mail_at > now() - p_cooldown * interval '1 second' THEN
        outcome := 'cooldown';
        retry_after := mp_retry_after(v.last_mail_at, p_cooldown * interval '1 second');
        limit_max := p_cooldown;
        RETURN;
    END IF;
    lim := mp_address_allows(p_tenant, v.email_norm, p_per_hour, p_fail_day);
    IF lim.outcome IS NOT NULL THEN
        outcome := lim.outcome;
        retry_after := lim.retry_after;
        limit_max := lim.limit_max;
        RETURN;
    END IF;
    IF p_policy = 'same_code' AND v.sealed_code IS NOT NULL THEN
        -- the code sent before, again: it keeps working, and so do its
        -- attempts; only the time left starts again
        UPDATE verifications x SET expires_at = now() + x.ttl_seconds * interval '1 second',
            updated_at = now(), last_mail_at = now(),
            delivery_status = CASE WHEN x.delivery_channel = 'none' THEN 'HANDED_OVER'
                                   ELSE 'QUEUED' END
        WHERE x.id = p_id RETURNING * INTO v;
        sealed_code := v.sealed_code;
    ELSE
        UPDATE verifications x SET secret_hash = p_secret_hash, attempts = 0,
            expires_at = now() + x.ttl_seconds * interval '1 second', updated_at = now(),
            last_mail_at = now(), link_hash = p_link_hash, custom_code_hash = NULL,
            delivery_status = CASE WHEN x.delivery_channel = 'none' THEN 'HANDED_OVER'
                                   ELSE 'QUEUED' END,
            sealed_code = CASE WHEN p_policy = 'same_code' AND x.delivery_channel = 'smtp'
                               THEN p_sealed_code END
        WHERE x.id = p_id RETURNING * INTO v;
    END IF;
    IF v.delivery_channel = 'webhook' THEN
        PERFORM mp_deliver_events_skip(p_id, 'not sent: a resend replaced its code');
        PERFORM mp_deliver_event(v, p_sealed_code);
    ELSIF v.delivery_channel = 'none' THEN
        NULL;   -- the code is in the answer
    ELSIF p_sealed_secret IS NOT NULL THEN
        -- a mail still queued for an old code is dropped by the notifier:
        -- its code no longer matches secret_hash; one still waiting with
        -- this same code would be a second copy of the new mail
        IF sealed_code IS NOT NULL THEN
            DELETE FROM mail_jobs j WHERE j.state = 'pending' AND j.verification_id = p_id;
        END IF;
        INSERT INTO mail_jobs (verification_id, sealed_secret)
        VALUES (p_id, coalesce(sealed_code, p_sealed_secret));
        PERFORM mp_wake();
    ELSE
        -- sync mode: found by mp_sync_unrecorded until the worker records it
        INSERT INTO sync_resends AS r (verification_id) VALUES (p_id)
        ON CONFLICT (verification_id) DO UPDATE SET started_at = now();
    END IF;
    outcome := 'resent';
    body := mp_verification_json(v)::text;
END $$;

-- Checks a code: p_hash and p_hash_prev are the keyed hashes of the
-- submitted code under secret_key and secret_key_previous (NULL when
-- unset).  p_tenant NULL is the hosted page, where the unguessable id is
-- the credential.  A code that can count is one UPDATE, with no lock taken
-- before it: the UPDATE checks its WHERE again on the newest version of a
-- row that another transaction changed, so concurrent guesses cannot pass
-- max_attempts and concurrent right codes verify exactly once.  A wrong
-- code also counts against the address's wrong codes of the day.
-- The comparison is between keyed digests, so its timing says nothing of
-- the code.  Returns stored (NULL: no such OTP verification) and effective
-- status before, result (the new status, NULL when refused), the attempts
-- remaining, and on VERIFIED the verification as GET shows it.
CREATE OR REPLACE FUNCTION mp_check_code(p_tenant bigint, p_id text, p_hash bytea,
    p_hash_prev bytea,
    OUT stored text, OUT eff text, OUT result text, OUT remaining integer, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    UPDATE verifications x SET
        status = CASE WHEN x.secret_hash IN (p_hash, p_hash_prev) THEN 'VERIFIED'
                      WHEN x.attempts + 1 >= x.max_attempts THEN 'FAILED'
                      ELSE x.status END,
        attempts = CASE WHEN x.secret_hash IN (p_hash, p_hash_prev)
                        THEN x.attempts ELSE x.attempts + 1 END,
        verified_at = CASE WHEN x.secret_hash IN (p_hash, p_hash_prev)
                           THEN now() END,
        updated_at = now()
    WHERE x.id = p_id AND (p_tenant IS NULL OR x.tenant_id = p_tenant)
      AND x.method <> 'MAGIC_LINK' AND x.status = 'PENDING' AND x.expires_at > now()
      AND x.attempts < x.max_attempts
    RETURNING * INTO v;
    IF NOT FOUND THEN
        -- no such verification, or one that takes no code: say which
        SELECT * INTO v FROM verifications x
        WHERE x.id = p_id AND (p_tenant IS NULL OR x.tenant_id = p_tenant)
          AND x.method <> 'MAGIC_LINK';
        IF FOUND THEN
            stored := v.status;
            eff := mp_status(v);
        END IF;
        RETURN;
    END IF;
    stored := 'PENDING';
    eff := 'PENDING';
    IF v.status = 'VERIFIED' THEN
        body := mp_verification_json(v)::text;
    ELSE
        PERFORM mp_address_count(v.tenant_id, v.email_norm, false);
    END IF;
    result := v.status;
    remaining := greatest(v.max_attempts - v.attempts, 0);
END $$;

-- The magic link verification whose token has the keyed hash p_hash, or
-- p_hash_prev (under secret_key_previous, NULL when unset); NULL for none.
CREATE OR REPLACE FUNCTION mp_link_id(p_hash bytea, p_hash_prev bytea) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    vid text;
BEGIN
    SELECT x.id INTO vid FROM verifications x
    WHERE x.method = 'MAGIC_LINK' AND x.secret_hash = p_hash;
    IF NOT FOUND THEN
        -- the link of a mail with a code and a link
        SELECT x.id INTO vid FROM verifications x WHERE x.link_hash = p_hash;
    END IF;
    IF NOT FOUND AND p_hash_prev IS NOT NULL THEN
        SELECT x.id INTO vid FROM verifications x
        WHERE x.method = 'MAGIC_LINK' AND x.secret_hash = p_hash_prev;
        IF NOT FOUND THEN
            SELECT x.id INTO vid FROM verifications x WHERE x.link_hash = p_hash_prev;
        END IF;
    END IF;
    RETURN vid;
END $$;

-- A fetch of a magic link page: counts the view, a mail scanner's or a
-- person's who has not confirmed yet.  Returns the id, effective status and
-- redirect URL.
CREATE OR REPLACE FUNCTION mp_link_view(p_hash bytea, p_hash_prev bytea,
    OUT id text, OUT eff text, OUT redirect text)
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    -- the hash again: a resend may have replaced the token meanwhile
    UPDATE verifications x SET link_views = x.link_views + 1
    WHERE x.id = mp_link_id(p_hash, p_hash_prev)
      AND (x.secret_hash IN (p_hash, p_hash_prev) OR x.link_hash IN (p_hash, p_hash_prev))
    RETURNING * INTO v;
    IF FOUND THEN
        id := v.id;
        eff := mp_status(v);
        redirect := coalesce(v.redirect_url, '');
    END IF;
END $$;

-- The confirming POST of a magic link: verifies a PENDING, unexpired
-- verification once, with its email.verified event.  Returns the id,
-- effective status before, redirect URL, and the new status (NULL when
-- nothing changed).
CREATE OR REPLACE FUNCTION mp_link_confirm(p_hash bytea, p_hash_prev bytea,
    OUT id text, OUT eff text, OUT redirect text, OUT result text)
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    SELECT * INTO v FROM verifications x WHERE x.id = mp_link_id(p_hash, p_hash_prev)
      AND (x.secret_hash IN (p_hash, p_hash_prev) OR x.link_hash IN (p_hash, p_hash_prev))
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    id := v.id;
    eff := mp_status(v);
    redirect := coalesce(v.redirect_url, '');
    IF eff = 'PENDING' THEN
        UPDATE verifications x SET status = 'VERIFIED', verified_at = now(), updated_at = now()
        WHERE x.id = v.id RETURNING * INTO v;
        result := v.status;
    END IF;
END $$;

-- Cancels a PENDING verification of p_tenant.  Returns the stored and
-- effective status before (NULL: not found) and the verification after
-- (NULL when nothing changed).
CREATE OR REPLACE FUNCTION mp_cancel(p_tenant bigint, p_id text,
    OUT stored text, OUT eff text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    SELECT * INTO v FROM verifications x WHERE x.id = p_id AND x.tenant_id = p_tenant
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    stored := v.status;
    eff := mp_status(v);
    IF eff = 'PENDING' THEN
        UPDATE verifications x SET status = 'CANCELED', updated_at = now()
        WHERE x.id = p_id RETURNING * INTO v;
        body := mp_verification_json(v)::text;
    END IF;
END $$;

-- Records one try at sending v's mail: sent, or refused with a final
-- answer (p_final) or for now.  A final failure fails a PENDING
-- verification with email.failed.  Returns the verification after.
CREATE OR REPLACE FUNCTION mp_mail_result(p_id text, p_sent boolean, p_final boolean,
    p_code integer, p_reply text) RETURNS verifications
LANGUAGE plpgsql AS $$
BEGIN
    RETURN mp_mail_record(p_id, p_sent, p_final, p_code, p_reply, false);
END $$;

-- mp_mail_result, and with p_only_queued only while delivery_status is
-- QUEUED: else nothing changes and the row returned is NULL.  A concurrent
-- record waits for the row and then finds it recorded: exactly one counts.
CREATE OR REPLACE FUNCTION mp_mail_record(p_id text, p_sent boolean, p_final boolean,
    p_code integer, p_reply text, p_only_queued boolean) RETURNS verifications
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    UPDATE verifications x SET delivery_attempts = x.delivery_attempts + 1,
        smtp_code = p_code, smtp_reply = p_reply, updated_at = now(),
        delivery_status = CASE WHEN p_sent THEN 'SENT' WHEN p_final THEN 'FAILED'
                               ELSE 'QUEUED' END,
        sent_at = CASE WHEN p_sent THEN now() ELSE x.sent_at END,
        status = CASE WHEN NOT p_sent AND p_final AND x.status = 'PENDING' THEN 'FAILED'
                      ELSE x.status END
    WHERE x.id = p_id AND (NOT p_only_queued OR x.delivery_status = 'QUEUED')
    RETURNING * INTO v;
    RETURN v;
END $$;

-- The outcome of the mail a worker sent itself (sync mode, always final):
-- see mp_mail_result.  The verification.initiated event held back at the
-- start (mp_verification_written) then shows the verification as the mail
-- left it, and is due now.
CREATE OR REPLACE FUNCTION mp_sync_mail_result(p_id text, p_sent boolean, p_code integer,
    p_reply text) RETURNS verifications
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    v := mp_mail_record(p_id, p_sent, true, p_code, p_reply, true);
    IF v.id IS NULL THEN
        -- recorded already: by the notifier from the mail journal, or by
        -- this very record, whose commit the worker did not hear of
        SELECT * INTO v FROM verifications x WHERE x.id = p_id;
        RETURN v;
    END IF;
    DELETE FROM sync_resends r WHERE r.verification_id = p_id;
    -- held events are few: the index of due events finds them by run_at
    UPDATE outbox o SET payload = mp_verification_json(v), run_at = now()
    WHERE o.state = 'pending' AND o.run_at > now() AND o.attempts = 0
      AND o.verification_id = p_id AND o.type = 'verification.initiated';
    IF FOUND THEN
        PERFORM mp_wake();
    END IF;
    RETURN v;
END $$;

-- "Didn't ask for this? Tell us.": the POST of the report link whose token
-- has the keyed hash p_hash (or p_hash_prev, under secret_key_previous).
-- Once per verification: it and every other PENDING verification of the
-- address are canceled, the address goes on
-- the tenant's suppression list for good, email.reported is due, and the
-- tenant's reports count one more.  Returns the verification (NULL: no
-- such link).
CREATE OR REPLACE FUNCTION mp_report(p_hash bytea, p_hash_prev bytea) RETURNS verifications
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    SELECT * INTO v FROM verifications x
    WHERE x.report_hash = p_hash OR x.report_hash = p_hash_prev FOR UPDATE;
    IF NOT FOUND OR v.reported_at IS NOT NULL THEN
        RETURN v;
    END IF;
    UPDATE verifications x SET reported_at = now(), updated_at = now(),
        status = CASE WHEN mp_status(x) = 'PENDING' THEN 'CANCELED' ELSE x.status END
    WHERE x.id = v.id RETURNING * INTO v;
    -- and every other verification still waiting on that address: no more mail
    UPDATE verifications x SET status = 'CANCELED', updated_at = now()
    WHERE x.tenant_id = v.tenant_id AND x.email_norm = v.email_norm AND x.id <> v.id
      AND x.status = 'PENDING' AND x.expires_at > now();
    INSERT INTO suppressions AS s (tenant_id, email_norm, reason)
    VALUES (v.tenant_id, v.email_norm, 'reported')
    ON CONFLICT (tenant_id, email_norm) DO UPDATE
        SET reason = 'reported', note = NULL, created_at = now(), expires_at = NULL;
    INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)
    VALUES (mp_event_id(v.id, 'email.reported'), v.tenant_id, v.id, 'email.reported',
            mp_verification_json(v));
    UPDATE tenants t SET reports = t.reports + 1 WHERE t.id = v.tenant_id;
    PERFORM mp_wake();
    RETURN v;
END $$;

-- Whether v waits for the outcome of a mail that a worker sends itself
-- (sync mode): mailed, queued, with no job for the notifier.
CREATE OR REPLACE FUNCTION mp_mail_unrecorded(v verifications) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT v.delivery_status = 'QUEUED' AND v.delivery_channel = 'smtp'
        AND NOT EXISTS (SELECT 1 FROM mail_jobs j
                        WHERE j.verification_id = v.id AND j.state IN ('pending', 'sending')) $$;

-- Sync-mode mails sent at least p_age seconds ago whose outcome no worker
-- recorded: starts, whose verification.initiated event is still held back
-- (ten minutes from the start), and resends.  secret_prefix (the first 8
-- hex digits of the code's keyed hash) tells a resend's mail from the
-- first one in the journal, and so does mails, the mails recorded before
-- (under same_code a resend's mail has the first one's code).
CREATE OR REPLACE FUNCTION mp_sync_unrecorded(p_age integer, p_limit integer)
    RETURNS TABLE (id text, tenant_id bigint, secret_prefix text, age integer, mails integer)
LANGUAGE sql STABLE AS $$
    SELECT v.id, v.tenant_id, substr(encode(v.secret_hash, 'hex'), 1, 8),
           extract(epoch FROM now() - s.since)::integer, v.delivery_attempts
    FROM (SELECT o.verification_id AS vid, o.run_at - interval '10 minutes' AS since
          FROM outbox o
          WHERE o.state = 'pending' AND o.attempts = 0 AND o.run_at > now()
            AND o.run_at <= now() + interval '10 minutes' - p_age * interval '1 second'
            AND o.type = 'verification.initiated'
          UNION ALL
          SELECT r.verification_id, r.started_at FROM sync_resends r
          WHERE r.started_at <= now() - p_age * interval '1 second') s
    JOIN verifications v ON v.id = s.vid
    WHERE mp_mail_unrecorded(v)
    ORDER BY s.since LIMIT p_limit $$;

-- The outcome of one queued send (the notifier): the job is done when
-- sent or final, else due again after p_delay_ms; see mp_mail_result.
CREATE OR REPLACE FUNCTION mp_mail_job_result(p_job bigint, p_sent boolean, p_final boolean,
    p_code integer, p_reply text, p_delay_ms integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    vid text;
BEGIN
    UPDATE mail_jobs j SET locked_until = NULL,
        state = CASE WHEN p_sent THEN 'sent' WHEN p_final THEN 'failed' ELSE 'pending' END,
        run_at = now() + p_delay_ms * interval '1 millisecond',
        sealed_message = CASE WHEN p_sent OR p_final THEN ''::bytea ELSE j.sealed_message END,
        sealed_secret = CASE WHEN p_sent OR p_final THEN NULL ELSE j.sealed_secret END
    WHERE j.id = p_job RETURNING j.verification_id INTO vid;
    IF FOUND THEN
        PERFORM mp_mail_result(vid, p_sent, p_final, p_code, p_reply);
    END IF;
END $$;

-- Expires PENDING verifications past expires_at, at most p_batch, each with
-- its email.expired event, and returns how many; the notifier calls it
-- until that is less than p_batch.  It goes on from sweep_state.swept_to,
-- or a minute before it when the last sweep was complete (a start or
-- resend whose transaction began earlier may commit an expiry a little in
-- the past), so each sweep reads the expiries since the last one, not all
-- of them.  One notifier sweeps at a time.
CREATE OR REPLACE FUNCTION mp_expire(p_batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    st sweep_state;
    upto timestamptz := now();
    n integer;
    last timestamptz;
BEGIN
    SELECT * INTO st FROM sweep_state s WHERE s.id = 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF st.complete THEN
        st.swept_to := st.swept_to - interval '1 minute';
    END IF;
    WITH expired AS (
        UPDATE verifications x SET status = 'EXPIRED', updated_at = now()
        WHERE x.id IN (SELECT y.id FROM verifications y
                       WHERE y.expires_at >= st.swept_to AND y.expires_at <= upto
                         AND y.status = 'PENDING'
                       ORDER BY y.expires_at LIMIT p_batch FOR UPDATE)
        RETURNING x.expires_at)
    SELECT count(*), max(e.expires_at) INTO n, last FROM expired e;
    UPDATE sweep_state s SET swept_to = CASE WHEN n < p_batch THEN upto ELSE last END,
        complete = n < p_batch
    WHERE s.id = 1;
    RETURN n;
END $$;

-- Deletes what is older than the retention period: finished events and
-- mail jobs (an event keeps its payload, so it may outlive its
-- verification), and verifications; expired idempotency keys and windows;
-- and folds the keys' counted requests into api_keys.usage_count.  Each
-- delete reads an index from its oldest end, so the work is the rows
-- deleted, not the size of the tables.
CREATE OR REPLACE FUNCTION mp_purge(p_days integer, OUT events bigint, OUT verifications bigint)
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := now() - p_days * interval '1 day';
    t record;
    n bigint;
BEGIN
    -- ids grow with time: everything older than the cutoff is below the
    -- first id that is not
    DELETE FROM outbox o
    WHERE o.id < coalesce((SELECT min(x.id) FROM outbox x WHERE x.created_at >= cutoff),
                          9223372036854775807)
      AND o.state IN ('delivered', 'dead', 'skipped');
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM mail_jobs j
    WHERE j.id < coalesce((SELECT min(x.id) FROM mail_jobs x WHERE x.created_at >= cutoff),
                          9223372036854775807)
      AND j.state IN ('sent', 'failed');
    verifications := 0;
    FOR t IN SELECT x.id FROM tenants x LOOP
        DELETE FROM verifications v WHERE v.tenant_id = t.id AND v.created_at < cutoff;
        GET DIAGNOSTICS n = ROW_COUNT;
        verifications := verifications + n;
    END LOOP;
    DELETE FROM idempotency_keys k WHERE k.created_at < now() - interval '24 hours';
    WITH u AS (
        SELECT x.key_id, x.folded, x.window_start,
               coalesce(pg_sequence_last_value(a.requests), 0) AS total
        FROM key_windows x JOIN api_keys a ON a.id = x.key_id FOR UPDATE OF x),
    f AS (
        UPDATE key_windows x SET folded = u.total FROM u
        WHERE x.key_id = u.key_id AND u.total > u.folded
        RETURNING x.key_id, u.total - u.folded AS n, u.window_start)
    UPDATE api_keys k SET usage_count = k.usage_count + f.n,
        last_used_at = greatest(k.last_used_at, f.window_start + interval '1 minute')
    FROM f WHERE k.id = f.key_id;
    DELETE FROM ip_hits h WHERE h.window_start < now() - interval '1 minute';
    DELETE FROM address_limits a WHERE a.hour_start < now() - interval '1 hour'
                                   AND a.day_start < now() - interval '1 day';
    DELETE FROM rate_counters c WHERE c.window_start < now() - interval '32 days';
    DELETE FROM client_windows c WHERE c.window_start < now() - interval '1 day';
    DELETE FROM client_addresses c WHERE c.day < current_date - 1;
    DELETE FROM suppressions x WHERE x.expires_at < now();
END $$;

-- mailproofctl outbox retry: a dead or skipped event is due again, with
-- its attempts from zero, and a sleeping notifier is woken.  Returns the
-- state the event was in (NULL: no such event).
CREATE OR REPLACE FUNCTION mp_outbox_retry(p_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    was text;
BEGIN
    SELECT o.state INTO was FROM outbox o WHERE o.id = p_id FOR UPDATE;
    IF was IN ('dead', 'skipped') THEN
        UPDATE outbox o SET state = 'pending', attempts = 0, run_at = now() WHERE o.id = p_id;
        PERFORM mp_wake();
    END IF;
    RETURN was;
END $$;

-- Every dead (or skipped) event, of tenant p_tenant (a name, NULL: all)
-- created at or after p_since (NULL: ever), due again at once, as
-- mp_outbox_retry makes one: after an outage of a receiver.  Returns how
-- many, or NULL when there is no tenant of that name.
CREATE OR REPLACE FUNCTION mp_outbox_retry_all(p_state text, p_tenant text,
    p_since timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    tid bigint;
    n bigint;
BEGIN
    IF p_tenant IS NOT NULL THEN
        SELECT t.id INTO tid FROM tenants t WHERE t.name = p_tenant;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    UPDATE outbox o SET state = 'pending', attempts = 0, run_at = now()
    WHERE o.state = p_state AND (tid IS NULL OR o.tenant_id = tid)
      AND (p_since IS NULL OR o.created_at >= p_since);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM mp_wake();
    END IF;
    RETURN n;
END $$;

-- ------------------------------------------------------------ the API

-- Each takes the API key's hashes and the configured per-minute limit
-- (p_key, p_key_prev, p_limit), and answers auth first (see mp_authorize);
-- nothing else is done unless auth is 'ok'.

-- GET /v1/verifications/email/{id}: the verification, or NULL.
CREATE OR REPLACE FUNCTION mp_api_get(p_key bytea, p_key_prev bytea, p_limit integer,
    p_id text, OUT auth text, OUT retry_after integer, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    PERFORM mp_read_commits_lazily();
    a := mp_authorize(p_key, p_key_prev, 'verifications:read', p_limit, true);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth = 'ok' THEN
        SELECT mp_verification_json(v)::text INTO body FROM verifications v
        WHERE v.id = p_id AND v.tenant_id = a.tenant_id;
    END IF;
END $$;

-- GET /v1/verifications/email: up to p_limit_rows of the tenant's
-- verifications, newest first, as a JSON array, filtered by address,
-- userId and status (each NULL for any), after the cursor (p_after_us:
-- created_at in microseconds since the epoch, p_after_id; NULL for the
-- first page).  more: another page follows, whose cursor is last_us, last_id.
CREATE OR REPLACE FUNCTION mp_api_list(p_key bytea, p_key_prev bytea, p_limit integer,
    p_email text, p_user_id text, p_status text, p_after_us bigint, p_after_id text,
    p_limit_rows integer,
    OUT auth text, OUT retry_after integer, OUT items text, OUT more boolean,
    OUT last_us bigint, OUT last_id text)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    PERFORM mp_read_commits_lazily();
    a := mp_authorize(p_key, p_key_prev, 'verifications:read', p_limit, true);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth <> 'ok' THEN
        RETURN;
    END IF;
    SELECT coalesce(json_agg(p.j ORDER BY p.created_at DESC, p.id DESC)
                    FILTER (WHERE p.n <= p_limit_rows), '[]')::text,
           count(*) > p_limit_rows,
           (max(extract(epoch FROM p.created_at) * 1000000) FILTER (WHERE p.n = p_limit_rows))::bigint,
           max(p.id) FILTER (WHERE p.n = p_limit_rows)
    INTO items, more, last_us, last_id
    FROM (SELECT mp_verification_json(v) AS j, v.created_at, v.id,
                 row_number() OVER (ORDER BY v.created_at DESC, v.id DESC) AS n
          FROM verifications v WHERE v.tenant_id = a.tenant_id
            AND (p_email IS NULL OR v.email_norm = lower(p_email))
            AND (p_user_id IS NULL OR v.user_id = p_user_id)
            AND (p_status IS NULL OR mp_status(v) = p_status)
            AND (p_after_us IS NULL OR (v.created_at, v.id) <
                 ('epoch'::timestamptz + p_after_us * interval '1 microsecond', p_after_id))
          ORDER BY v.created_at DESC, v.id DESC LIMIT p_limit_rows + 1) p;
END $$;

-- The tenant's allowed redirect prefixes, for a magic link start with a
-- redirectUrl; the start that follows counts the request.
CREATE OR REPLACE FUNCTION mp_api_redirects(p_key bytea, p_key_prev bytea, p_limit integer,
    OUT auth text, OUT retry_after integer, OUT prefixes text[])
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    a := mp_authorize(p_key, p_key_prev, 'verifications:write', p_limit, false);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth = 'ok' THEN
        SELECT t.redirect_allow INTO prefixes FROM tenants t WHERE t.id = a.tenant_id;
    END IF;
END $$;

-- POST /v1/verifications/email: see mp_start.  p_per_hour is the
-- configured per-address limit (a tenant's own overrides it).  p_refusal
-- (disposable | undeliverable), when set, is the outcome once the key is
-- known to be good: nothing is started.  p_locale is the language the
-- request asked for, when mailproof has it, else NULL for the tenant's
-- default (or English).  Returns the tenant (for the idempotency record),
-- its sender override and the locale used.
CREATE OR REPLACE FUNCTION mp_api_start(p_key bytea, p_key_prev bytea, p_limit integer,
    p_id text, p_email text, p_user_id text, p_method text, p_token_format text,
    p_code_length integer, p_secret_hash bytea, p_max_attempts integer, p_ttl integer,
    p_redirect_url text, p_subject text, p_line text, p_metadata jsonb, p_sealed_secret bytea,
    p_deliverability text, p_disposable boolean, p_idem_key text, p_idem_hash bytea,
    p_per_hour integer, p_fail_day integer, p_refusal text, p_locale text, p_client_ip inet,
    p_user_agent text, p_client_ip_hour integer, p_client_net_hour integer,
    p_client_addr_day integer, p_require_client_ip boolean, p_sealed_code bytea,
    p_resend_policy text, p_report_hash bytea, p_delivery text, p_link_hash bytea,
    p_custom_hash bytea,
    OUT auth text, OUT retry_after integer, OUT tenant_id bigint, OUT mail_from text,
    OUT outcome text, OUT body text, OUT replay_status integer, OUT locale text,
    OUT limit_max integer)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    s record;
BEGIN
    a := mp_authorize(p_key, p_key_prev, 'verifications:write', p_limit, true);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth <> 'ok' THEN
        RETURN;
    END IF;
    -- seeing, choosing or redirecting a code needs verifications:deliver
    IF (p_delivery <> 'smtp' OR p_custom_hash IS NOT NULL) AND NOT a.may_deliver THEN
        auth := 'scope:verifications:deliver';
        RETURN;
    END IF;
    tenant_id := a.tenant_id;
    mail_from := a.mail_from;
    locale := coalesce(p_locale, a.default_locale, 'en');
    IF p_refusal IS NOT NULL THEN
        outcome := p_refusal;
        RETURN;
    END IF;
    s := mp_start(a.tenant_id, a.key_id, p_id, p_email, p_user_id, p_method, p_token_format,
                  p_code_length, p_secret_hash, p_max_attempts, p_ttl, p_redirect_url, p_subject,
                  p_line, p_metadata, p_sealed_secret, p_deliverability, p_disposable, p_idem_key,
                  p_idem_hash, coalesce(a.per_hour, p_per_hour), p_fail_day, a.quota, locale,
                  p_client_ip, p_user_agent, coalesce(a.client_ip_hour, p_client_ip_hour),
                  coalesce(a.client_net_hour, p_client_net_hour),
                  coalesce(a.client_addr_day, p_client_addr_day),
                  coalesce(a.require_client_ip, p_require_client_ip), p_sealed_code,
                  coalesce(a.resend_policy, p_resend_policy), p_report_hash, p_delivery,
                  p_link_hash, p_custom_hash);
    outcome := s.outcome;
    retry_after := s.retry_after;
    body := s.body;
    replay_status := s.replay_status;
    limit_max := s.limit_max;
END $$;

-- POST .../{id}/verify: see mp_check_code.
CREATE OR REPLACE FUNCTION mp_api_verify(p_key bytea, p_key_prev bytea, p_limit integer,
    p_id text, p_hash bytea, p_hash_prev bytea,
    OUT auth text, OUT retry_after integer, OUT stored text, OUT eff text, OUT result text,
    OUT remaining integer, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    c record;
BEGIN
    a := mp_authorize(p_key, p_key_prev, 'verifications:check', p_limit, true);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth <> 'ok' THEN
        RETURN;
    END IF;
    c := mp_check_code(a.tenant_id, p_id, p_hash, p_hash_prev);
    stored := c.stored;
    eff := c.eff;
    result := c.result;
    remaining := c.remaining;
    body := c.body;
END $$;

-- What a resend needs to write its mail, counted as the request; the
-- resend that follows (mp_api_resend) is not counted again.
CREATE OR REPLACE FUNCTION mp_api_mail_info(p_key bytea, p_key_prev bytea, p_limit integer,
    p_id text, OUT auth text, OUT retry_after integer, OUT known boolean, OUT email text,
    OUT method text, OUT token_format text, OUT code_length integer, OUT subject text,
    OUT line text, OUT ttl integer, OUT mail_from text, OUT locale text,
    OUT delivery_channel text)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    a := mp_authorize(p_key, p_key_prev, 'verifications:write', p_limit, true);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth <> 'ok' THEN
        RETURN;
    END IF;
    mail_from := a.mail_from;
    SELECT true, v.email, v.method, v.token_format, v.code_length, v.subject,
           v.verification_line, v.ttl_seconds, v.locale, v.delivery_channel
    INTO known, email, method, token_format, code_length, subject, line, ttl, locale,
         delivery_channel
    FROM verifications v WHERE v.id = p_id AND v.tenant_id = a.tenant_id;
    known := coalesce(known, false);
END $$;

-- POST .../{id}/resend: see mp_resend.
CREATE OR REPLACE FUNCTION mp_api_resend(p_key bytea, p_key_prev bytea, p_limit integer,
    p_id text, p_secret_hash bytea, p_per_hour integer, p_fail_day integer,
    p_sealed_secret bytea, p_sealed_code bytea, p_cooldown integer, p_policy text,
    p_link_hash bytea,
    OUT auth text, OUT retry_after integer, OUT outcome text, OUT status text, OUT eff text,
    OUT body text, OUT tenant_id bigint, OUT limit_max integer, OUT sealed_code bytea)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    r record;
BEGIN
    a := mp_authorize(p_key, p_key_prev, 'verifications:write', p_limit, false);
    auth := a.auth;
    retry_after := a.retry_after;
    tenant_id := a.tenant_id;
    IF a.auth <> 'ok' THEN
        RETURN;
    END IF;
    r := mp_resend(a.tenant_id, p_id, p_secret_hash, coalesce(a.per_hour, p_per_hour),
                   p_fail_day, p_sealed_secret, p_sealed_code, p_cooldown,
                   coalesce(a.resend_policy, p_policy), p_link_hash, a.may_deliver);
    IF r.outcome = 'scope' THEN
        auth := 'scope:verifications:deliver';
        RETURN;
    END IF;
    outcome := r.outcome;
    retry_after := r.retry_after;
    status := r.status;
    eff := r.eff;
    body := r.body;
    limit_max := r.limit_max;
    sealed_code := r.sealed_code;
END $$;

-- POST .../{id}/cancel: see mp_cancel.
CREATE OR REPLACE FUNCTION mp_api_cancel(p_key bytea, p_key_prev bytea, p_limit integer,
    p_id text, OUT auth text, OUT retry_after integer, OUT stored text, OUT eff text,
    OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
    a record;
    c record;
BEGIN
    a := mp_authorize(p_key, p_key_prev, 'verifications:write', p_limit, true);
    auth := a.auth;
    retry_after := a.retry_after;
    IF a.auth <> 'ok' THEN
        RETURN;
    END IF;
    c := mp_cancel(a.tenant_id, p_id);
    stored := c.stored;
    eff := c.eff;
    body := c.body;
END $$;

-- ------------------------------------------------------------ bounces

-- What `mailproofctl bounce` read from a bounce for verification p_id:
-- p_kind failed (a permanent failure), delayed, or delivered (a success
-- notice); p_code its RFC 3463 status, p_reason its diagnostic, p_source
-- DSN or TEXT.  A failure makes delivery BOUNCED, a PENDING verification
-- FAILED (its email.failed event), puts the address on the tenant's
-- suppression list and writes email.bounced, once; a VERIFIED one is left
-- alone (the mail did arrive).  A delay makes a SENT or QUEUED delivery
-- DELAYED, and a success notice a DELAYED one SENT again.  Returns
-- bounced, delayed, delivered, ignored (nothing to change) or unknown (no
-- such verification: purged, or never ours).
CREATE OR REPLACE FUNCTION mp_bounce(p_id text, p_kind text, p_code text, p_reason text,
    p_source text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v verifications;
BEGIN
    SELECT * INTO v FROM verifications x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown';
    END IF;
    IF p_kind = 'failed' AND v.status <> 'VERIFIED' AND v.delivery_status <> 'BOUNCED' THEN
        UPDATE verifications x SET delivery_status = 'BOUNCED', bounce_code = p_code,
            bounce_reason = p_reason, bounce_source = p_source, bounced_at = now(),
            status = CASE WHEN mp_status(x) = 'PENDING' THEN 'FAILED' ELSE x.status END,
            updated_at = now()
        WHERE x.id = p_id RETURNING * INTO v;
        INSERT INTO suppressions (tenant_id, email_norm, reason, note)
        VALUES (v.tenant_id, v.email_norm, 'bounced', left(p_code || ' ' || p_reason, 200))
        ON CONFLICT ON CONSTRAINT suppressions_pkey DO NOTHING;
        -- once by construction: only the first failure finds it not BOUNCED
        INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)
        VALUES (mp_event_id(v.id, 'email.bounced'), v.tenant_id, v.id, 'email.bounced',
                mp_verification_json(v));
        PERFORM mp_wake();
        RETURN 'bounced';
    ELSIF p_kind = 'delayed' AND v.delivery_status IN ('QUEUED', 'SENT', 'DELAYED')
          AND v.status = 'PENDING' THEN
        UPDATE verifications x SET delivery_status = 'DELAYED', bounce_code = p_code,
            bounce_reason = p_reason, bounce_source = p_source, updated_at = now()
        WHERE x.id = p_id;
        RETURN 'delayed';
    ELSIF p_kind = 'delivered' AND v.delivery_status = 'DELAYED' THEN
        UPDATE verifications x SET delivery_status = 'SENT', updated_at = now()
        WHERE x.id = p_id;
        RETURN 'delivered';
    END IF;
    RETURN 'ignored';
END $$;
