-- Version 9: mp_api_resend() also returns the verification's tenant, which
-- the log line of a resend names (lifecycle.sql makes it again).
DROP FUNCTION IF EXISTS mp_api_resend(bytea, bytea, integer, text, bytea, integer, integer, bytea);
