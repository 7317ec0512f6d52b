/*
 * The verification state machine.  Every transition is decided inside one
 * SQL statement (db_sql.c), which also writes its outbox event; this module
 * computes the keyed hashes, runs the statement and turns its outcome into
 * the answer of SPEC section 2.
 */
#ifndef MAILPROOF_VERIFY_H
#define MAILPROOF_VERIFY_H

struct request;

/* True when id has the shape of a verification id (ev_ + 26 base32). */
int verify_id_valid(const char *id);

/*
 * Normalizes a submitted code in place: drops spaces and hyphens, upper-
 * cases letters (codes are checked case-insensitively).
 */
void verify_normalize_code(char *code);

/* Checks code against verification id of the request's tenant; answers rq. */
void verify_check_code(struct request *rq, const char *id, const char *code);

#endif
