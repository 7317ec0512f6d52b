/*
 * Connection handling for the FastCGI workers; see db.h.  A broken
 * connection is noticed before a statement is sent (an idle socket that is
 * readable means the server closed it) so that the first request after a
 * database restart is served, not failed.
 */
#include "db.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "schema_id.h"
#include "util.h"

/* After a failed connect, answer 503 at once for this long. */
#define DB_RETRY_MS 500
#define DB_SLOW_CONNECT_MS 100	/* a connect failing sooner was refused, not timed out */

/* Copies the first line of a libpq message, which may be empty. */
static const char *first_line(const char *msg, char *out, size_t n)
{
	size_t len = msg ? strcspn(msg, "\n") : 0;

	snprintf(out, n, "%.*s", (int)len, msg ? msg : "");
	return out;
}

struct db {
	const struct config *cfg;
	const char *appname;
	PGconn *conn;
	int64_t retry_at;
	int failed;			/* connects failed since the last success: one logged */
	unsigned connects;		/* connections made, so db_wait sees a new one */
	const char *const *listen;	/* channels, or NULL */
	struct buf transitions;		/* "id old new tenant" lines of the statement in flight */
	char request_id[80];		/* of the request served, for those lines; "" */
};

/* What the trigger mp_verification_written() says of each transition. */
#define DB_TRANSITION "mailproof transition "

/* The log line of one transition, "id old new tenant", of request (NULL: none). */
static void db_log_transition(const char *t, const char *request)
{
	char id[64], from[16], to[16], tenant[24], kv[200];

	if (sscanf(t, "%63s %15s %15s %23s", id, from, to, tenant) != 4)
		return;
	snprintf(kv, sizeof kv, "%s%s%sverification=%s tenant=%s", request && *request ?
		 "request_id=" : "", request && *request ? request : "", request && *request ? " " :
		 "", id, tenant);
	log_kv(LOG_LVL_INFO, kv, "verification %s: %s -> %s", id, from, to);
}

void db_set_request(struct db *db, const char *request_id)
{
	snprintf(db->request_id, sizeof db->request_id, "%s", request_id ? request_id : "");
}

/*
 * Server notices go to our log, one line each, not raw to stderr.  The
 * transitions the lifecycle trigger reports are held until their
 * statement has succeeded (db_run), so a rolled-back one is never logged;
 * a connection outside the pool (mailproofctl) logs them at once.
 */
static void db_notice(void *arg, const PGresult *res)
{
	struct db *db = arg;
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	size_t n = strlen(DB_TRANSITION);

	if (msg == NULL)
		return;
	if (strncmp(msg, DB_TRANSITION, n) != 0)
		log_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
	else if (db == NULL)
		db_log_transition(msg + n, NULL);
	else if (buf_printf(&db->transitions, "%s\n", msg + n) < 0)
		log_warnx("too many transitions in one statement to log: %s", msg + n);
}

/* Logs the transitions of the statement that just succeeded. */
static void db_flush_transitions(struct db *db)
{
	for (char *line = db->transitions.data, *end; line && *line; line = end + 1) {
		end = strchr(line, '\n');
		*end = '\0';
		db_log_transition(line, db->request_id);
	}
	buf_reset(&db->transitions);
}

PGconn *db_connect_once(const struct config *cfg, const char *appname, char *err, size_t errlen)
{
	/* Defaults first: settings in database_url override them. */
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "2", appname, cfg->database_url, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	char sql[96], line[400];
	PGresult *r;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "could not connect to database: %s",
			 c ? first_line(PQerrorMessage(c), line, sizeof line) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, db_notice, NULL);
	/*
	 * Pin search_path so no other schema can shadow our tables, and hear
	 * notices, which carry the log lines of transitions, whatever the
	 * server's default.
	 */
	r = PQexec(c, "SELECT pg_catalog.set_config('search_path', 'public', false),"
		   " pg_catalog.set_config('client_min_messages', 'notice', false)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto fail;
	PQclear(r);
	if (cfg->database_statement_timeout_ms > 0) {
		snprintf(sql, sizeof sql, "SET statement_timeout = %d",
			 cfg->database_statement_timeout_ms);
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			goto fail;
		PQclear(r);
	}
	return c;
fail:
	snprintf(err, errlen, "could not set up database session: %s",
		 first_line(PQresultErrorMessage(r), line, sizeof line));
	PQclear(r);
	PQfinish(c);
	return NULL;
}

long long db_get_int(const PGresult *r, int i, int c, long long lo, long long hi, long long dflt)
{
	const char *errstr;
	long long v;

	if (PQgetisnull(r, i, c))
		return dflt;
	v = util_parse_int(PQgetvalue(r, i, c), lo, hi, &errstr);
	return errstr ? dflt : v;
}

