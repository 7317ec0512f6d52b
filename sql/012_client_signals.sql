-- Version 12: the person in front of the application, as the application
-- saw them: the address and user agent a start may carry (clientIp,
-- userAgent).  Shown in GET and webhooks, and deleted with the row.
-- (No CHECK on verifications: see 004; the API bounds userAgent.)
ALTER TABLE verifications
    ADD COLUMN client_ip inet,
    ADD COLUMN user_agent text;
ALTER TYPE mp_api_verification ADD ATTRIBUTE "clientIp" text, ADD ATTRIBUTE "userAgent" text;

-- Their signatures change in lifecycle.sql (the two new fields).
DROP FUNCTION IF EXISTS mp_start(bigint, bigint, text, text, text, text, text, integer, bytea,
    integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, integer, text);
DROP FUNCTION IF EXISTS mp_api_start(bytea, bytea, integer, text, text, text, text, text, integer,
    bytea, integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, text, text);
