-- Version 5: the language of each verification, and each tenant's brand.
-- A verification keeps the locale its mail was written in (the shipped
-- catalogue its "locale" resolved to: see docs/localization.md), so that
-- its pages, its GET and its webhooks say the same.  Rows from before
-- were all English.
ALTER TABLE verifications ADD COLUMN locale text NOT NULL DEFAULT 'en';
ALTER TYPE mp_api_verification ADD ATTRIBUTE locale text;

-- What the mail and the pages show of the site that asks; each is
-- checked by `mailproofctl tenant create/update` (and here, as the last
-- guard).  NULL display_name shows the tenant's name.
ALTER TABLE tenants
    ADD COLUMN display_name text CHECK (length(display_name) BETWEEN 1 AND 100),
    ADD COLUMN support_url text CHECK (length(support_url) BETWEEN 1 AND 300),
    ADD COLUMN accent_color text CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    ADD COLUMN default_locale text CHECK (length(default_locale) BETWEEN 2 AND 35),
    ADD COLUMN logo bytea CHECK (octet_length(logo) BETWEEN 1 AND 32768),
    ADD COLUMN logo_type text CHECK (logo_type IN ('image/png', 'image/svg+xml')),
    ADD CHECK ((logo IS NULL) = (logo_type IS NULL));

-- Their signatures change in lifecycle.sql (the locale, the tenant's
-- default locale).
DROP FUNCTION IF EXISTS mp_authorize(bytea, bytea, text, integer, boolean);
DROP FUNCTION IF EXISTS mp_start(bigint, bigint, text, text, text, text, text, integer, bytea, integer,
    integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer, integer, integer);
DROP FUNCTION IF EXISTS mp_api_start(bytea, bytea, integer, text, text, text, text, text, integer, bytea,
    integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, text);
DROP FUNCTION IF EXISTS mp_api_mail_info(bytea, bytea, integer, text);
