/*
 * The mail journal (mail_journal in the config).  In sync mode the process
 * that talked to the SMTP server appends each outcome to it before the
 * worker records it in the database; when the worker died or lost the
 * database in between, mailproof-notifier records the outcome from it, so
 * that no verification waits for ever on a mail that was (or was not)
 * sent.  One line per send, "UNIXTIME KEY sent|failed CODE REPLY", written
 * with one write() to a file opened O_APPEND: lines of concurrent workers
 * never mix.  Not fsync()ed: it outlives a worker or PostgreSQL, not the
 * machine.
 */
#ifndef MAILPROOF_MAILJOURNAL_H
#define MAILPROOF_MAILJOURNAL_H

#include "smtp.h"

struct config;

/*
 * "ID:PREFIX:N": the verification, 8 hex digits of its code's keyed hash,
 * and how many of its mails were recorded before this one.
 */
#define MAILJOURNAL_KEY_MAX 80

/* A new journal is started past this size; the old one stays as PATH.1. */
#define MAILJOURNAL_ROTATE_BYTES (16L * 1024 * 1024)

/*
 * The key of verification id's mail whose code has the keyed hash
 * secret_hash (a bytea literal "\\x..." or plain hex), after mails recorded
 * mails: a resend's mail has a key of its own, even with the same code.
 */
void mailjournal_key(const char *id, const char *secret_hash, int mails,
		     char out[MAILJOURNAL_KEY_MAX]);

/* Appends res as key's outcome; no-op when mail_journal is empty.  Logs a failure. */
void mailjournal_append(const struct config *cfg, const char *key, const struct smtp_result *res);

/*
 * The last outcome written for key, in the journal or the one before it:
 * 1 with res filled (ok, code, reply), or 0 when there is none.
 */
int mailjournal_find(const struct config *cfg, const char *key, struct smtp_result *res);

/* Moves the journal to PATH.1 once it is larger than MAILJOURNAL_ROTATE_BYTES. */
void mailjournal_rotate(const struct config *cfg);

#endif
