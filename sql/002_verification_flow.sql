-- The verification flow: start (with idempotency, limits and superseding),
-- resend, and the helpers the statements of src/db_sql.c share.

-- Lifetime asked for at start, so that a resend gives the same again.
ALTER TABLE verifications ADD COLUMN ttl_seconds integer NOT NULL DEFAULT 900
    CHECK (ttl_seconds BETWEEN 60 AND 2592000);
ALTER TABLE verifications ALTER COLUMN ttl_seconds DROP DEFAULT;
CREATE INDEX verifications_tenant_email ON verifications (tenant_id, email_norm, created_at DESC);

-- Webhook ids are derived, not random: each event type happens at most once
-- per verification, so the unique event_id also stops a duplicate event.
CREATE FUNCTION mp_event_id(vid text, type text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT 'msg_' || substr(vid, 4) || '_' || replace(type, '.', '_') $$;

-- The outbox row of an event: every writer of events goes through here, as
-- INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)
-- SELECT (mp_event(v, type)).*
CREATE FUNCTION mp_event(v verifications, kind text,
    OUT event_id text, OUT tenant_id bigint, OUT verification_id text, OUT type text,
    OUT payload jsonb)
LANGUAGE sql STABLE AS
$$ SELECT mp_event_id(v.id, kind), v.tenant_id, v.id, kind, mp_verification_json(v) $$;

CREATE FUNCTION mp_emit(v verifications, kind text) RETURNS void
LANGUAGE sql AS
$$ INSERT INTO outbox (event_id, tenant_id, verification_id, type, payload)
   SELECT (mp_event(v, kind)).* ON CONFLICT (event_id) DO NOTHING $$;

-- Adds one to a fixed-window counter and returns the new count.
CREATE FUNCTION mp_count(p_bucket text, p_window timestamptz) RETURNS integer
LANGUAGE sql AS
$$ INSERT INTO rate_counters (bucket, window_start, count) VALUES (p_bucket, p_window, 1)
   ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + 1
   RETURNING count $$;

-- Whole seconds until a window that started at w and lasts len is over.
CREATE FUNCTION mp_retry_after(w timestamptz, len interval) RETURNS integer
LANGUAGE sql STABLE AS
$$ SELECT greatest(1, ceil(extract(epoch FROM w + len - now())))::integer $$;

