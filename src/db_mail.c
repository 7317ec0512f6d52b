/* See db_mail.h. */
#include "db_mail.h"

void db_mail_brand(const PGresult *r, int i, int col, struct mail_brand *out)
{
	out->name = PQgetvalue(r, i, col);
	out->support = PQgetvalue(r, i, col + 1);
	out->accent = PQgetvalue(r, i, col + 2);
	out->logo_type = PQgetvalue(r, i, col + 3);
	out->logo_b64 = PQgetvalue(r, i, col + 4);
}
