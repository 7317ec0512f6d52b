/* See lease.h. */
#include "lease.h"

#include <stdio.h>

#include "db.h"
#include "db_queue.h"

int lease_drain(const struct lease *q, struct db *db, const struct config *cfg, int batch,
		int lease_ms, const volatile sig_atomic_t *stop)
{
	char b[16], lease[16];
	const char *p[2] = { b, lease };
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
