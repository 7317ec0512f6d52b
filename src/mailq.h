/*
 * Queued mail (mail_delivery = queue), as the notifier sends it: claim due
 * jobs under a lease, open the sealed message, send it with libESMTP, then
 * record SENT, a retry (a 4xx reply or no connection, with back-off, up to
 * mail_max_attempts) or FAILED (a 5xx reply, or the last attempt), which
 * fails the verification and emits email.failed.
 */
#ifndef MAILPROOF_MAILQ_H
#define MAILPROOF_MAILQ_H

#include <signal.h>

struct config;
struct db;

/*
 * Records the outcome of sync-mode mails that no worker recorded (it died,
 * or lost the database, after the SMTP server answered): from the mail
 * journal once sync_mail_settle_seconds have passed, and as FAILED, with
 * its email.failed event, after twice that when the journal has no line
 * for it (so that with several hosts the one that has it records it
 * first).  Returns -1 when the database is away, else 0.
 */
int mailq_settle(struct db *db, const struct config *cfg);

/* Like outbox_drain(), for mail jobs. */
int mailq_drain(struct db *db, const struct config *cfg, int batch, const char *holder,
		const volatile sig_atomic_t *stop);

#endif