const char *db_get_text(const PGresult *r, int i, int c)
{
	return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

long long db_int(const PGresult *r, long long lo, long long hi, long long dflt)
{
	if (PQntuples(r) != 1 || PQnfields(r) != 1)
		return dflt;
	return db_get_int(r, 0, 0, lo, hi, dflt);
}

/* 0 when c's schema is this binary's, 1 (err says how it differs) when not. */
static int db_schema_matches(PGconn *c, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, "SELECT (SELECT max(version) FROM schema_migrations),"
			     " (SELECT digest FROM schema_functions WHERE file = 'lifecycle.sql')");
	char line[400], want[16];
	int rc = 1;

	snprintf(want, sizeof want, "%d", DB_SCHEMA_VERSION);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "the database has no mailproof schema (%s): "
			 "run mailproofctl migrate", first_line(PQresultErrorMessage(r), line, sizeof line));
	} else if (strcmp(PQgetvalue(r, 0, 0), want) != 0 ||
		   strcmp(PQgetvalue(r, 0, 1), DB_LIFECYCLE_MD5) != 0) {
		snprintf(err, errlen, "the database schema (version %s, lifecycle.sql %.8s) is not "
			 "the one this mailproof was built for (version %d, lifecycle.sql %.8s): "
			 "run mailproofctl migrate with this version's sql directory",
			 PQgetisnull(r, 0, 0) ? "none" : PQgetvalue(r, 0, 0),
			 PQgetisnull(r, 0, 1) ? "none" : PQgetvalue(r, 0, 1),
			 DB_SCHEMA_VERSION, DB_LIFECYCLE_MD5);
	} else {
		rc = 0;
	}
	PQclear(r);
	return rc;
}

int db_schema_check(const struct config *cfg, const char *appname, char *err, size_t errlen)
{
	PGconn *c = db_connect_once(cfg, appname, err, errlen);
	int rc = 0;

	if (c == NULL)
		return 1;
	if (db_schema_matches(c, err, errlen) != 0) {
		log_errx("%s", err);
		rc = -1;
	}
	PQfinish(c);
	return rc;
}

struct db *db_new(const struct config *cfg, const char *appname)
{
	struct db *db = calloc(1, sizeof *db);

	if (db) {
		db->cfg = cfg;
		db->appname = appname;
		buf_init(&db->transitions, 256 * 1024);
	}
	return db;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	buf_free(&db->transitions);
	free(db);
}

static void db_drop(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

/* True when the idle connection has been closed by the server. */
static int db_is_dead(struct db *db)
{
	struct pollfd p = { PQsocket(db->conn), POLLIN, 0 };

	if (PQstatus(db->conn) != CONNECTION_OK || p.fd < 0)
		return 1;
	/*
	 * A server that shut down sent an error and then closed: one read
	 * takes the message, the next finds the end of the stream.  Keep
	 * reading while the socket stays readable (notifications are left for
	 * db_wait).
	 */
	for (int i = 0; i < 4 && poll(&p, 1, 0) > 0; i++)
		if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK)
			return 1;
	return 0;
}

int db_check_cols(const PGresult *r, const char *name, const char *cols, char *err,
		  size_t errlen)
{
	struct buf got;
	int rc = -1;

	buf_init(&got, 1024);
	for (int i = 0; i < PQnfields(r); i++)
		buf_printf(&got, "%s%s", i ? " " : "", PQfname(r, i));
	if (strcmp(got.data ? got.data : "", cols) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "statement %s returns (%s) where this mailproof reads (%s)",
			 name, got.data ? got.data : "", cols);
	buf_free(&got);
	return rc;
}

/* 0 when statement st, just prepared, returns the columns its decoder reads. */
static int db_check_shape(struct db *db, const struct db_statement *st)
{
	char err[2048];
	PGresult *r;
	int rc;

	if (st->cols == NULL)
		return 0;
	r = PQdescribePrepared(db->conn, st->name);
	rc = db_check_cols(r, st->name, st->cols, err, sizeof err);
	PQclear(r);
	if (rc < 0)
		log_errx("%s", err);
	return rc;
}

static int db_prepare_all(struct db *db)
{
	for (int i = 0; i < DB__COUNT; i++) {
		PGresult *r = PQprepare(db->conn, db_statements[i].name, db_statements[i].sql,
					db_statements[i].nparams, NULL);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		char line[400];
		if (!ok)
			log_errx("could not prepare statement %s: %s", db_statements[i].name,
				 first_line(PQresultErrorMessage(r), line, sizeof line));
		PQclear(r);
		if (!ok || db_check_shape(db, &db_statements[i]) < 0)
			return -1;
	}
	return 0;
}

