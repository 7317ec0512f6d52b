-- Version 14: resends explain themselves.  A resend within
-- resend_cooldown_seconds of the last mail is refused (429, limit
-- resend_cooldown); last_mail_at says when that was.  Under resend_policy
-- same_code a resend mails the code already sent (a person whose first
-- mail was late can still use it), so that code is kept, sealed under
-- secret_key as queued mail is; under new_code (the default) nothing is.
ALTER TABLE verifications
    ADD COLUMN last_mail_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN sealed_code bytea;
ALTER TABLE tenants
    ADD COLUMN resend_policy text CHECK (resend_policy IN ('new_code', 'same_code'));

DROP FUNCTION IF EXISTS mp_authorize(bytea, bytea, text, integer, boolean);
DROP FUNCTION IF EXISTS mp_start(bigint, bigint, text, text, text, text, text, integer, bytea,
    integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, integer, text, inet, text, integer, integer, integer, boolean);
DROP FUNCTION IF EXISTS mp_api_start(bytea, bytea, integer, text, text, text, text, text, integer,
    bytea, integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, text, text, inet, text, integer, integer, integer, boolean);
DROP FUNCTION IF EXISTS mp_resend(bigint, text, bytea, integer, integer, bytea);
DROP FUNCTION IF EXISTS mp_api_resend(bytea, bytea, integer, text, bytea, integer, integer, bytea);
