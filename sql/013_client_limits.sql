-- Version 13: limits per person, for starts that say who is asking
-- (clientIp): starts per address per hour, per network (/24, /56) per
-- hour, and distinct addresses per address per day; each a config key a
-- tenant may override, and require_client_ip.  A 429 now says which limit
-- and its number (limit_max), so the functions that refuse change their
-- signatures (lifecycle.sql makes them again).
ALTER TABLE tenants
    ADD COLUMN rate_per_client_ip_per_hour integer CHECK (rate_per_client_ip_per_hour >= 0),
    ADD COLUMN rate_per_client_network_per_hour integer
        CHECK (rate_per_client_network_per_hour >= 0),
    ADD COLUMN addresses_per_client_ip_per_day integer
        CHECK (addresses_per_client_ip_per_day >= 0),
    ADD COLUMN require_client_ip boolean;

-- The counts of the per-client limits: not durable, like key_windows (a
-- crash of PostgreSQL forgets the current hour and day; starts must not
-- wait for a disk flush of a counter).  One row per client and window
-- kind, started again when the window changes.
CREATE UNLOGGED TABLE client_windows (
    tenant_id    bigint NOT NULL,
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL,
    PRIMARY KEY (tenant_id, bucket)
);
CREATE UNLOGGED TABLE client_addresses (
    tenant_id  bigint NOT NULL,
    client_ip  inet NOT NULL,
    day        date NOT NULL,
    email_norm text NOT NULL,
    PRIMARY KEY (tenant_id, client_ip, day, email_norm)
);

DROP FUNCTION IF EXISTS mp_authorize(bytea, bytea, text, integer, boolean);
DROP FUNCTION IF EXISTS mp_address_allows(bigint, text, integer, integer);
DROP FUNCTION IF EXISTS mp_start(bigint, bigint, text, text, text, text, text, integer, bytea,
    integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, integer, text, inet, text);
DROP FUNCTION IF EXISTS mp_api_start(bytea, bytea, integer, text, text, text, text, text, integer,
    bytea, integer, integer, text, text, text, jsonb, bytea, text, boolean, text, bytea, integer,
    integer, text, text, inet, text);
DROP FUNCTION IF EXISTS mp_resend(bigint, text, bytea, integer, integer, bytea);
DROP FUNCTION IF EXISTS mp_api_resend(bytea, bytea, integer, text, bytea, integer, integer, bytea);
