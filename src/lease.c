/* See lease.h. */
#include "lease.h"

#include <limits.h>
#include <stdio.h>

#include "db.h"
#include "db_queue.h"

int lease_drain(const struct lease *q, struct db *db, const struct config *cfg, int batch,
		int lease_ms, const char *holder, const volatile sig_atomic_t *stop)
{
	char b[16], lease[16];
	const char *p[3] = { b, lease, holder };
	enum db_err err;
	PGresult *r;
	int n;

	snprintf(b, sizeof b, "%d", batch);
	snprintf(lease, sizeof lease, "%d", lease_ms);
	if ((r = db_run(db, q->claim, p, &err, NULL)) == NULL)
		return -1;
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		if (*stop) {
			for (; i < n; i++) {
				const char *id[1] = { db_claimed_id(r, i) };
				PQclear(db_run(db, q->release, id, &err, NULL));
			}
			break;
		}
		q->each(db, cfg, r, i);
	}
	PQclear(r);
	return n;
}

long long lease_return(struct db *db, const char *holder)
{
	const char *p[1] = { holder };
	enum db_err err;
	PGresult *r;
	long long n;

	if ((r = db_run(db, DB_LEASES_RETURN, p, &err, NULL)) == NULL)
		return -1;
	n = db_int(r, 0, LLONG_MAX, 0);
	PQclear(r);
	return n;
}
