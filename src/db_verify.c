/* See db_verify.h.  The positions are those of the statements' cols in db_sql.c. */
#include "db_verify.h"

#include <limits.h>
#include <string.h>

#include "db.h"
#include "token.h"

void db_verify_start(const PGresult *r, struct db_verify_start *out)
{
	out->tenant_id = PQgetvalue(r, 0, 2);
	out->mail_from = PQgetvalue(r, 0, 3);
	out->outcome = PQgetvalue(r, 0, 4);
	out->retry_after = (int)db_get_int(r, 0, 1, 1, INT_MAX, 60);
	out->body = PQgetvalue(r, 0, 5);
	out->replay_status = (int)db_get_int(r, 0, 6, 100, 599, 500);
	out->locale = PQgetvalue(r, 0, 7);
	out->limit_max = (int)db_get_int(r, 0, 8, 0, INT_MAX, 0);
}

int db_verify_mail_info(const PGresult *r, struct db_verify_mail_info *out)
{
	if (PQgetvalue(r, 0, 2)[0] != 't')
		return -1;
	out->email = PQgetvalue(r, 0, 3);
	out->method = PQgetvalue(r, 0, 4);
	out->format = PQgetvalue(r, 0, 5);
	out->code_length = (int)db_get_int(r, 0, 6, 4, TOKEN_HEX_CODE_LEN, 6);
	out->subject = db_get_text(r, 0, 7);
	out->line = db_get_text(r, 0, 8);
	out->ttl_seconds = (int)db_get_int(r, 0, 9, 60, 2592000, 60);
	out->mail_from = PQgetvalue(r, 0, 10);
	out->locale = PQgetvalue(r, 0, 11);
	out->channel = PQgetvalue(r, 0, 12);
	return 0;
}

void db_verify_resend(const PGresult *r, struct db_verify_resend *out)
{
	out->outcome = PQgetvalue(r, 0, 2);
	out->retry_after = (int)db_get_int(r, 0, 1, 1, INT_MAX, 60);
	out->stored = vstatus_of(PQgetvalue(r, 0, 3));
	out->eff = vstatus_of(PQgetvalue(r, 0, 4));
	out->body = PQgetvalue(r, 0, 5);
	out->tenant = PQgetvalue(r, 0, 6);
	out->limit_max = (int)db_get_int(r, 0, 7, 0, INT_MAX, 0);
	out->sealed_code = PQgetvalue(r, 0, 8);
}

void db_verify_code(const PGresult *r, enum db_stmt s, struct db_verify_code *out)
{
	int c = s == DB_API_VERIFY ? 2 : 0;

	memset(out, 0, sizeof *out);
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, c))
		return;
	out->found = 1;
	out->stored = vstatus_of(PQgetvalue(r, 0, c));
	out->eff = vstatus_of(PQgetvalue(r, 0, c + 1));
	out->checked = !PQgetisnull(r, 0, c + 2);
	out->result = vstatus_of(PQgetvalue(r, 0, c + 2));
	out->remaining = (int)db_get_int(r, 0, c + 3, 0, 10, 0);
	out->body = db_get_text(r, 0, c + 4);
}

void db_verify_cancel(const PGresult *r, struct db_verify_cancel *out)
{
	out->found = !PQgetisnull(r, 0, 2);
	out->stored = vstatus_of(PQgetvalue(r, 0, 2));
	out->eff = vstatus_of(PQgetvalue(r, 0, 3));
	out->body = db_get_text(r, 0, 4);
}

size_t db_verify_redirects(const PGresult *r, const char **prefixes, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < PQntuples(r) && n < max; i++)
		if (!PQgetisnull(r, i, 2))
			prefixes[n++] = PQgetvalue(r, i, 2);
	return n;
}

const char *db_verify_mail_result(const PGresult *r)
{
	return PQntuples(r) == 1 ? db_get_text(r, 0, 0) : NULL;
}
