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
	out->sealed_code = db_get_text(r, i, 11);
	out->verification_id = db_get_text(r, i, 12);
}

/* The MAIL_OF_COLS of row i of r, from column col on. */
static void db_mail_of(const PGresult *r, int i, int col, struct db_mail_of *out)
{
	out->email = PQgetvalue(r, i, col);
	out->status = PQgetvalue(r, i, col + 1);
	out->mail_from = PQgetvalue(r, i, col + 2);
	out->method = PQgetvalue(r, i, col + 3);
	out->subject = db_get_text(r, i, col + 4);
	out->verification_line = db_get_text(r, i, col + 5);
	out->ttl_seconds = (int)db_get_int(r, i, col + 6, 60, 2592000, 60);
	out->secret_hash = PQgetvalue(r, i, col + 7);
	out->locale = PQgetvalue(r, i, col + 8);
	db_mail_brand(r, i, col + 9, &out->brand);
}

void db_mail_of_verification(const struct db_mail_of *m, const char *id,
			     struct mail_verification *vm)
{
	vm->id = id;
	vm->email = m->email;
	vm->code = NULL;
	vm->link = NULL;
	vm->subject = m->subject;
	vm->verification_line = m->verification_line;
	vm->ttl_seconds = m->ttl_seconds;
	vm->locale = m->locale;
	vm->brand = &m->brand;
}

int db_deliver_info(const PGresult *r, struct db_mail_of *out)
{
	if (PQntuples(r) != 1)
		return -1;
	db_mail_of(r, 0, 0, out);
	return 0;
}

void db_mail_row(const PGresult *r, int i, struct db_mail_row *out)
{
	out->id = PQgetvalue(r, i, 0);
	out->verification_id = PQgetvalue(r, i, 1);
	out->attempt = (int)db_get_int(r, i, 2, 1, INT32_MAX, 1);
	out->sealed_secret = db_get_text(r, i, 3);
	out->sealed_message = PQgetvalue(r, i, 4);
	db_mail_of(r, i, 5, &out->m);
}
