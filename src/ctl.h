/*
 * What the files of mailproofctl share: the parsed command line (struct
 * ctx), the one way to answer a person or a script (a line on stderr for a
 * failure, aligned tables or --json), and the commands, each in the file of
 * its subject: ctl_tenant.c (tenants, keys, templates), ctl_ops.c (schema,
 * checks, outbox, suppressions, stats); ctl.c parses and dispatches.
 */
#ifndef MAILPROOF_CTL_H
#define MAILPROOF_CTL_H

#include <jansson.h>
#include <libpq-fe.h>

#include "buf.h"
#include "config.h"

#define MAX_OPTS 32
#define TABLE_COLS 9	/* the widest listing's */
#define NUM_LEN 24	/* a long long's text and its NUL */

struct opt {
	const char *name;	/* without the leading "--" */
	const char *value;	/* NULL for flags */
};

struct ctx {
	struct opt opts[MAX_OPTS];
	int nopts;
	const char *pos[8];	/* positional arguments after the command words */
	int npos;
	long long id;		/* pos[0] of a command that takes an ID */
	int json;
	const char *config_arg;
	struct config cfg;
	PGconn *conn;
	char db_err[512];	/* why conn is NULL */
};

/*
 * A row of a listing, described once for both forms: each column's text in
 * the table, and its key and kind of value in the JSON object.
 */
enum cell_kind {
	CELL_TEXT,		/* a string */
	CELL_OPT_TEXT,		/* a string, or null when "" (not set) */
	CELL_NUM		/* an integer, or null when -1 (not set) */
};

struct row {
	int n;
	const char *text[TABLE_COLS];
	const char *key[TABLE_COLS];
	enum cell_kind kind[TABLE_COLS];
	long long num[TABLE_COLS];
	char buf[TABLE_COLS][NUM_LEN];	/* the text of num */
};

/* Adds the columns of row i of r to out, which is empty; every row has the same. */
typedef void row_fn(const PGresult *r, int i, struct row *out);

/* The value of option --name, or NULL. */
const char *ctl_opt(const struct ctx *c, const char *name);
/* "mailproofctl: " and the message on stderr; returns 1, the exit status. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints v (taken) as indented JSON; 0, or 1 when out of memory. */
int ctl_print_json(json_t *v);
const char *ctl_num_text(char buf[NUM_LEN], long long v, const char *none);
const char *ctl_null_if_unset(const char *s);
json_t *ctl_int_or_null(long long v);
void ctl_row_text(struct row *w, const char *key, enum cell_kind kind, const char *text);
void ctl_row_num(struct row *w, const char *key, long long v);
void ctl_print_table(const PGresult *r, const char *const *heads, int ncols, row_fn *fill);
/* r's rows as a table, or a JSON array with --json; takes r.  Returns the exit status. */
int ctl_print_listing(const struct ctx *c, PGresult *r, const char *const *heads, int ncols,
		      row_fn *fill);
int ctl_pg_array(const struct ctx *c, const char *name, struct buf *out);
int ctl_url_acceptable(const char *u);
long ctl_duration_s(const char *s, long max);

/* The commands: each returns the exit status, having said why on a failure. */
int cmd_migrate(struct ctx *c);
int cmd_tenant_create(struct ctx *c);
int cmd_tenant_list(struct ctx *c);
int cmd_template_set(struct ctx *c);
int cmd_template_list(struct ctx *c);
int cmd_template_show(struct ctx *c);
int cmd_template_delete(struct ctx *c);
int cmd_template_preview(struct ctx *c);
int cmd_doctor(struct ctx *c);
int cmd_send_test(struct ctx *c);
int cmd_key_create(struct ctx *c);
int cmd_key_list(struct ctx *c);
int cmd_key_revoke(struct ctx *c);
int cmd_tenant_show(struct ctx *c);
int cmd_tenant_rotate(struct ctx *c);
int cmd_tenant_update(struct ctx *c);
int cmd_outbox_list(struct ctx *c);
int cmd_outbox_retry(struct ctx *c);
int cmd_suppression_list(struct ctx *c);
int cmd_suppression_add(struct ctx *c);
int cmd_suppression_remove(struct ctx *c);
int cmd_stats(struct ctx *c);
/* ctl_bounce.c; its exit status is a sysexits.h one, for the MTA that runs it */
int cmd_bounce(struct ctx *c);

#endif
