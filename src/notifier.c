/*
 * mailproof-notifier: drains the webhook outbox and, in queue mode, the
 * mail queue; expires overdue verifications (each with its email.expired
 * event) and purges rows past retention_days.  Any number of notifiers on
 * any number of hosts can share one database.  With nothing to do it
 * sleeps until the next row falls due, the next sweep, or a notification:
 * before sleeping it says so (mp_notifier_sleeps()), and the first
 * transaction that queues work after that notifies (mp_wake()), so that
 * busy writers never notify and an idle notifier never polls.  --once does
 * what is due and exits, for cron.  SIGTERM finishes the delivery in hand;
 * SIGHUP re-reads the config (a bad one is refused and logged).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "db_queue.h"
#include "jsonx.h"
#include "lease.h"
#include "log.h"
#include "mailq.h"
#include "outbox.h"
#include "util.h"
#include "webhook.h"

#define BATCH_DEFAULT 20
#define SWEEP_BATCH "1000"
#define POLL_MAX_MS 60000	/* look for due rows at least this often anyway */
/* how often sync-mode mails no worker recorded are looked for (mailq_settle);
 * in queue mode only at each sweep, for what a switch of mode left */
#define SETTLE_EVERY_MS 10000

static volatile sig_atomic_t g_stop, g_reload;
static int g_batch = BATCH_DEFAULT;	/* rows claimed, and leased, at a time */
/* whose leases: host, pid and a random part, unique among notifiers */
static char g_holder[128];
/* the last round lost the database: hand back its leases first */
static int g_lost;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		g_reload = 1;
	else
		g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mailproof-notifier [--config FILE] [--once] [--batch N]\n");
}

