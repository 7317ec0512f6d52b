/* See db_api.h.  The positions are those of the statements' cols in db_sql.c. */
#include "db_api.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "metrics.h"

/* Any word but these reads as an invalid key: the refusal that grants nothing. */
static enum db_key key_of(const char *word)
{
	return strcmp(word, "ok") == 0 ? DB_KEY_OK :
	       strcmp(word, "limited") == 0 ? DB_KEY_LIMITED :
	       strncmp(word, "scope", 5) == 0 && (word[5] == '\0' || word[5] == ':') ? DB_KEY_SCOPE :
	       strcmp(word, "revoked") == 0 ? DB_KEY_REVOKED : DB_KEY_INVALID;
}

int db_auth(const PGresult *r, struct db_auth *out)
{
	int c = PQfnumber(r, "auth"), rc = PQfnumber(r, "retry_after");

	if (PQntuples(r) < 1 || c < 0 || rc < 0)
		return -1;
	out->outcome = key_of(PQgetvalue(r, 0, c));
	out->scope[0] = '\0';
	if (out->outcome == DB_KEY_SCOPE && PQgetvalue(r, 0, c)[5] == ':')
		snprintf(out->scope, sizeof out->scope, "%s", PQgetvalue(r, 0, c) + 6);
	out->retry_after = (int)db_get_int(r, 0, rc, 1, 60, 60);
	return 0;
}

const char *db_api_get(const PGresult *r)
{
	return db_get_text(r, 0, 2);
}

void db_api_list(const PGresult *r, struct db_api_list *out)
{
	out->items = PQgetvalue(r, 0, 2);
	out->more = PQgetvalue(r, 0, 3)[0] == 't';
	out->last_us = PQgetvalue(r, 0, 4);
	out->last_id = PQgetvalue(r, 0, 5);
}

void db_api_report_count(const PGresult *r, int i, const char **tenant, long long *reports)
{
	*tenant = PQgetvalue(r, i, 0);
	*reports = db_get_int(r, i, 1, 0, LLONG_MAX, 0);
}

void db_api_metrics(const PGresult *r, struct metrics_queues *out)
{
	out->events_waiting = db_get_int(r, 0, 0, 0, LLONG_MAX, 0);
	out->events_dead = db_get_int(r, 0, 1, 0, LLONG_MAX, 0);
	out->mail_waiting = db_get_int(r, 0, 2, 0, LLONG_MAX, 0);
	out->events_oldest_s = db_get_int(r, 0, 3, 0, LLONG_MAX, 0);
	out->mail_oldest_s = db_get_int(r, 0, 4, 0, LLONG_MAX, 0);
	out->notifier_seen_s = db_get_int(r, 0, 5, 0, LLONG_MAX, -1);
}
