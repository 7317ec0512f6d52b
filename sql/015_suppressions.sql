-- Version 15: a tenant's suppression list.  An address on it gets no
-- verification mail from that tenant: a start answers 422
-- EMAIL_SUPPRESSED and sends nothing.  Entries are made by hand
-- (mailproofctl suppression add), and later by the person's own report
-- and by hard bounces; one may carry an expiry.
CREATE TABLE suppressions (
    tenant_id  bigint NOT NULL REFERENCES tenants(id),
    email_norm text NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('manual', 'reported', 'bounced')),
    note       text CHECK (length(note) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    PRIMARY KEY (tenant_id, email_norm)
);
