/* See metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

#define MAX_ROUTES 16
#define NSTATUS 24
#define NBUCKETS 11
#define MAGIC 0x6d706d31u	/* "mpm1": layout version */

static const int g_statuses[NSTATUS] = { 200, 201, 303, 400, 401, 402, 403, 404, 405, 409,
					 410, 413, 415, 422, 429, 500, 502, 503, 0 };
static const int g_buckets_ms[NBUCKETS] = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
					    10000 };
static const char *const g_outcomes[METRICS__OUTCOMES] = {
	"verified", "invalid_code", "failed", "canceled", "started"
};

struct route_stats {
	atomic_int ready;		/* name written; set once, with release */
	char name[64];
	atomic_uint_least64_t by_status[NSTATUS];	/* last slot: any other status */
	atomic_uint_least64_t buckets[NBUCKETS];
	atomic_uint_least64_t count;
	atomic_uint_least64_t sum_ms;
};

struct segment {
	atomic_uint magic;
	atomic_int claimed;		/* routes claimed so far */
	struct route_stats routes[MAX_ROUTES];
	atomic_uint_least64_t mails_sent, mails_failed;
	atomic_uint_least64_t outcomes[METRICS__OUTCOMES];
};

static struct segment *g_seg;

int metrics_open(const char *config_path)
{
	unsigned char h[8];
	char hex[17], name[40];
	const char *key = config_path ? config_path : "(environment)";
	int fd, rc = -1;
	struct stat st;

	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(name, sizeof name, "/mailproof-%s-%ld", hex, (long)geteuid());
	if ((fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_warn("metrics: shm_open %s", name);
		return -1;
	}
	if (fstat(fd, &st) < 0 ||
	    ((size_t)st.st_size < sizeof *g_seg && ftruncate(fd, sizeof *g_seg) < 0)) {
		log_warn("metrics: sizing %s", name);
		goto out;
	}
	g_seg = mmap(NULL, sizeof *g_seg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g_seg == MAP_FAILED) {
		g_seg = NULL;
		log_warn("metrics: mmap %s", name);
		goto out;
	}
	/* A fresh segment is all zeroes; an old layout is reset. */
	if (atomic_load(&g_seg->magic) != MAGIC) {
		memset((void *)g_seg, 0, sizeof *g_seg);
		atomic_store(&g_seg->magic, MAGIC);
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static struct route_stats *route_slot(const char *route)
{
	int n;

	if (route == NULL)
		route = "(none)";
	n = atomic_load(&g_seg->claimed);
	for (int i = 0; i < n && i < MAX_ROUTES; i++)
		if (atomic_load_explicit(&g_seg->routes[i].ready, memory_order_acquire) &&
		    strcmp(g_seg->routes[i].name, route) == 0)
			return &g_seg->routes[i];
	/*
	 * Claim a slot.  Two processes may claim the same route at once and
	 * get two slots; the scrape adds up slots of one name.
	 */
	n = atomic_fetch_add(&g_seg->claimed, 1);
	if (n >= MAX_ROUTES)
		return NULL;
	snprintf(g_seg->routes[n].name, sizeof g_seg->routes[n].name, "%s", route);
	atomic_store_explicit(&g_seg->routes[n].ready, 1, memory_order_release);
	return &g_seg->routes[n];
}

void metrics_request(const char *route, int status, int64_t duration_ms)
{
	struct route_stats *r;
	int s = NSTATUS - 1;

	if (g_seg == NULL || (r = route_slot(route)) == NULL)
		return;
	for (int i = 0; i < NSTATUS - 1 && g_statuses[i]; i++)
		if (g_statuses[i] == status)
			s = i;
	atomic_fetch_add(&r->by_status[s], 1);
	for (int b = 0; b < NBUCKETS; b++)
		if (duration_ms <= g_buckets_ms[b])
			atomic_fetch_add(&r->buckets[b], 1);
	atomic_fetch_add(&r->count, 1);
	atomic_fetch_add(&r->sum_ms, (uint_least64_t)(duration_ms < 0 ? 0 : duration_ms));
}

void metrics_mail(int sent)
{
	if (g_seg)
		atomic_fetch_add(sent ? &g_seg->mails_sent : &g_seg->mails_failed, 1);
}

void metrics_outcome(enum metrics_outcome o)
{
	if (g_seg)
		atomic_fetch_add(&g_seg->outcomes[o], 1);
}

/* Slots that are ready and the first of their name (duplicates are summed). */
static int first_of_name(int i)
{
	if (!atomic_load_explicit(&g_seg->routes[i].ready, memory_order_acquire))
		return 0;
	for (int j = 0; j < i; j++)
		if (atomic_load_explicit(&g_seg->routes[j].ready, memory_order_acquire) &&
		    strcmp(g_seg->routes[j].name, g_seg->routes[i].name) == 0)
			return 0;
	return 1;
}

/* Sums a counter over every slot named like slot i; field selects it. */
static unsigned long long sum(int n, int i, size_t field)
{
	unsigned long long total = 0;

	for (int j = i; j < n; j++)
		if (atomic_load_explicit(&g_seg->routes[j].ready, memory_order_acquire) &&
		    strcmp(g_seg->routes[j].name, g_seg->routes[i].name) == 0)
			total += atomic_load((atomic_uint_least64_t *)((char *)&g_seg->routes[j] + field));
	return total;
}

#define F(member) offsetof(struct route_stats, member)

/* One gauge with its help and type lines. */
static int gauge(struct buf *out, const char *name, const char *help, const char *labels,
		 long long v)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s%s %lld\n", name, help, name, name,
			  labels, v);
}

/* The queues as the database sees them, and whether it answered. */
static int render_queues(struct buf *out, const struct metrics_queues *q)
{
	int rc = gauge(out, "mailproof_database_up", "Whether PostgreSQL answered this scrape.", "",
		       q != NULL);

	if (q == NULL)
		return rc;
	rc |= gauge(out, "mailproof_outbox_depth", "Webhook events waiting to be delivered.", "",
		    q->events_waiting);
	rc |= buf_printf(out, "# HELP mailproof_outbox_events Webhook events, by state.\n"
			      "# TYPE mailproof_outbox_events gauge\n"
			      "mailproof_outbox_events{state=\"pending\"} %lld\n"
			      "mailproof_outbox_events{state=\"dead\"} %lld\n",
			 q->events_waiting, q->events_dead);
	rc |= gauge(out, "mailproof_outbox_oldest_pending_seconds",
		    "Age of the oldest webhook event waiting (0: none).", "", q->events_oldest_s);
	rc |= gauge(out, "mailproof_mail_queue", "Queued mail waiting to be sent.",
		    "{state=\"pending\"}", q->mail_waiting);
	rc |= gauge(out, "mailproof_mail_queue_oldest_seconds",
		    "Age of the oldest queued mail waiting (0: none).", "", q->mail_oldest_s);
	if (q->notifier_seen_s >= 0)
		rc |= gauge(out, "mailproof_notifier_last_seen_seconds",
			    "Seconds since a notifier last slept or swept.", "", q->notifier_seen_s);
	return rc;
}

int metrics_render(struct buf *out, const struct metrics_queues *q)
{
	int n = g_seg ? atomic_load(&g_seg->claimed) : 0, rc = 0;

	if (n > MAX_ROUTES)
		n = MAX_ROUTES;
	rc |= buf_puts(out, "# HELP mailproof_http_requests_total Requests answered, by route "
			    "and status.\n# TYPE mailproof_http_requests_total counter\n");
	for (int i = 0; i < n; i++) {
		if (!first_of_name(i))
			continue;
		for (int s = 0; s < NSTATUS; s++) {
			unsigned long long v = sum(n, i, F(by_status) + (size_t)s * sizeof(atomic_uint_least64_t));
			char status[8];
			if (v == 0 || (s < NSTATUS - 1 && g_statuses[s] == 0))
				continue;
			snprintf(status, sizeof status, s == NSTATUS - 1 ? "other" : "%d", g_statuses[s]);
			rc |= buf_printf(out, "mailproof_http_requests_total{route=\"%s\",status=\"%s\"} "
					 "%llu\n", g_seg->routes[i].name, status, v);
		}
	}
	rc |= buf_puts(out, "# HELP mailproof_http_request_duration_seconds Time to answer.\n"
			    "# TYPE mailproof_http_request_duration_seconds histogram\n");
	for (int i = 0; i < n; i++) {
		const char *name = g_seg->routes[i].name;
		if (!first_of_name(i))
			continue;
		for (int b = 0; b < NBUCKETS; b++)
			rc |= buf_printf(out, "mailproof_http_request_duration_seconds_bucket{route="
					 "\"%s\",le=\"%g\"} %llu\n", name, g_buckets_ms[b] / 1000.0,
					 sum(n, i, F(buckets) + (size_t)b * sizeof(atomic_uint_least64_t)));
		rc |= buf_printf(out, "mailproof_http_request_duration_seconds_bucket{route=\"%s\","
				 "le=\"+Inf\"} %llu\n", name, sum(n, i, F(count)));
		rc |= buf_printf(out, "mailproof_http_request_duration_seconds_sum{route=\"%s\"} "
				 "%.3f\n", name, sum(n, i, F(sum_ms)) / 1000.0);
		rc |= buf_printf(out, "mailproof_http_request_duration_seconds_count{route=\"%s\"} "
				 "%llu\n", name, sum(n, i, F(count)));
	}
	rc |= buf_printf(out, "# HELP mailproof_mails_total Verification mails, by result.\n"
			      "# TYPE mailproof_mails_total counter\n"
			      "mailproof_mails_total{result=\"sent\"} %llu\n"
			      "mailproof_mails_total{result=\"failed\"} %llu\n",
			 g_seg ? (unsigned long long)atomic_load(&g_seg->mails_sent) : 0ULL,
			 g_seg ? (unsigned long long)atomic_load(&g_seg->mails_failed) : 0ULL);
	rc |= buf_puts(out, "# HELP mailproof_verifications_total Verification events, by outcome.\n"
			    "# TYPE mailproof_verifications_total counter\n");
	for (int o = 0; o < METRICS__OUTCOMES; o++)
		rc |= buf_printf(out, "mailproof_verifications_total{outcome=\"%s\"} %llu\n",
				 g_outcomes[o],
				 g_seg ? (unsigned long long)atomic_load(&g_seg->outcomes[o]) : 0ULL);
	rc |= render_queues(out, q);
	return rc ? -1 : 0;
}

int metrics_render_reports(struct buf *out, int first, const char *tenant, long long reports)
{
	/* tenant names are [A-Za-z0-9._-]: nothing to escape in a label */
	if (first && buf_puts(out, "# HELP mailproof_reports_total Mails whose address said it "
				   "did not ask for them, by tenant.\n"
				   "# TYPE mailproof_reports_total counter\n") < 0)
		return -1;
	return buf_printf(out, "mailproof_reports_total{tenant=\"%s\"} %lld\n", tenant, reports);
}
