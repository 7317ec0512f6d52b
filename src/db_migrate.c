/* See db_migrate.h. */
#include "db_migrate.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

#define MIGRATE_LOCK_ID "7243501"	/* advisory lock key: any fixed number */
#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)
#define FUNCTIONS_FILE "lifecycle.sql"

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(err, errlen, "%s: %.*s", what,
			 (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static int is_migration(const struct dirent *d)
{
	regex_t re;
	int m;

	if (regcomp(&re, "^[0-9]{3}_[A-Za-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	m = regexec(&re, d->d_name, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

/* 1 when version is recorded, 0 when not, -1 on error. */
static int is_applied(PGconn *c, int version, char *err, size_t errlen)
{
	char v[16];
	const char *p[1] = { v };
	PGresult *r;
	int rc;

	snprintf(v, sizeof v, "%d", version);
	r = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, NULL,
			 p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "could not read schema_migrations: %.*s",
			 (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
		rc = -1;
	} else {
		rc = PQntuples(r) > 0;
	}
	PQclear(r);
	return rc;
}

/* Reads file name of dir into sql; -1 with a message in err. */
static int read_sql(const char *dir, const char *name, struct buf *sql, char *err, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return buf_read_file(sql, path, err, errlen);
}

/*
 * Runs sql, then record (a statement with the two parameters p), in one
 * transaction; -1 with a message naming name in err.
 */
static int apply_recorded(PGconn *c, const char *name, const char *sql, const char *record,
			  const char *const p[2], char *err, size_t errlen)
{
	PGresult *r;

	if (exec_ok(c, "BEGIN", err, errlen, name) < 0)
		return -1;
	if (*sql && exec_ok(c, sql, err, errlen, name) < 0)
		goto rollback;
	r = PQexecParams(c, record, 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%s: could not record: %.*s", name,
			 (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
		PQclear(r);
		goto rollback;
	}
	PQclear(r);
	return exec_ok(c, "COMMIT", err, errlen, name);
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

static int apply_one(PGconn *c, const char *dir, const char *name, int version, char *err,
		     size_t errlen)
{
	char v[16];
	const char *p[2] = { v, name };
	struct buf sql;
	int rc = -1;

	buf_init(&sql, MIGRATION_MAX_BYTES);
	snprintf(v, sizeof v, "%d", version);
	if (read_sql(dir, name, &sql, err, errlen) == 0)
		rc = apply_recorded(c, name, sql.data ? sql.data : "",
				    "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
				    p, err, errlen);
	buf_free(&sql);
	return rc;
}

/*
 * Applies dir/lifecycle.sql, in one transaction, unless the database
 * already has that very text.  1 when it was applied, 0 when unchanged,
 * -1 on error.
 */
static int apply_functions(PGconn *c, const char *dir, char *err, size_t errlen)
{
	const char *p[2] = { FUNCTIONS_FILE, NULL };
	struct buf sql;
	PGresult *r;
	int rc = -1;

	buf_init(&sql, MIGRATION_MAX_BYTES);
	if (read_sql(dir, FUNCTIONS_FILE, &sql, err, errlen) < 0)
		goto out;
	p[1] = sql.data ? sql.data : "";
	r = PQexecParams(c, "SELECT 1 FROM schema_functions WHERE file = $1 AND digest = md5($2)",
			 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "could not read schema_functions: %.*s",
			 (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
		PQclear(r);
		goto out;
	}
	rc = PQntuples(r) > 0 ? 0 : 1;
	PQclear(r);
	if (rc == 1 && apply_recorded(c, FUNCTIONS_FILE, p[1],
				      "INSERT INTO schema_functions (file, digest) VALUES ($1, md5($2))"
				      " ON CONFLICT (file) DO UPDATE SET digest = EXCLUDED.digest,"
				      " applied_at = now()", p, err, errlen) < 0)
		rc = -1;
out:
	buf_free(&sql);
	return rc;
}

int db_migrate(PGconn *c, const char *dir, json_t *applied, int *version, char *err,
	       size_t errlen)
{
	struct dirent **list = NULL;
	int n, rc = -1, locked = 0;

	*version = 0;
	if ((n = scandir(dir, &list, is_migration, alphasort)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")", err, errlen,
		    "could not lock for migration") < 0)
		goto out;
	locked = 1;
	if (exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
		    " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
		    err, errlen, "could not create schema_migrations") < 0 ||
	    exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_functions (file text PRIMARY KEY,"
		    " digest text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
		    err, errlen, "could not create schema_functions") < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		char digits[4];
		const char *errstr;
		int version_i, seen;

		snprintf(digits, sizeof digits, "%.3s", list[i]->d_name);
		version_i = (int)util_parse_int(digits, 0, 999, &errstr);
		if ((seen = is_applied(c, version_i, err, errlen)) < 0)
			goto out;
		if (!seen) {
			if (apply_one(c, dir, list[i]->d_name, version_i, err, errlen) < 0)
				goto out;
			json_array_append_new(applied, json_string(list[i]->d_name));
		}
		*version = version_i;
	}
	switch (apply_functions(c, dir, err, errlen)) {
	case -1:
		goto out;
	case 1:
		json_array_append_new(applied, json_string(FUNCTIONS_FILE));
		break;
	}
	rc = 0;
out:
	if (locked)
		PQclear(PQexec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")"));
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}
