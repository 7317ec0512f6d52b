/*
 * mailproofctl: the schema (migrate), the checks (doctor, send-test), the
 * outbox, the suppression lists and the counts (see ctl.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "brand.h"
#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "ctl.h"
#include "db.h"
#include "db_admin.h"
#include "db_mail.h"
#include "doctor.h"
#include "db_migrate.h"
#include "locale.h"
#include "log.h"
#include "mail.h"
#include "preview.h"
#include "scope.h"
#include "smtp.h"
#include "template_check.h"
#include "token.h"
#include "util.h"
#include "webhook.h"

/*
 * Seals again, under secret_key, every webhook secret that is still in
 * clear (from before version 11) or sealed under secret_key_previous (a
 * rotation of secret_key): once done, the previous key may go.  Returns
 * how many, or -1 (said) when one cannot be opened or stored.
 */
static int seal_webhook_secrets(struct ctx *c)
{
	char err[512], secret[TOKEN_WHSEC_LEN + 1], previous[TOKEN_WHSEC_LEN + 1];
	PGresult *r = db_admin_webhook_secrets(c->conn, err, sizeof err), *u;
	struct db_admin_secrets t;
	struct buf s1, s2;
	int n = 0, rc = -1;

	if (r == NULL) {
		ctl_fail("migrate: %s", err);
		return -1;
	}
	buf_init(&s1, 256);
	buf_init(&s2, 256);
	for (int i = 0; i < PQntuples(r); i++) {
		int a, b;
		db_admin_secrets(r, i, &t);
		a = webhook_secret_open(&c->cfg, t.secret, secret);
		b = webhook_secret_open(&c->cfg, t.previous, previous);
		if (a < 0 || b < 0) {
			ctl_fail("migrate: the webhook secret of tenant %s cannot be opened with secret_key "
			     "or secret_key_previous", t.name);
			goto out;
		}
		if (a == 0 && b == 0)
			continue;
		buf_reset(&s1);
		buf_reset(&s2);
		if (webhook_secret_seal(&c->cfg, secret, &s1) < 0 ||
		    (previous[0] && webhook_secret_seal(&c->cfg, previous, &s2) < 0) ||
		    (u = db_admin_webhook_secret_store(c->conn, t.id, s1.data,
						       previous[0] ? s2.data : NULL, err,
						       sizeof err)) == NULL) {
			ctl_fail("migrate: the webhook secret of tenant %s could not be stored: %s", t.name,
			     err);
			goto out;
		}
		PQclear(u);
		n++;
	}
	rc = n;
out:
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(previous, sizeof previous);
	buf_free(&s1);
	buf_free(&s2);
	PQclear(r);
	return rc;
}

int cmd_migrate(struct ctx *c)
{
	const char *dir = ctl_opt(c, "sql-dir");
	json_t *applied = json_array();
	char err[512], sql[PATH_MAX];
	int version, sealed;

	if (dir == NULL) {
		snprintf(sql, sizeof sql, "%s/sql", c->cfg.data_dir);
		dir = sql;
	}
	if (db_migrate(c->conn, dir, applied, &version, err, sizeof err) < 0) {
		json_decref(applied);
		return ctl_fail("migrate: %s%s", err, dir == sql ? " (the sql/ of data_dir: set "
				"data_dir to where mailproof's files are, or give --sql-dir)" : "");
	}
	if ((sealed = seal_webhook_secrets(c)) < 0) {
		json_decref(applied);
		return 1;
	}
	if (c->json)
		return ctl_print_json(json_pack("{s:o,s:i,s:i}", "applied", applied, "version", version,
					    "webhookSecretsSealed", sealed));
	if (json_array_size(applied) == 0 && sealed == 0)
		printf("nothing to do: the schema is at version %d\n", version);
	for (size_t i = 0; i < json_array_size(applied); i++)
		printf("applied %s\n", json_string_value(json_array_get(applied, i)));
	if (sealed)
		printf("sealed the webhook secrets of %d tenants under secret_key\n", sealed);
	json_decref(applied);
	return 0;
}

