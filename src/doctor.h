/*
 * `mailproofctl doctor`: whether this host's mailproof can work, checked
 * part by part (config, database, SMTP, templates, DNS, webhook URLs, the
 * public base URL), each a line with ✓ or ✗ and, for ✗, a hint.  And
 * `mailproofctl send-test`: a real mail through the configured server.
 */
#ifndef MAILPROOF_DOCTOR_H
#define MAILPROOF_DOCTOR_H

#include <stdio.h>

#include <libpq-fe.h>

struct config;

/*
 * Runs every check and prints its line to out; conn is NULL when the
 * database could not be reached (db_err says why).  Returns how many
 * failed.
 */
int doctor_run(const struct config *cfg, const char *config_path, PGconn *conn,
	       const char *db_err, FILE *out);

#endif
