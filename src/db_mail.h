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

#endif