int cmd_doctor(struct ctx *c)
{
	int bad = doctor_run(&c->cfg, config_path(c->config_arg), c->conn, c->db_err, stdout);

	if (bad)
		printf("%d check%s failed\n", bad, bad == 1 ? "" : "s");
	else
		printf("all checks passed\n");
	return bad ? 1 : 0;
}

/* A real mail through the configured SMTP server, from the tenant's sender when given. */
int cmd_send_test(struct ctx *c)
{
	const char *to = ctl_opt(c, "to"), *tenant = ctl_opt(c, "tenant"), *from;
	char host[256], err[512], text[512];
	struct smtp_result res;
	struct mail_msg m;
	struct buf msg;
	PGresult *r = NULL;
	int rc;

	if (!mail_address_valid(to))
		return ctl_fail("send-test: --to must be one address (local@domain)");
	from = c->cfg.mail_from;
	if (tenant) {
		if ((r = db_admin_tenants(c->conn, tenant, err, sizeof err)) == NULL)
			return ctl_fail("send-test: %s", err);
		if (PQntuples(r) != 1) {
			PQclear(r);
			return ctl_fail("send-test: no tenant named '%s'", tenant);
		}
		struct db_admin_tenant t;
		db_admin_tenant(r, 0, &t);
		if (*t.mail_from)
			from = t.mail_from;
	}
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "this host");
	snprintf(text, sizeof text, "This is a test mail of mailproofctl send-test on %s, sent "
		 "through %s:%d.  Nothing needs to be done with it.\n", host, c->cfg.smtp_host,
		 c->cfg.smtp_port);
	memset(&m, 0, sizeof m);
	m.from = from;
	m.from_name = c->cfg.mail_from_name;
	m.to = to;
	m.subject = "mailproof test mail";
	m.text = text;
	m.html = "<p>This is a test mail of <b>mailproofctl send-test</b>.</p>";
	buf_init(&msg, 64 * 1024);
	if (mail_compose(&m, &msg) < 0) {
		buf_free(&msg);
		PQclear(r);
		return ctl_fail("send-test: the message could not be built");
	}
	smtp_send(&c->cfg, from, to, msg.data, NULL, &res);
	buf_free(&msg);
	PQclear(r);
	if (c->json)
		return ctl_print_json(json_pack("{s:b,s:i,s:s,s:s}", "sent", res.ok, "smtpCode", res.code,
					    "smtpReply", res.reply, "from", from)) || !res.ok;
	printf("%s from %s to %s via %s:%d: %d %s\n", res.ok ? "sent" : "NOT sent", from, to,
	       c->cfg.smtp_host, c->cfg.smtp_port, res.code, res.reply);
	rc = res.ok ? 0 : 1;
	return rc;
}

static void event_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_event e;

	db_admin_event(r, i, &e);
	ctl_row_num(out, "id", e.id);
	ctl_row_text(out, "eventId", CELL_TEXT, e.event_id);
	ctl_row_text(out, "tenant", CELL_TEXT, e.tenant);
	ctl_row_text(out, "type", CELL_TEXT, e.type);
	ctl_row_text(out, "state", CELL_TEXT, e.state);
	ctl_row_num(out, "attempts", e.attempts);
	ctl_row_text(out, "runAt", CELL_TEXT, e.run_at);
	ctl_row_num(out, "lastStatus", e.last_status);
	ctl_row_text(out, "lastError", CELL_OPT_TEXT, e.last_error);
}

int cmd_outbox_list(struct ctx *c)
{
	static const char *const heads[] = { "ID", "EVENT", "TENANT", "TYPE", "STATE", "ATTEMPTS",
					     "NEXT RUN", "LAST STATUS", "LAST ERROR" };
	const char *limit = ctl_opt(c, "limit"), *errstr;
	char err[512];
	PGresult *r;

	if (limit == NULL)
		limit = "50";
	util_parse_int(limit, 1, 10000, &errstr);
	if (errstr)
		return ctl_fail("outbox list: --limit must be 1 to 10000");
	r = db_admin_outbox_list(c->conn, ctl_opt(c, "state"), ctl_opt(c, "tenant"), limit, err,
				 sizeof err);
	if (r == NULL)
		return ctl_fail("outbox list: %s", err);
	return ctl_print_listing(c, r, heads, 9, event_row);
}

