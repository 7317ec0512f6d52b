/* See db_pages.h.  The positions are those of the statements' cols in db_sql.c. */
#include "db_pages.h"

#include <string.h>

#include "db.h"
#include "db_mail.h"

void db_ip_hit(const PGresult *r, struct db_ip_hit *out)
{
	out->over = PQgetvalue(r, 0, 0)[0] == 't';
	out->retry_after = (int)db_get_int(r, 0, 1, 1, 60, 60);
}

int db_link(const PGresult *r, struct db_link *out)
{
	if (PQntuples(r) != 1)
		return -1;
	out->id = PQgetvalue(r, 0, 0);
	out->eff = vstatus_of(PQgetvalue(r, 0, 1));
	out->redirect = PQgetvalue(r, 0, 2);
	out->locale = PQgetvalue(r, 0, 3);
	db_mail_brand(r, 0, 4, &out->brand);
	out->confirmed = PQnfields(r) > 11 && !PQgetisnull(r, 0, 11);
	return 0;
}

int db_report(const PGresult *r, struct db_report *out)
{
	if (PQntuples(r) != 1)
		return -1;
	out->id = PQgetvalue(r, 0, 0);
	out->reported = PQgetvalue(r, 0, 1)[0] == 't';
	out->locale = PQgetvalue(r, 0, 2);
	db_mail_brand(r, 0, 3, &out->brand);
	return 0;
}

int db_hosted_info(const PGresult *r, struct db_hosted_info *out)
{
	if (PQntuples(r) != 1)
		return -1;
	out->eff = vstatus_of(PQgetvalue(r, 0, 0));
	out->otp = strcmp(PQgetvalue(r, 0, 1), "MAGIC_LINK") != 0;
	out->format = PQgetvalue(r, 0, 2);
	out->locale = PQgetvalue(r, 0, 3);
	db_mail_brand(r, 0, 4, &out->brand);
	return 0;
}
