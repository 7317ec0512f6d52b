/*
 * Decoding what every mail needs from the database, whichever process
 * writes the mail: the tenant's brand (MAIL_BRAND_COLS of db_sql.c).
 */
#ifndef MAILPROOF_DB_MAIL_H
#define MAILPROOF_DB_MAIL_H

#include <libpq-fe.h>

#include "mail_verification.h"

/* The brand in row i of r, from column col on; its strings live as long as r. */
void db_mail_brand(const PGresult *r, int i, int col, struct mail_brand *out);

struct db;

/*
 * Reads the tenant's own templates into b when it has any: the result
 * their strings live in (NULL when it has none), for
 * db_mail_templates_free().  *failed is set when the database failed.
 */
PGresult *db_mail_templates(struct db *db, struct mail_brand *b, int *failed);

/* Forgets b's templates and clears r. */
void db_mail_templates_free(struct mail_brand *b, PGresult *r);

#endif