/* outbox retry --state dead|skipped [--tenant NAME] [--since 2h|TIME]: after an outage. */
static int outbox_retry_all(struct ctx *c)
{
	const char *state = ctl_opt(c, "state"), *tenant = ctl_opt(c, "tenant");
	const char *since = ctl_opt(c, "since"), *since_time = NULL;
	char err[512], secs[24], *p_secs = NULL;
	long long n;
	long s;
	PGresult *r;

	if (state == NULL || (strcmp(state, "dead") != 0 && strcmp(state, "skipped") != 0))
		return ctl_fail("outbox retry: give an event ID, or --state dead or --state skipped");
	if (since && (s = ctl_duration_s(since, 2592000)) >= 0) {
		snprintf(secs, sizeof secs, "%ld", s);
		p_secs = secs;
	} else {
		since_time = since;
	}
	r = db_admin_outbox_retry_all(c->conn, state, tenant, p_secs, since_time, err, sizeof err);
	if (r == NULL)
		return ctl_fail("outbox retry: %s%s", since_time ? "--since: a duration such as 2h, or "
			    "a time such as '2026-11-30 10:00': " : "", err);
	n = db_int(r, 0, LLONG_MAX, -1);
	PQclear(r);
	if (n < 0)
		return ctl_fail("outbox retry: no tenant named '%s'", tenant);
	if (c->json)
		return ctl_print_json(json_pack("{s:s,s:I}", "was", state, "retried", (json_int_t)n));
	printf("%lld %s event%s pending again; they will be delivered shortly\n", n, state,
	       n == 1 ? " is" : "s are");
	return 0;
}

int cmd_outbox_retry(struct ctx *c)
{
	char err[512];
	PGresult *r;
	const char *state;
	char before[16];

	if (c->npos == 0)
		return outbox_retry_all(c);
	if (ctl_opt(c, "state") || ctl_opt(c, "tenant") || ctl_opt(c, "since"))
		return ctl_fail("outbox retry: an event ID, or --state with --tenant and --since; "
			    "not both");
	if ((r = db_admin_outbox_retry(c->conn, c->pos[0], err, sizeof err)) == NULL)
		return ctl_fail("outbox retry: %s", err);
	if ((state = db_admin_state_before(r)) == NULL) {
		PQclear(r);
		return ctl_fail("outbox retry: no event with id %s", c->pos[0]);
	}
	snprintf(before, sizeof before, "%s", state);
	PQclear(r);
	if (strcmp(before, "dead") != 0 && strcmp(before, "skipped") != 0)
		return ctl_fail("outbox retry: event %s is %s, not dead or skipped", c->pos[0], before);
	if (c->json)
		return ctl_print_json(json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->id, "was", before,
					    "state", "pending"));
	printf("event %s was %s; it is pending again and will be delivered shortly\n", c->pos[0],
	       before);
	return 0;
}

static void count_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_count n;

	db_admin_count(r, i, &n);
	ctl_row_text(out, "kind", CELL_TEXT, n.kind);
	ctl_row_text(out, "state", CELL_TEXT, n.state);
	ctl_row_num(out, "count", n.count);
}

static void suppression_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_suppression x;

	db_admin_suppression(r, i, &x);
	ctl_row_text(out, "tenant", CELL_TEXT, x.tenant);
	ctl_row_text(out, "email", CELL_TEXT, x.email);
	ctl_row_text(out, "reason", CELL_TEXT, x.reason);
	ctl_row_text(out, "note", CELL_OPT_TEXT, x.note);
	ctl_row_text(out, "createdAt", CELL_TEXT, x.created_at);
	ctl_row_text(out, "expiresAt", CELL_OPT_TEXT, x.expires_at);
}

