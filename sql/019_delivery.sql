-- Version 19: delivery your way.  A start says how its code or link
-- reaches the person (delivery_channel): smtp, as before; none, handed to
-- the application in the start's answer (delivery HANDED_OVER); or
-- webhook, a signed verification.deliver event to the tenant's endpoint,
-- whose outbox row keeps the code sealed (outbox.sealed_secret) until it
-- is delivered or dead, and then wipes it.  CODE_AND_LINK mails a code
-- and a link: the code's keyed hash is secret_hash, the link token's is
-- link_hash.  A code the application chose (customCode) also keeps a
-- keyed hash that is not bound to the verification's id
-- (custom_code_hash), so that a second PENDING verification of the same
-- address with the same code can be refused.
ALTER TABLE verifications
    ADD COLUMN delivery_channel text NOT NULL DEFAULT 'smtp',
    ADD COLUMN link_hash bytea,
    ADD COLUMN custom_code_hash bytea;
CREATE UNIQUE INDEX verifications_code_and_link ON verifications (link_hash)
    WHERE link_hash IS NOT NULL;
ALTER TABLE outbox ADD COLUMN sealed_secret bytea;
-- the events still holding a code, to skip them when it is replaced or
-- can no longer be used: few, and only those
CREATE INDEX outbox_sealed ON outbox (verification_id) WHERE sealed_secret IS NOT NULL;

DROP FUNCTION IF EXISTS mp_start(bigint, bigint, text, text, text, text, text, integer, bytea,
    integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, integer, text, inet, text, integer, integer, integer, boolean, bytea, text, bytea);
DROP FUNCTION IF EXISTS mp_api_start(bytea, bytea, integer, text, text, text, text, text, integer,
    bytea, integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, text, text, inet, text, integer, integer, integer, boolean, bytea, text, bytea);
DROP FUNCTION IF EXISTS mp_resend(bigint, text, bytea, integer, integer, bytea, bytea, integer,
    text);
DROP FUNCTION IF EXISTS mp_api_resend(bytea, bytea, integer, text, bytea, integer, integer, bytea,
    bytea, integer, text);
DROP FUNCTION IF EXISTS mp_api_mail_info(bytea, bytea, integer, text);
-- (it now also says whether the key holds verifications:deliver)
DROP FUNCTION IF EXISTS mp_authorize(bytea, bytea, text, integer, boolean);

-- The scope that lets a key see, choose or redirect a code: granted only
-- when asked for (mailproofctl key create --scopes ...,verifications:deliver).
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (scopes <@ ARRAY[
    'verifications:write', 'verifications:check', 'verifications:read',
    'verifications:deliver']::text[]);

-- A tenant's own templates of the mail with a code and a link; and
-- page-report.html, which template_check.c accepted since version 16 but
-- this list did not.
ALTER TABLE tenant_templates DROP CONSTRAINT IF EXISTS tenant_templates_name_check;
ALTER TABLE tenant_templates ADD CONSTRAINT tenant_templates_name_check CHECK (name IN (
    'otp.txt', 'otp.html', 'otp.subject', 'link.txt', 'link.html', 'link.subject',
    'code_and_link.txt', 'code_and_link.html', 'code_and_link.subject', 'page.html',
    'page.css', 'page-otp.html', 'page-link.html', 'page-report.html', 'page-message.html'));
