-- Version 16: "Didn't ask for this? Tell us."  Every mail carries a link
-- whose token (derived from the verification and secret_key, so that
-- every mail of one verification has the same) is kept only as its keyed
-- hash.  Its POST cancels a PENDING verification, puts the address on the
-- tenant's suppression list and emits email.reported; reports are counted
-- per tenant, so an operator sees whose form is abused.
ALTER TABLE verifications
    ADD COLUMN report_hash bytea,
    ADD COLUMN reported_at timestamptz;
CREATE UNIQUE INDEX verifications_report ON verifications (report_hash)
    WHERE report_hash IS NOT NULL;
ALTER TABLE tenants ADD COLUMN reports bigint NOT NULL DEFAULT 0;
ALTER TYPE mp_api_verification ADD ATTRIBUTE "reportedAt" text;

-- (mp_sync_unrecorded also tells how many mails were recorded before: a
-- same_code resend's mail has the code of the first.)
DROP FUNCTION IF EXISTS mp_sync_unrecorded(integer, integer);
DROP FUNCTION IF EXISTS mp_start(bigint, bigint, text, text, text, text, text, integer, bytea,
    integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, integer, text, inet, text, integer, integer, integer, boolean, bytea, text);
DROP FUNCTION IF EXISTS mp_api_start(bytea, bytea, integer, text, text, text, text, text, integer,
    bytea, integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, text, text, inet, text, integer, integer, integer, boolean, bytea, text);