static int db_ensure(struct db *db)
{
	char err[512];
	int64_t started;

	if (db->conn && !db_is_dead(db))
		return 0;
	if (db->conn) {
		log_warnx("database connection lost, reconnecting");
		db_drop(db);
	}
	if (util_mono_ms() < db->retry_at)
		return -1;
	started = util_mono_ms();
	if ((db->conn = db_connect_once(db->cfg, db->appname, err, sizeof err)) == NULL) {
		if (db->failed++ == 0)
			log_errx("%s", err);
		/*
		 * A refused connection (a server that is restarting) fails at
		 * once and costs nothing to try again at the next request, which
		 * then finds the server back without delay; only a connect that
		 * waited for its timeout is worth not repeating for a while.
		 */
		if (util_mono_ms() - started < DB_SLOW_CONNECT_MS)
			return -1;
		goto fail;
	}
	if (db_schema_matches(db->conn, err, sizeof err) != 0) {
		log_errx("%s", err);
		goto fail;
	}
	PQsetNoticeReceiver(db->conn, db_notice, db);
	if (db->cfg->database_prepared && db_prepare_all(db) < 0)
		goto fail;
	for (int i = 0; db->listen && db->listen[i]; i++) {
		char sql[128];
		PGresult *r;
		int ok;
		/* channel names are constants of ours, never input */
		snprintf(sql, sizeof sql, "LISTEN %s", db->listen[i]);
		r = PQexec(db->conn, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok) {
			log_errx("could not LISTEN %s", db->listen[i]);
			goto fail;
		}
	}
	db->connects++;
	if (db->failed)
		log_info("database connection established again after %d failed tries",
			 db->failed);
	db->failed = 0;
	db->retry_at = 0;
	return 0;
fail:
	db_drop(db);
	db->retry_at = util_mono_ms() + DB_RETRY_MS;
	return -1;
}

static PGresult *db_send(struct db *db, enum db_stmt s, const char *const *params)
{
	const struct db_statement *st = &db_statements[s];

	if (db->cfg->database_prepared)
		return PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0);
	return PQexecParams(db->conn, st->sql, st->nparams, NULL, params, NULL, NULL, 0);
}

PGresult *db_run(struct db *db, enum db_stmt s, const char *const *params,
		 enum db_err *err, char sqlstate[6])
{
	PGresult *r = NULL;
	ExecStatusType st;
	const char *state;
	char line[400];

	if (sqlstate)
		sqlstate[0] = '\0';
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_ensure(db) < 0) {
			*err = DB_UNAVAILABLE;
			return NULL;
		}
		r = db_send(db, s, params);
		st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			*err = DB_OK;
			db_flush_transitions(db);
			return r;
		}
		buf_reset(&db->transitions);
		if (PQstatus(db->conn) == CONNECTION_OK)
			break;
		/*
		 * The connection died under the statement.  A read can be sent
		 * again; a write may have committed, so it is reported instead.
		 */
		PQclear(r);
		r = NULL;
		db_drop(db);
		if (!db_statements[s].read_only) {
			*err = DB_UNAVAILABLE;
			return NULL;
		}
	}
	if (r == NULL) {
		*err = DB_UNAVAILABLE;
		return NULL;
	}
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (sqlstate && state)
		snprintf(sqlstate, 6, "%s", state);
	/*
	 * 57P01..57P03: the server is shutting down or starting up.  08xxx:
	 * a pooler lost its server.  25006: a write reached a standby (a
	 * pooler not yet pointed at the promoted node, or a node just
	 * demoted).  Each passes with a failover, and a new connection is
	 * what finds the new primary (target_session_attrs=read-write).
	 */
	if (state && (strncmp(state, "57P0", 4) == 0 || strncmp(state, "08", 2) == 0 ||
		      strcmp(state, "25006") == 0)) {
		*err = DB_UNAVAILABLE;
		log_warnx("statement %s: database unavailable: %s", db_statements[s].name,
			  first_line(PQresultErrorMessage(r), line, sizeof line));
		db_drop(db);
	} else {
		*err = DB_FAILED;
		log_errx("statement %s failed: %s", db_statements[s].name,
			 first_line(PQresultErrorMessage(r), line, sizeof line));
	}
	PQclear(r);
	return NULL;
}

void db_listen(struct db *db, const char *const *channels)
{
	db->listen = channels;
}

int db_wait(struct db *db, int timeout_ms, const sigset_t *sigmask)
{
	struct timespec ts;
	struct pollfd p;
	PGnotify *n;
	int got = 0;
	unsigned connects = db->connects;

	if (db_ensure(db) < 0)
		return -1;
	/* a new connection has missed what was sent before its LISTEN: look again */
	if (db->connects != connects)
		return 1;
	/* notifications already read (by db_is_dead) count at once */
	while ((n = PQnotifies(db->conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	if (got)
		return 1;
	p.fd = PQsocket(db->conn);
	p.events = POLLIN;
	p.revents = 0;
	ts.tv_sec = timeout_ms < 0 ? 0 : timeout_ms / 1000;
	ts.tv_nsec = timeout_ms < 0 ? 0 : (long)(timeout_ms % 1000) * 1000000;
	if (ppoll(&p, 1, &ts, sigmask) <= 0)
		return 0;	/* timeout, or a signal to look at */
	if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
		log_warnx("database connection lost, reconnecting");
		db_drop(db);
		return -1;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}
