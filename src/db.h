/*
 * One PostgreSQL connection per process, opened after fork: lazy connect,
 * reconnect after loss (with a short back-off so a dead database answers
 * fast instead of hanging every request), statements prepared once per
 * connection, or sent unnamed for PgBouncer in transaction mode
 * (database_prepared = false).  Every statement's SQL is in db_sql.c.
 */
#ifndef MAILPROOF_DB_H
#define MAILPROOF_DB_H

#include <signal.h>

#include <libpq-fe.h>

#include "db_sql.h"

struct config;
struct db;

enum db_err { DB_OK = 0, DB_UNAVAILABLE, DB_FAILED };

struct db *db_new(const struct config *cfg, const char *appname);
void db_free(struct db *db);

/*
 * Runs statement s with text parameters (NULL = SQL NULL).  Returns a result
 * in PGRES_TUPLES_OK or PGRES_COMMAND_OK state that the caller PQclear()s, or
 * NULL with *err set: DB_UNAVAILABLE when the database cannot be reached
 * (answer 503), DB_FAILED for an error of the statement (logged here, with
 * its SQLSTATE in *sqlstate when sqlstate is not NULL).
 */
PGresult *db_run(struct db *db, enum db_stmt s, const char *const *params,
		 enum db_err *err, char sqlstate[6]);

/* The request whose statements run now, named in their log lines; NULL for none. */
void db_set_request(struct db *db, const char *request_id);

/*
 * Channels to LISTEN on (a NULL-terminated list of constant names); issued
 * now and again after every reconnect.  Call before the first db_run.
 */
void db_listen(struct db *db, const char *const *channels);

/*
 * Waits up to timeout_ms for a notification on the listened channels, with
 * the signal mask sigmask (NULL: the current one) while it waits, as
 * ppoll() does: a caller that blocks its signals, checks its flags and
 * then waits cannot miss a signal that comes in between.  Returns 1 when a
 * notification came, 0 on timeout or a signal, -1 when the database cannot
 * be reached (the caller backs off).  A connection made by the call
 * itself returns 1 at once: what was notified before its LISTEN is lost,
 * so the caller looks for work again.
 */
int db_wait(struct db *db, int timeout_ms, const sigset_t *sigmask);

/*
 * Column c of row i as an integer: dflt when it is NULL or not an integer
 * in lo..hi.  The decoders of the db layer read every number with it.
 */
long long db_get_int(const PGresult *r, int i, int c, long long lo, long long hi, long long dflt);

/*
 * 0 when the columns of r (a result, or the description of prepared
 * statement name) are named cols, in order, space separated: the columns
 * a decoder reads by position.  Otherwise -1, and err says what r has.
 */
int db_check_cols(const PGresult *r, const char *name, const char *cols, char *err,
		  size_t errlen);

/* Column c of row i, or NULL when it is NULL (PQgetvalue() gives ""). */
const char *db_get_text(const PGresult *r, int i, int c);

/* The one value of a one-row, one-column result (a count, a delay), or dflt. */
long long db_int(const PGresult *r, long long lo, long long hi, long long dflt);

/* Connects outside the worker pool (mailproofctl); NULL with err filled. */
PGconn *db_connect_once(const struct config *cfg, const char *appname, char *err, size_t errlen);

/*
 * At start-up: checks that the database has the schema this binary was
 * built with, its last numbered migration and the very text of
 * lifecycle.sql.  A binary and a schema that differ would fail request
 * after request; this logs why, once, with what to do, and returns -1.
 * Returns 0 when they match, and 1 when the database cannot be reached
 * now, with the reason in err, unlogged: a service may start anyway (the
 * database may come up later), a one-shot run may not.  Every (re)connect
 * of db_run checks the schema too, and refuses one that differs.
 */
int db_schema_check(const struct config *cfg, const char *appname, char *err, size_t errlen);

#endif