-- Refuses a start or resend for an address that is over its limits:
-- wrong codes per day (p_fail_day) and mails per hour (tenant override or
-- p_per_hour; this one counts the attempt).  0 turns a limit off.
-- Returns NULL when allowed, else the outcome and seconds to wait.
CREATE FUNCTION mp_address_limits(p_tenant bigint, p_norm text, p_per_hour integer,
                                  p_fail_day integer, OUT outcome text, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    lim integer;
BEGIN
    IF p_fail_day > 0 THEN
        SELECT c.count INTO n FROM rate_counters c
        WHERE c.bucket = 'fail:' || p_tenant || ':' || p_norm
          AND c.window_start = date_trunc('day', now());
        IF coalesce(n, 0) >= p_fail_day THEN
            outcome := 'rate_failed';
            retry_after := mp_retry_after(date_trunc('day', now()), interval '1 day');
            RETURN;
        END IF;
    END IF;
    SELECT coalesce(t.rate_per_email_per_hour, p_per_hour) INTO lim FROM tenants t
    WHERE t.id = p_tenant;
    IF lim > 0 AND mp_count('email:' || p_tenant || ':' || p_norm,
                            date_trunc('hour', now())) > lim THEN
        outcome := 'rate_email';
        retry_after := mp_retry_after(date_trunc('hour', now()), interval '1 hour');
    END IF;
END $$;

-- Starts a verification, all in the caller's one statement:
-- idempotency, limits, quota, superseding, the row, its event, and in
-- queue mode its mail job (p_sealed_mail; NULL when mail is sent at once).
-- outcome: created | replay | idem_conflict | idem_in_progress |
--          rate_failed | rate_email | quota
CREATE FUNCTION mp_start(
    p_tenant bigint, p_key bigint, p_id text, p_email text, p_user_id text,
    p_method text, p_token_format text, p_code_length integer, p_secret_hash bytea,
    p_max_attempts integer, p_ttl integer, p_redirect_url text, p_subject text,
    p_line text, p_metadata jsonb, p_sealed_mail bytea, p_deliverability text,
    p_disposable boolean,
    p_idem_key text, p_idem_hash bytea, p_per_hour integer, p_fail_day integer,
    OUT outcome text, OUT retry_after integer, OUT body text, OUT replay_status integer)
LANGUAGE plpgsql AS $$
DECLARE
    norm text := lower(p_email);
    idem idempotency_keys;
    lim record;
    quota integer;
    old verifications;
    v verifications;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        -- Past 24 hours a key is new again; a request that never finished
        -- (its worker died) frees its key after 5 minutes.
        DELETE FROM idempotency_keys k
        WHERE k.tenant_id = p_tenant AND k.key = p_idem_key
          AND (k.created_at < now() - interval '24 hours'
               OR (k.response_status IS NULL AND k.created_at < now() - interval '5 minutes'));
        INSERT INTO idempotency_keys (tenant_id, key, request_hash)
        VALUES (p_tenant, p_idem_key, p_idem_hash) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO idem FROM idempotency_keys k
            WHERE k.tenant_id = p_tenant AND k.key = p_idem_key;
            IF idem.request_hash <> p_idem_hash THEN
                outcome := 'idem_conflict';
            ELSIF idem.response_status IS NULL THEN
                outcome := 'idem_in_progress';
            ELSE
                outcome := 'replay';
                replay_status := idem.response_status;
                body := idem.response_body;
            END IF;
            RETURN;
        END IF;
    END IF;

    -- One start at a time per address and user, so superseding is exact.
    PERFORM pg_advisory_xact_lock(hashtextextended(
        p_tenant || ':' || norm || ':' || coalesce(p_user_id, ''), 0));

    lim := mp_address_limits(p_tenant, norm, p_per_hour, p_fail_day);
    IF lim.outcome IS NULL THEN
        SELECT t.monthly_quota INTO quota FROM tenants t WHERE t.id = p_tenant;
        IF quota IS NOT NULL AND mp_count('quota:' || p_tenant,
                                          date_trunc('month', now())) > quota THEN
            lim.outcome := 'quota';
            lim.retry_after := mp_retry_after(date_trunc('month', now()), interval '1 month');
        END IF;
    END IF;
    IF lim.outcome IS NOT NULL THEN
        -- A refusal is not remembered: the same key may try again later.
        DELETE FROM idempotency_keys k WHERE k.tenant_id = p_tenant AND k.key = p_idem_key;
        outcome := lim.outcome;
        retry_after := lim.retry_after;
        RETURN;
    END IF;

    FOR old IN
        UPDATE verifications s SET status = 'CANCELED', updated_at = now()
        WHERE s.tenant_id = p_tenant AND s.email_norm = norm
          AND s.user_id IS NOT DISTINCT FROM p_user_id
          AND s.status = 'PENDING' AND s.expires_at > now()
        RETURNING s.*
    LOOP
        PERFORM mp_emit(old, 'verification.canceled');
    END LOOP;

    INSERT INTO verifications (id, tenant_id, api_key_id, email, email_norm, user_id, method,
        token_format, code_length, secret_hash, max_attempts, expires_at, ttl_seconds,
        redirect_url, subject, verification_line, metadata, delivery_status, deliverability,
        disposable)
    VALUES (p_id, p_tenant, p_key, p_email, norm, p_user_id, p_method, p_token_format,
        p_code_length, p_secret_hash, p_max_attempts, now() + p_ttl * interval '1 second',
        p_ttl, p_redirect_url, p_subject, p_line, p_metadata, 'QUEUED', p_deliverability,
        p_disposable)
    RETURNING * INTO v;
    -- queue mode: the notifier sends the sealed message
    IF p_sealed_mail IS NOT NULL THEN
        INSERT INTO mail_jobs (verification_id, sealed_message) VALUES (v.id, p_sealed_mail);
    END IF;
    PERFORM mp_emit(v, 'verification.initiated');
    outcome := 'created';
    body := mp_verification_json(v)::text;
END $$;

-- A new code and expiry for a PENDING verification: the old code stops
-- working and attempts start again.  Counts against the address limits.
-- In queue mode (p_sealed_mail) the new mail replaces any still queued.
-- outcome: resent | not_found | refused (see status, eff) | rate_failed | rate_email
CREATE FUNCTION mp_resend(p_tenant bigint, p_id text, p_secret_hash bytea,
    p_per_hour integer, p_fail_day integer, p_sealed_mail bytea,
    OUT outcome text, OUT retry_after integer, OUT status text, OUT eff text, OUT body text)
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
    status := v.status;
    eff := mp_status(v);
    IF eff <> 'PENDING' THEN
        outcome := 'refused';
        RETURN;
    END IF;
    lim := mp_address_limits(p_tenant, v.email_norm, p_per_hour, p_fail_day);
    IF lim.outcome IS NOT NULL THEN
        outcome := lim.outcome;
        retry_after := lim.retry_after;
        RETURN;
    END IF;
    UPDATE verifications x SET secret_hash = p_secret_hash, attempts = 0,
        expires_at = now() + x.ttl_seconds * interval '1 second', updated_at = now(),
        delivery_status = 'QUEUED'
    WHERE x.id = p_id RETURNING * INTO v;
    IF p_sealed_mail IS NOT NULL THEN
        -- a mail still queued for the old code is not sent any more
        UPDATE mail_jobs j SET state = 'failed', sealed_message = ''::bytea
        WHERE j.verification_id = p_id AND j.state IN ('pending', 'sending');
        INSERT INTO mail_jobs (verification_id, sealed_message) VALUES (p_id, p_sealed_mail);
    END IF;
    outcome := 'resent';
    body := mp_verification_json(v)::text;
END $$;
