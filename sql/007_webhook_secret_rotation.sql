-- Version 7: a tenant's webhook secret can be rotated with an overlap
-- (`mailproofctl tenant rotate-secret`): until webhook_secret_previous_until
-- every event is signed with both secrets, as Standard Webhooks allows
-- (several signatures in webhook-signature), so receivers can switch at
-- their pace.
ALTER TABLE tenants
    ADD COLUMN webhook_secret_previous text,
    ADD COLUMN webhook_secret_previous_until timestamptz;
