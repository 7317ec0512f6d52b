-- Version 18: bounces.  What comes back to a verification's own envelope
-- sender (VERP, bounce_address) after the relay said yes is recorded on
-- the verification by `mailproofctl bounce`: a permanent failure makes
-- delivery BOUNCED (and a PENDING verification FAILED, its address
-- suppressed for the tenant, an email.bounced event sent); a delay notice
-- makes it DELAYED.  bounce_source says how the bounce was read: DSN (an
-- RFC 3464 report) or TEXT (a plain-text bounce, by best effort).
ALTER TABLE verifications
    ADD COLUMN bounce_code text,
    ADD COLUMN bounce_reason text,
    ADD COLUMN bounce_source text,
    ADD COLUMN bounced_at timestamptz;
ALTER TYPE mp_api_delivery
    ADD ATTRIBUTE "bounceCode" text,
    ADD ATTRIBUTE "bounceReason" text,
    ADD ATTRIBUTE "bounceSource" text,
    ADD ATTRIBUTE "bouncedAt" text;
