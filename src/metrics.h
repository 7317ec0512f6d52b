/*
 * Prometheus metrics shared by every process serving one configuration:
 * the prefork workers, or the independent processes mod_fcgid and lighttpd
 * spawn.  Counters live in a named POSIX shared-memory segment (named after
 * the config file) and are updated with C11 atomics, so no lock is taken on
 * the request path and a scrape sees the sum over all processes.
 */
#ifndef MAILPROOF_METRICS_H
#define MAILPROOF_METRICS_H

#include <stdint.h>

#include "buf.h"

enum metrics_outcome {
	METRICS_VERIFIED, METRICS_INVALID_CODE, METRICS_FAILED, METRICS_CANCELED,
	METRICS_STARTED, METRICS__OUTCOMES
};

/*
 * Maps the segment for config path (NULL: the environment-only config).
 * Returns 0, or -1 (logged) when metrics are off for this process.
 */
int metrics_open(const char *config_path);

/* Records one answered request: its route pattern (or NULL), status, duration. */
void metrics_request(const char *route, int status, int64_t duration_ms);
void metrics_mail(int sent);
void metrics_outcome(enum metrics_outcome o);

/* Writes the text exposition format; outbox_depth < 0 is left out. */
/* What the database says of the queues (DB_METRICS); -1 for what it did not say. */
struct metrics_queues {
	long long events_waiting, events_dead, mail_waiting;
	long long events_oldest_s, mail_oldest_s;
	long long notifier_seen_s;	/* -1: never seen */
};

int metrics_render(struct buf *out, const struct metrics_queues *q);

/*
 * Appends tenant's count of reports ("Didn't ask for this?") to out, under
 * its HELP and TYPE lines when first is set.  0, or -1 when out is full.
 */
int metrics_render_reports(struct buf *out, int first, const char *tenant, long long reports);

#endif
