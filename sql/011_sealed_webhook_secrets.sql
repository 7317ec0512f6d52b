-- Version 11: webhook secrets are stored sealed under a key derived from
-- secret_key, not in clear.  SQL cannot seal them: `mailproofctl migrate`
-- does, right after applying this file (and again after each rotation of
-- secret_key).  The new version number makes the programs of this release
-- wait for that migrate.
COMMENT ON COLUMN tenants.webhook_secret IS
    'whsec_ secret sealed under secret_key (mailproofctl migrate seals one left in clear)';
COMMENT ON COLUMN tenants.webhook_secret_previous IS
    'the rotated-out secret, sealed likewise, while it still signs';
