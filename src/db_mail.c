/* See db_mail.h. */
#include "db_mail.h"

#include <stdlib.h>

#include "db.h"
#include "log.h"

void db_mail_brand(const PGresult *r, int i, int col, struct mail_brand *out)
{
	out->name = PQgetvalue(r, i, col);
	out->support = PQgetvalue(r, i, col + 1);
	out->accent = PQgetvalue(r, i, col + 2);
	out->logo_type = PQgetvalue(r, i, col + 3);
	out->logo_b64 = PQgetvalue(r, i, col + 4);
	out->tenant_id = PQgetvalue(r, i, col + 5);
	out->custom = PQgetvalue(r, i, col + 6)[0] == 't';
	out->templates = NULL;
	out->ntemplates = 0;
}

PGresult *db_mail_templates(struct db *db, struct mail_brand *b, int *failed)
{
	const char *p[1] = { b->tenant_id };
	struct template_custom *t;
	enum db_err err;
	PGresult *r;
	int n;

	*failed = 0;
	if (!b->custom)
		return NULL;
	if ((r = db_run(db, DB_TENANT_TEMPLATES, p, &err, NULL)) == NULL)
		goto fail;
	n = PQntuples(r);
	if ((t = calloc((size_t)n + 1, sizeof *t)) == NULL) {
		log_errx("tenant %s: no memory for its templates", b->tenant_id);
		PQclear(r);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		t[i].name = PQgetvalue(r, i, 0);
		t[i].locale = PQgetvalue(r, i, 1);
		t[i].body = PQgetvalue(r, i, 2);
	}
	b->templates = t;
	b->ntemplates = (size_t)n;
	return r;
fail:
	*failed = 1;
	return NULL;
}

void db_mail_templates_free(struct mail_brand *b, PGresult *r)
{
	free((void *)b->templates);
	b->templates = NULL;
	b->ntemplates = 0;
	PQclear(r);
}