static void holder_init(void)
{
	char host[64] = "";
	unsigned char rnd[4];

	gethostname(host, sizeof host - 1);
	randombytes_buf(rnd, sizeof rnd);
	snprintf(g_holder, sizeof g_holder, "%s:%ld:%02x%02x%02x%02x", host, (long)getpid(),
		 rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* Drains one queue until nothing is due; returns rows handled or -1. */
static int drain(int (*fn)(struct db *, const struct config *, int, const char *,
			  const volatile sig_atomic_t *),
		 struct db *db, const struct config *cfg)
{
	int total = 0, n;

	do {
		if ((n = fn(db, cfg, g_batch, g_holder, &g_stop)) < 0)
			return -1;
		total += n;
	} while (n == g_batch && !g_stop);
	return total;
}

/* Expires overdue verifications and purges old rows; -1 when the database is away. */
static int housekeeping(struct db *db, const struct config *cfg)
{
	const char *sweep[1] = { SWEEP_BATCH };
	char days[16];
	const char *purge[1] = { days };
	enum db_err err;
	PGresult *r;
	struct db_purged purged;
	long long expired = 0, n;

	do {
		if ((r = db_run(db, DB_SWEEP_EXPIRED, sweep, &err, NULL)) == NULL)
			return -1;
		n = db_int(r, 0, 1000000, 0);
		expired += n;
		PQclear(r);
	} while (n == 1000 && !g_stop);
	if (expired)
		log_info("sweep: %lld verifications expired", expired);
	snprintf(days, sizeof days, "%d", cfg->retention_days);
	if ((r = db_run(db, DB_PURGE, purge, &err, NULL)) == NULL)
		return -1;
	db_purged(r, &purged);
	if (purged.events || purged.verifications)
		log_info("purge: %lld events and %lld verifications older than %d days deleted",
			 purged.events, purged.verifications, cfg->retention_days);
	PQclear(r);
	if ((r = db_run(db, DB_NOTIFIER_SEEN, NULL, &err, NULL)) == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/*
 * One round: both queues drained, then, when sweep is set, housekeeping and
 * the events it wrote.  Returns 0, or -1 when the database is away.
 */
static int work(struct db *db, const struct config *cfg, int sweep, int settle)
{
	if (g_lost) {
		/*
		 * What the lost round claimed would wait for its lease, minutes
		 * long, before anyone tried it again: after a failover, every
		 * event and queued mail of that batch late by that much.
		 */
		long long n = lease_return(db, g_holder);
		if (n < 0)
			return -1;
		if (n > 0)
			log_info("the database was lost: %lld claimed events and mails are due again", n);
		g_lost = 0;
	}
	if (drain(outbox_drain, db, cfg) < 0 || drain(mailq_drain, db, cfg) < 0)
		return -1;
	if (settle && mailq_settle(db, cfg) < 0)
		return -1;
	if (!sweep)
		return 0;
	if (housekeeping(db, cfg) < 0 || drain(outbox_drain, db, cfg) < 0)
		return -1;
	return 0;
}

/*
 * Says that this notifier goes to sleep, then returns the milliseconds
 * until the next queued row falls due (0: one is due already, look again),
 * POLL_MAX_MS when none waits, or -1 when the database is away.
 */
static int going_to_sleep(struct db *db)
{
	enum db_err err;
	PGresult *r;
	long long ms;

	if ((r = db_run(db, DB_NOTIFIER_SLEEPS, NULL, &err, NULL)) == NULL)
		return -1;
	PQclear(r);
	if ((r = db_run(db, DB_NEXT_DUE, NULL, &err, NULL)) == NULL)
		return -1;
	ms = db_int(r, 0, POLL_MAX_MS, POLL_MAX_MS);
	PQclear(r);
	return (int)ms;
}

static const char *const g_channels[] = { "mailproof_wake", NULL };

/*
 * The connection the notifier LISTENs on: db's own, or, with
 * database_listen_url, one of its own there (PgBouncer in transaction mode
 * passes LISTEN on to some server connection but never delivers its
 * notifications).  lcfg holds that connection's settings and must outlive
 * it; listener_free frees it.
 */
static struct db *listener_new(struct db *db, const struct config *cfg, struct config *lcfg)
{
	struct db *l;

	if (cfg->database_listen_url[0] == '\0') {
		db_listen(db, g_channels);
		return db;
	}
	*lcfg = *cfg;
	lcfg->database_url = cfg->database_listen_url;
	lcfg->database_prepared = 0;	/* it runs no statement of ours */
	if ((l = db_new(lcfg, "mailproof-notifier-listen")) == NULL)
		fatalx("out of memory");
	db_listen(l, g_channels);
	return l;
}

static void listener_free(struct db *l, struct db *db)
{
	if (l != db)
		db_free(l);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_arg = NULL, *path;
	struct config cfg, lcfg;
	struct sigaction sa;
	sigset_t signals, waiting;
	struct db *db, *ldb;
	char err[512];
	int ch, once = 0, rc = 0;
	int64_t next_sweep = 0, next_settle = 0, last_db_error = 0;

	log_init("mailproof-notifier");
	while ((ch = getopt_long(argc, argv, "c:ob:hV", longopts, NULL)) != -1) {
		const char *errstr;
		switch (ch) {
		case 'c': config_arg = optarg; break;
		case 'o': once = 1; break;
		case 'b':
			g_batch = (int)util_parse_int(optarg, 1, 1000, &errstr);
			if (errstr) {
				fprintf(stderr, "mailproof-notifier: --batch %s: %s (1 to 1000)\n", optarg,
					errstr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mailproof-notifier %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	path = config_path(config_arg);
	if (sodium_init() < 0)
		fatalx("libsodium could not be initialised");
	jsonx_wipe_on_free();
	holder_init();
	if (config_load(path, &cfg, err, sizeof err) < 0) {
		log_errx("%s", err);
		return 1;
	}
	/* cron mails whatever a job prints: --once says only what went wrong */
	log_set_level(once && cfg.log_level == LOG_LVL_INFO ? LOG_LVL_WARN
							    : (enum log_level)cfg.log_level);
	switch (db_schema_check(&cfg, "mailproof-notifier", err, sizeof err)) {
	case 1:
		if (!once) {
			log_warnx("%s; starting anyway", err);
			break;
		}
		/* a run of cron: one line, and the next run tries again */
		log_errx("%s: nothing was delivered", err);
		/* fall through */
	case -1:
		config_free(&cfg);
		return 1;
	}
	if (webhook_global_init() < 0)
		fatalx("libcurl could not be initialised");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	if ((db = db_new(&cfg, "mailproof-notifier")) == NULL)
		fatalx("out of memory");
	ldb = listener_new(db, &cfg, &lcfg);
	log_info("started%s", once ? " (--once)" : "");

	while (!g_stop) {
		int64_t now = util_mono_ms();
		int sweep, settle, wait_ms;

		if (g_reload) {
			struct config fresh;
			g_reload = 0;
			if (config_load(path, &fresh, err, sizeof err) < 0) {
				log_errx("reload refused, keeping the running config: %s", err);
			} else {
				/* the connections were made with the old settings */
				listener_free(ldb, db);
				db_free(db);
				config_free(&cfg);
				cfg = fresh;
				log_set_level((enum log_level)cfg.log_level);
				if ((db = db_new(&cfg, "mailproof-notifier")) == NULL)
					fatalx("out of memory");
				ldb = listener_new(db, &cfg, &lcfg);
				log_info("config reloaded");
			}
		}
		sweep = once || now >= next_sweep;
		settle = once || sweep || (cfg.mail_delivery == MAIL_SYNC && now >= next_settle);
		if (work(db, &cfg, sweep, settle) < 0) {
			g_lost = 1;
			if (once) {
				rc = 1;	/* db.c said what failed */
				break;
			}
			if (now - last_db_error > 10000)
				log_warnx("the database is unavailable; retrying");
			last_db_error = now;
			sleep(1);
			continue;
		}
		if (sweep)
			next_sweep = now + (int64_t)cfg.sweep_interval_seconds * 1000;
		if (settle)
			next_settle = now + SETTLE_EVERY_MS;
		if (once)
			break;
		if ((wait_ms = going_to_sleep(db)) < 0) {
			sleep(1);
			continue;
		}
		if (wait_ms == 0)
			continue;
		if (next_sweep - util_mono_ms() < wait_ms)
			wait_ms = (int)(next_sweep - util_mono_ms());
		if (cfg.mail_delivery == MAIL_SYNC && next_settle - util_mono_ms() < wait_ms)
			wait_ms = (int)(next_settle - util_mono_ms());
		/* a signal after this check still ends the wait: ppoll unblocks it */
		sigprocmask(SIG_BLOCK, &signals, &waiting);
		if (!g_stop && !g_reload) {
			switch (db_wait(ldb, wait_ms, &waiting)) {
			case 1:
				log_debug("woken by a notification");
				break;
			case -1:
				sleep(1);
				break;
			}
		}
		sigprocmask(SIG_SETMASK, &waiting, NULL);
	}
	log_info("stopped");
	listener_free(ldb, db);
	db_free(db);
	config_free(&cfg);
	webhook_global_cleanup();
	return rc;
}
