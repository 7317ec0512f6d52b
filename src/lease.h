/*
 * The claim loop the notifier's two queues share: lease a batch of due rows
 * with one statement, in the notifier's name, handle them one by one, and
 * when asked to stop, hand the rows not yet handled back at once instead of
 * after their lease.  A notifier that lost the database hands back all it
 * held the same way (lease_return).
 */
#ifndef MAILPROOF_LEASE_H
#define MAILPROOF_LEASE_H

#include <signal.h>

#include <libpq-fe.h>

#include "db_sql.h"

struct config;
struct db;

struct lease {
	enum db_stmt claim;	/* $1 batch, $2 lease ms, $3 holder; row id in column 0 */
	enum db_stmt release;	/* $1 row id */
	/* handles claimed row i of r */
	void (*each)(struct db *db, const struct config *cfg, PGresult *r, int i);
};

/*
 * Claims at most batch rows for lease_ms in the name of holder, and handles
 * them.  Returns how many it claimed, or -1 when the database cannot be
 * reached.
 */
int lease_drain(const struct lease *q, struct db *db, const struct config *cfg, int batch,
		int lease_ms, const char *holder, const volatile sig_atomic_t *stop);

/*
 * Makes due again what holder claimed in either queue and did not finish.
 * Returns how many rows, or -1 when the database cannot be reached.
 */
long long lease_return(struct db *db, const char *holder);

#endif
