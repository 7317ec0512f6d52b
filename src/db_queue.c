/* See db_queue.h.  The positions are those of the statements' cols in db_sql.c. */
#include "db_queue.h"

#include <stdint.h>
#include <string.h>

#include "db.h"
#include "db_mail.h"

const char *db_claimed_id(const PGresult *r, int i)
{
	return PQgetvalue(r, i, 0);
}

void db_purged(const PGresult *r, struct db_purged *out)
{
	out->events = PQntuples(r) == 1 ? db_get_int(r, 0, 0, 0, INT64_MAX, 0) : 0;
	out->verifications = PQntuples(r) == 1 ? db_get_int(r, 0, 1, 0, INT64_MAX, 0) : 0;
}

void db_unrecorded_row(const PGresult *r, int i, struct db_unrecorded_row *out)
{
	out->verification_id = PQgetvalue(r, i, 0);
	out->tenant_id = PQgetvalue(r, i, 1);
	out->secret_prefix = PQgetvalue(r, i, 2);
	out->age = (int)db_get_int(r, i, 3, 0, INT32_MAX, 0);
	out->mails = (int)db_get_int(r, i, 4, 0, INT32_MAX, 0);
}

int db_retry_dead(const PGresult *r)
{
	return PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "dead") == 0;
}

void db_event_row(const PGresult *r, int i, struct db_event_row *out)
{
	out->id = PQgetvalue(r, i, 0);
	out->event_id = PQgetvalue(r, i, 1);
	out->type = PQgetvalue(r, i, 2);
	out->payload = PQgetvalue(r, i, 3);
	out->created_at = PQgetvalue(r, i, 4);
	out->attempt = (int)db_get_int(r, i, 5, 1, INT32_MAX, 1);
	out->url = PQgetvalue(r, i, 6);
	out->secret = PQgetvalue(r, i, 7);
	out->disabled = PQgetvalue(r, i, 8)[0] == 't';
	out->tenant_id = PQgetvalue(r, i, 9);
	out->secret_previous = PQgetvalue(r, i, 10);
}

void db_mail_row(const PGresult *r, int i, struct db_mail_row *out)
{
	out->id = PQgetvalue(r, i, 0);
	out->verification_id = PQgetvalue(r, i, 1);
	out->email = PQgetvalue(r, i, 2);
	out->attempt = (int)db_get_int(r, i, 3, 1, INT32_MAX, 1);
	out->status = PQgetvalue(r, i, 4);
	out->mail_from = PQgetvalue(r, i, 5);
	out->sealed_secret = db_get_text(r, i, 6);
	out->sealed_message = PQgetvalue(r, i, 7);
	out->link = strcmp(PQgetvalue(r, i, 8), "MAGIC_LINK") == 0;
	out->subject = db_get_text(r, i, 9);
	out->verification_line = db_get_text(r, i, 10);
	out->ttl_seconds = (int)db_get_int(r, i, 11, 60, 2592000, 60);
	out->secret_hash = PQgetvalue(r, i, 12);
	out->locale = PQgetvalue(r, i, 13);
	db_mail_brand(r, i, 14, &out->brand);
}
