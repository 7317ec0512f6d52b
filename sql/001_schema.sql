-- mailproof schema, version 1: everything SPEC.md describes, so later
-- features add columns or statements rather than rewrite tables.
-- Applied by `mailproofctl migrate` inside one transaction.

CREATE TABLE tenants (
    id                      bigserial PRIMARY KEY,
    name                    text NOT NULL UNIQUE
                            CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    webhook_url             text,
    -- whsec_...: kept in clear because every webhook is signed with it.
    webhook_secret          text NOT NULL,
    webhook_disabled_at     timestamptz,
    redirect_allow          text[] NOT NULL DEFAULT '{}',
    monthly_quota           integer CHECK (monthly_quota >= 0),
    rate_per_email_per_hour integer CHECK (rate_per_email_per_hour >= 0),
    rate_per_key_per_minute integer CHECK (rate_per_key_per_minute >= 0),
    mail_from               text,
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    -- keyed BLAKE2b of the key (secret_key); the key itself is never stored.
    key_hash     bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    -- "mpk_" and the first characters, so an operator can tell keys apart.
    key_prefix   text NOT NULL,
    scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['verifications:write',
                 'verifications:check', 'verifications:read']::text[]),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz,
    usage_count  bigint NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE verifications (
    id                text PRIMARY KEY CHECK (id ~ '^ev_[0-9A-Z]{26}$'),
    tenant_id         bigint NOT NULL REFERENCES tenants(id),
    api_key_id        bigint REFERENCES api_keys(id),
    email             text NOT NULL,
    -- lower-cased address: the unit of per-address limits.
    email_norm        text NOT NULL,
    user_id           text,
    method            text NOT NULL CHECK (method IN ('OTP', 'MAGIC_LINK')),
    status            text NOT NULL DEFAULT 'PENDING'
                      CHECK (status IN ('PENDING', 'VERIFIED', 'FAILED', 'EXPIRED', 'CANCELED')),
    token_format      text CHECK (token_format IN ('numeric', 'alpha', 'alphanumeric')),
    code_length       smallint CHECK (code_length BETWEEN 4 AND 12),
    -- keyed BLAKE2b of the code (bound to id) or of the link token.
    secret_hash       bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 10),
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    verified_at       timestamptz,
    redirect_url      text,
    subject           text,
    verification_line text,
    metadata          jsonb,
    link_views        integer NOT NULL DEFAULT 0,
    delivery_status   text NOT NULL DEFAULT 'QUEUED'
                      CHECK (delivery_status IN ('QUEUED', 'SENT', 'FAILED')),
    delivery_attempts integer NOT NULL DEFAULT 0,
    smtp_code         integer,
    smtp_reply        text,
    sent_at           timestamptz,
    deliverability    text NOT NULL DEFAULT 'UNKNOWN'
                      CHECK (deliverability IN ('DELIVERABLE', 'UNDELIVERABLE', 'UNKNOWN')),
    disposable        boolean NOT NULL DEFAULT false,
    CHECK (attempts <= max_attempts)
);
CREATE INDEX verifications_tenant_created ON verifications (tenant_id, created_at DESC, id DESC);
CREATE INDEX verifications_pending_expiry ON verifications (expires_at) WHERE status = 'PENDING';
CREATE INDEX verifications_supersede ON verifications (tenant_id, email_norm, user_id)
    WHERE status = 'PENDING';
CREATE UNIQUE INDEX verifications_link ON verifications (secret_hash) WHERE method = 'MAGIC_LINK';

-- Mail waiting for the notifier (mail_delivery = queue).  The message holds
-- the code, so it is stored sealed (secretbox under a key derived from
-- secret_key), never in clear.
CREATE TABLE mail_jobs (
    id              bigserial PRIMARY KEY,
    verification_id text NOT NULL REFERENCES verifications(id) ON DELETE CASCADE,
    sealed_message  bytea NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_jobs_due ON mail_jobs (run_at) WHERE state IN ('pending', 'sending');

-- Webhook events, written in the same transaction as the state change.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    event_id        text NOT NULL UNIQUE,   -- webhook-id, stable across retries
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    verification_id text REFERENCES verifications(id) ON DELETE CASCADE,
    type            text NOT NULL CHECK (type IN ('verification.initiated', 'email.verified',
                    'email.failed', 'email.expired', 'verification.canceled')),
    payload         jsonb NOT NULL,         -- the verification as GET shows it
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'delivered', 'dead', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE state IN ('pending', 'sending');

-- Fixed-window counters shared by every host: rate limits and quotas.
CREATE TABLE rate_counters (
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, window_start)
);

CREATE TABLE idempotency_keys (
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    key             text NOT NULL,
    request_hash    bytea NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

-- API time format: RFC 3339 UTC with milliseconds.
CREATE FUNCTION mp_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Row-level expiry: a PENDING row past expires_at reads EXPIRED at once.
CREATE FUNCTION mp_status(v verifications) RETURNS text
LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN v.status = 'PENDING' AND v.expires_at <= now()
               THEN 'EXPIRED' ELSE v.status END $$;

-- The verification as GET shows it; webhooks carry the same object.
CREATE FUNCTION mp_verification_json(v verifications) RETURNS jsonb
LANGUAGE sql STABLE AS
$$ SELECT jsonb_build_object(
       'id', v.id, 'userId', v.user_id, 'email', v.email, 'method', v.method,
       'status', mp_status(v), 'attempts', v.attempts,
       'attemptsRemaining', greatest(v.max_attempts - v.attempts, 0),
       'maxAttempts', v.max_attempts, 'expiresAt', mp_ts(v.expires_at),
       'createdAt', mp_ts(v.created_at), 'verifiedAt', mp_ts(v.verified_at),
       'delivery', jsonb_build_object('status', v.delivery_status,
           'attempts', v.delivery_attempts, 'smtpCode', v.smtp_code,
           'smtpReply', v.smtp_reply, 'sentAt', mp_ts(v.sent_at)),
       'deliverability', v.deliverability, 'disposable', v.disposable,
       'linkViews', v.link_views, 'metadata', v.metadata) $$;
