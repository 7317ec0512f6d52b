/*
 * Schema migrations: applies the numbered files NNN_name.sql of a directory
 * that the database has not seen yet, each in its own transaction, then
 * lifecycle.sql (the functions, all CREATE OR REPLACE) when its text
 * differs from the one applied last, all under an advisory lock so that
 * two concurrent runs cannot both apply one file.
 */
#ifndef MAILPROOF_DB_MIGRATE_H
#define MAILPROOF_DB_MIGRATE_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

/*
 * Applies what is missing.  On success returns 0 and appends the applied
 * file names to the array applied, and sets *version to the highest version
 * now applied.  On failure returns -1 with a one-line message in err.
 */
int db_migrate(PGconn *c, const char *dir, json_t *applied, int *version, char *err,
	       size_t errlen);

#endif
