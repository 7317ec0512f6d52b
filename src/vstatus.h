/*
 * The status of a verification, as C sees it: one enum, and one table of
 * the names the API and the database use ("PENDING", "VERIFIED", ...).
 * sql/lifecycle.sql owns the transitions; C only reads a status and
 * decides what to answer.
 */
#ifndef MAILPROOF_VSTATUS_H
#define MAILPROOF_VSTATUS_H

enum verification_status { VS_PENDING, VS_VERIFIED, VS_FAILED, VS_EXPIRED, VS_CANCELED };

/* The name of s, as the API and the database spell it. */
const char *vstatus_name(enum verification_status s);

/* Sets *out from a name.  Returns -1 (and leaves *out) for any other text. */
int vstatus_parse(const char *name, enum verification_status *out);

/*
 * The status a database column holds.  The lifecycle trigger lets no other
 * name into a row, so anything else can only be a bug; it reads as FAILED,
 * the status that lets nothing more happen.
 */
enum verification_status vstatus_of(const char *name);

#endif
