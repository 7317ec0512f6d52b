/*
 * The results of the API's statements (the mp_api_*() functions), decoded
 * in one place.  Each starts with what it says of the API key (auth,
 * retry_after); the rest is the route's.  Strings point into the PGresult
 * and live as long as it does.
 */
#ifndef MAILPROOF_DB_API_H
#define MAILPROOF_DB_API_H

#include <libpq-fe.h>

/* What an API statement says of the key (mp_authorize() in sql/lifecycle.sql). */
enum db_key { DB_KEY_OK, DB_KEY_LIMITED, DB_KEY_SCOPE, DB_KEY_REVOKED, DB_KEY_INVALID };

/* -1 when the result has no row. */
struct db_auth {
	enum db_key outcome;
	int retry_after;	/* seconds, when limited */
	char scope[32];		/* DB_KEY_SCOPE: the scope the request needs beyond the
				   route's ("scope:NAME"), else "" */
};
int db_auth(const PGresult *r, struct db_auth *out);

struct metrics_queues;

/* DB_METRICS: the queues, for /metrics. */
void db_api_metrics(const PGresult *r, struct metrics_queues *out);

/* DB_REPORT_COUNTS: row i's tenant and its reports. */
void db_api_report_count(const PGresult *r, int i, const char **tenant, long long *reports);

/* DB_API_GET: the verification as GET shows it (JSON text), or NULL. */
const char *db_api_get(const PGresult *r);

/* DB_API_LIST: one page of the list. */
struct db_api_list {
	const char *items;	/* a JSON array */
	int more;		/* another page follows, */
	const char *last_us;	/* from this cursor: created_at in microseconds */
	const char *last_id;	/* and id of the last item */
};
void db_api_list(const PGresult *r, struct db_api_list *out);

#endif
