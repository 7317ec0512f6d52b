/*
 * The webhook outbox, as the notifier drains it: claim due events under a
 * lease, deliver each, then mark it delivered, schedule a retry with
 * exponential back-off and jitter, or give up (dead after the last
 * attempt; skipped when the tenant has no endpoint).  A 410 Gone disables
 * the tenant's endpoint until mailproofctl sets it again.
 */
#ifndef MAILPROOF_OUTBOX_H
#define MAILPROOF_OUTBOX_H

#include <signal.h>

struct config;
struct db;

/*
 * Claims, in the name of holder (see lease.h), and delivers one batch of
 * at most batch events.  Stops between events when *stop is set, handing
 * the rest back.  Returns how many it claimed, or -1 when the database
 * cannot be reached.
 */
int outbox_drain(struct db *db, const struct config *cfg, int batch, const char *holder,
		 const volatile sig_atomic_t *stop);

/* The longest wait between two attempts to deliver an event: 6 hours. */
#define OUTBOX_BACKOFF_CAP_MS (6LL * 3600 * 1000)

/*
 * The delay before retry attempt n (n >= 1) in ms: base * 2^(n-1), at most
 * OUTBOX_BACKOFF_CAP_MS, of which a random half is jitter.
 */
long long outbox_backoff_ms(int base_ms, int attempt);

#endif
