/*
 * Unit tests of the db layer's pure parts, on results built in memory: the
 * check of a statement's column names, and the decoding of mailproofctl's
 * rows.
 */
#include <string.h>

#include "unit.h"
#include "db.h"
#include "db_admin.h"

/* A one-row result of n text columns; a NULL value is SQL NULL. */
static PGresult *one_row(int n, const char *const *names, const char *const *values)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc a[16];

	ck_assert_ptr_nonnull(r);
	memset(a, 0, sizeof a);
	for (int j = 0; j < n; j++) {
		a[j].name = (char *)names[j];
		a[j].typid = 25;	/* text */
		a[j].typlen = -1;
		a[j].atttypmod = -1;
	}
	ck_assert(PQsetResultAttrs(r, n, a));
	for (int j = 0; j < n; j++)
		ck_assert(PQsetvalue(r, 0, j, (char *)values[j],
				     values[j] ? (int)strlen(values[j]) : -1));
	return r;
}

START_TEST(columns_in_order_pass)
{
	const char *names[] = { "id", "was_revoked" }, *values[] = { "7", "t" };
	PGresult *r = one_row(2, names, values);
	char err[256] = "";

	ck_assert_int_eq(db_check_cols(r, "key_revoke", "id was_revoked", err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	PQclear(r);
}
END_TEST

START_TEST(reordered_or_missing_columns_fail_and_say_so)
{
	const char *names[] = { "was_revoked", "id" }, *values[] = { "t", "7" };
	PGresult *r = one_row(2, names, values);
	char err[256];

	ck_assert_int_eq(db_check_cols(r, "key_revoke", "id was_revoked", err, sizeof err), -1);
	ck_assert_str_eq(err, "statement key_revoke returns (was_revoked id) where this mailproof "
			 "reads (id was_revoked)");
	ck_assert_int_eq(db_check_cols(r, "key_revoke", "was_revoked", err, sizeof err), -1);
	ck_assert_int_eq(db_check_cols(r, "key_revoke", "was_revoked id x", err, sizeof err), -1);
	PQclear(r);
}
END_TEST

START_TEST(a_tenant_without_overrides_decodes_them_as_unset)
{
	const char *names[] = { "id", "name", "webhook_url", "webhook_disabled_at",
				"redirect_allow", "monthly_quota", "rate_per_email_per_hour",
				"rate_per_key_per_minute", "active_keys", "created_at", "mail_from" };
	const char *values[] = { "42", "shop", "", "", "", NULL, "0", NULL, "3",
				 "2026-01-01T00:00:00.000Z", "" };
	PGresult *r = one_row(11, names, values);
	struct db_admin_tenant t;

	db_admin_tenant(r, 0, &t);
	ck_assert_int_eq(t.id, 42);
	ck_assert_str_eq(t.name, "shop");
	ck_assert_int_eq(t.monthly_quota, -1);
	ck_assert_int_eq(t.rate_per_email_per_hour, 0);
	ck_assert_int_eq(t.rate_per_key_per_minute, -1);
	ck_assert_int_eq(t.active_keys, 3);
	ck_assert_str_eq(t.created_at, "2026-01-01T00:00:00.000Z");
	PQclear(r);
}
END_TEST

START_TEST(an_event_never_answered_has_no_status)
{
	const char *names[] = { "id", "event_id", "tenant", "type", "state", "attempts", "run_at",
				"last_status", "last_error" };
	const char *values[] = { "9", "msg_1", "shop", "email.verified", "dead", "5", "t0", NULL,
				 "timeout" };
	PGresult *r = one_row(9, names, values);
	struct db_admin_event e;

	db_admin_event(r, 0, &e);
	ck_assert_int_eq(e.id, 9);
	ck_assert_int_eq(e.attempts, 5);
	ck_assert_int_eq(e.last_status, -1);
	ck_assert_str_eq(e.last_error, "timeout");
	PQclear(r);
}
END_TEST

START_TEST(no_row_is_no_such_thing)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	ck_assert_int_eq(db_admin_id(r), -1);
	ck_assert_int_eq(db_admin_was_revoked(r), -1);
	ck_assert_ptr_null(db_admin_state_before(r));
	PQclear(r);
}
END_TEST

UNIT_MAIN("db", columns_in_order_pass, reordered_or_missing_columns_fail_and_say_so,
	  a_tenant_without_overrides_decodes_them_as_unset, an_event_never_answered_has_no_status,
	  no_row_is_no_such_thing)