int cmd_suppression_list(struct ctx *c)
{
	static const char *const heads[] = { "TENANT", "EMAIL", "REASON", "NOTE", "SINCE",
					     "EXPIRES" };
	char err[512];
	PGresult *r = db_admin_suppression_list(c->conn, ctl_opt(c, "tenant"), err, sizeof err);

	if (r == NULL)
		return ctl_fail("suppression list: %s", err);
	return ctl_print_listing(c, r, heads, 6, suppression_row);
}

/* --email, which suppression add and remove need: NULL after saying what is wrong. */
static const char *suppression_email(struct ctx *c, const char *cmd)
{
	const char *email = ctl_opt(c, "email");

	if (email == NULL || !mail_address_valid(email)) {
		ctl_fail("suppression %s: --email must be one address (local@domain)", cmd);
		return NULL;
	}
	return email;
}

int cmd_suppression_add(struct ctx *c)
{
	const char *email = suppression_email(c, "add"), *expires = ctl_opt(c, "expires");
	const char *note = ctl_opt(c, "note"), *tenant = ctl_opt(c, "tenant");
	char err[512], secs[NUM_LEN];
	long s = 0;
	PGresult *r;

	if (email == NULL)
		return 1;
	if (expires && (s = ctl_duration_s(expires, 10L * 365 * 86400)) <= 0)
		return ctl_fail("suppression add: --expires must be a duration such as 30d, 12h or 90m, "
			    "at most ten years");
	if (note && (strlen(note) > 200 || !util_no_controls(note)))
		return ctl_fail("suppression add: --note must be at most 200 characters, on one line");
	snprintf(secs, sizeof secs, "%ld", s);
	if ((r = db_admin_suppression_add(c->conn, tenant, email, expires ? secs : NULL, note, err,
					  sizeof err)) == NULL)
		return ctl_fail("suppression add: %s", err);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return ctl_fail("suppression add: no tenant named '%s'", tenant);
	}
	if (c->json)
		ctl_print_json(json_pack("{s:s,s:s,s:s?}", "tenant", tenant, "email", email, "expiresAt",
				     ctl_null_if_unset(db_get_text(r, 0, 0))));
	else if (expires)
		printf("%s will get no mail from %s until %s\n", email, tenant, db_get_text(r, 0, 0));
	else
		printf("%s will get no mail from %s\n", email, tenant);
	PQclear(r);
	return 0;
}

int cmd_suppression_remove(struct ctx *c)
{
	const char *email = suppression_email(c, "remove"), *tenant = ctl_opt(c, "tenant");
	char err[512];
	long long removed;
	int found;
	PGresult *r;

	if (email == NULL)
		return 1;
	if ((r = db_admin_suppression_remove(c->conn, tenant, email, err, sizeof err)) == NULL)
		return ctl_fail("suppression remove: %s", err);
	found = db_get_text(r, 0, 0)[0] == 't';
	removed = db_get_int(r, 0, 1, 0, 1, 0);
	PQclear(r);
	if (!found)
		return ctl_fail("suppression remove: no tenant named '%s'", tenant);
	if (c->json)
		return ctl_print_json(json_pack("{s:s,s:s,s:b}", "tenant", tenant, "email", email,
					    "removed", (int)removed));
	printf(removed ? "%s may get mail from %s again\n" : "%s was not on the list of %s\n",
	       email, tenant);
	return 0;
}

int cmd_stats(struct ctx *c)
{
	static const char *const heads[] = { "KIND", "STATE", "COUNT" };
	char err[512];
	PGresult *r = db_admin_stats(c->conn, ctl_opt(c, "tenant"), err, sizeof err);
	json_t *o;

	if (r == NULL)
		return ctl_fail("stats: %s", err);
	if (!c->json) {
		ctl_print_table(r, heads, 3, count_row);
		PQclear(r);
		return 0;
	}
	/* not a row each: an object per kind, of counts by state */
	o = json_pack("{s:{},s:{},s:{},s:{}}", "verifications", "outbox", "mail_jobs", "reports");
	for (int i = 0; i < PQntuples(r); i++) {
		struct db_admin_count n;
		db_admin_count(r, i, &n);
		json_object_set_new(json_object_get(o, n.kind), n.state,
				    json_integer((json_int_t)n.count));
	}
	PQclear(r);
	return ctl_print_json(o);
}
