/*
 * mailproofctl: the admin CLI.  Commands are a table; each answers a person
 * in aligned text, or a script with --json.  Secrets (API keys, webhook
 * secrets) are printed exactly once, when they are made.  Exit status: 0
 * success, 1 failure (one line on stderr), 2 usage error.  This file parses
 * the command line, dispatches, and holds the ways to answer (ctl.h); the
 * commands are in ctl_tenant.c and ctl_ops.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
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

struct command {
	const char *word1, *word2;
	const char *usage;
	const char *const *valued;	/* options that take a value */
	const char *required;		/* an option that must be given, or NULL */
	const char *pos;		/* the one positional argument: "ID", "NAME", "[ID]"
					   (may be left out) or NULL */
	int (*run)(struct ctx *c);
};

const char *ctl_opt(const struct ctx *c, const char *name)
{
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0)
			return c->opts[i].value;
	return NULL;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mailproofctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int ctl_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(v);
	if (s == NULL)
		return ctl_fail("out of memory");
	puts(s);
	free(s);
	return 0;
}

/* The text of v, or none when v is -1 (not set). */
const char *ctl_num_text(char buf[NUM_LEN], long long v, const char *none)
{
	if (v < 0)
		return none;
	snprintf(buf, NUM_LEN, "%lld", v);
	return buf;
}

/* A text the JSON shows as null when it is "" (not set). */
const char *ctl_null_if_unset(const char *s)
{
	return *s ? s : NULL;
}

/* A number the JSON shows as null when it is -1 (not set). */
json_t *ctl_int_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

void ctl_row_text(struct row *w, const char *key, enum cell_kind kind, const char *text)
{
	w->key[w->n] = key;
	w->kind[w->n] = kind;
	w->text[w->n++] = text;
}

void ctl_row_num(struct row *w, const char *key, long long v)
{
	w->num[w->n] = v;
	ctl_row_text(w, key, CELL_NUM, ctl_num_text(w->buf[w->n], v, ""));
}

/* The row as a JSON object, or NULL when a value cannot be one (not UTF-8). */
static json_t *row_json(const struct row *w)
{
	json_t *o = json_object();

	for (int j = 0; o && j < w->n; j++) {
		json_t *v = w->kind[j] == CELL_NUM ? ctl_int_or_null(w->num[j]) :
			    w->kind[j] == CELL_OPT_TEXT && *w->text[j] == '\0' ? json_null() :
			    json_string(w->text[j]);
		if (json_object_set_new(o, w->key[j], v) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static void print_line(const char *const *text, int ncols, const int *width)
{
	for (int j = 0; j < ncols; j++)
		printf("%-*s%s", j + 1 < ncols ? width[j] : 0, text[j], j + 1 < ncols ? "  " : "\n");
}

/* Prints the rows of r as a table with aligned columns under the given headers. */
void ctl_print_table(const PGresult *r, const char *const *heads, int ncols, row_fn *fill)
{
	int width[TABLE_COLS], rows = PQntuples(r);
	struct row w;

	for (int j = 0; j < ncols; j++)
		width[j] = (int)strlen(heads[j]);
	for (int i = 0; i < rows; i++) {
		w.n = 0;
		fill(r, i, &w);
		for (int j = 0; j < ncols; j++)
			if ((int)strlen(w.text[j]) > width[j])
				width[j] = (int)strlen(w.text[j]);
	}
	print_line(heads, ncols, width);
	for (int i = 0; i < rows; i++) {
		w.n = 0;
		fill(r, i, &w);
		print_line(w.text, ncols, width);
	}
}

/* Prints r, which it clears, as a table under heads or as a JSON array. */
int ctl_print_listing(const struct ctx *c, PGresult *r, const char *const *heads, int ncols,
			 row_fn *fill)
{
	json_t *a;

	if (!c->json) {
		ctl_print_table(r, heads, ncols, fill);
		PQclear(r);
		return 0;
	}
	a = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		struct row w = { .n = 0 };
		fill(r, i, &w);
		json_array_append_new(a, row_json(&w));
	}
	PQclear(r);
	return ctl_print_json(a);
}

/* A PostgreSQL text[] literal of the values of every --name option. */
int ctl_pg_array(const struct ctx *c, const char *name, struct buf *out)
{
	int first = 1;

	if (buf_puts(out, "{") < 0)
		return -1;
	for (int i = 0; i < c->nopts; i++) {
		if (strcmp(c->opts[i].name, name) != 0)
			continue;
		if (!first && buf_puts(out, ",") < 0)
			return -1;
		first = 0;
		if (buf_puts(out, "\"") < 0)
			return -1;
		for (const char *p = c->opts[i].value; *p; p++)
			if ((*p == '"' || *p == '\\') ? buf_printf(out, "\\%c", *p) < 0
						      : buf_append(out, p, 1) < 0)
				return -1;
		if (buf_puts(out, "\"") < 0)
			return -1;
	}
	return buf_puts(out, "}");
}

int ctl_url_acceptable(const char *u)
{
	const char *host;

	if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else
		return 0;
	if (*host == '\0' || *host == '/' || strlen(u) > 2000)
		return 0;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\' || *p == '"' ||
		    *p == '<' || *p == '>')
			return 0;
	/* userinfo would let "https://good.example@evil.example/" pass a prefix check */
	return strchr(host, '@') == NULL || strchr(host, '@') > strchr(host, '/');
}

/* "24h", "90m", "2d", "3600s" or "3600" as seconds, at most max; -1 when malformed. */
long ctl_duration_s(const char *s, long max)
{
	const char *errstr;
	char num[24];
	size_t n = strlen(s);
	long unit = 1, v;

	if (n == 0 || n >= sizeof num)
		return -1;
	switch (s[n - 1]) {
	case 's': unit = 1; n--; break;
	case 'm': unit = 60; n--; break;
	case 'h': unit = 3600; n--; break;
	case 'd': unit = 86400; n--; break;
	}
	snprintf(num, sizeof num, "%.*s", (int)n, s);
	v = (long)util_parse_int(num, 0, max, &errstr);
	return errstr || v * unit > max ? -1 : v * unit;
}

static const char *const o_migrate[] = { "sql-dir", NULL };
#define BRAND_OPTIONS "display-name", "support-url", "accent-color", "default-locale", "logo"
static const char *const o_tenant_create[] = { "name", "webhook-url", "redirect-allow",
					       "mail-from", BRAND_OPTIONS, NULL };
static const char *const o_tenant_update[] = { "webhook-url", "redirect-allow", "monthly-quota",
					       "rate-per-email-per-hour",
					       "rate-per-key-per-minute", "mail-from",
					       "rate-per-client-ip-per-hour",
					       "rate-per-client-network-per-hour",
					       "addresses-per-client-ip-per-day", "require-client-ip",
					       "resend-policy", BRAND_OPTIONS, NULL };
static const char *const o_none[] = { NULL };
static const char *const o_send_test[] = { "to", "tenant", NULL };
static const char *const o_rotate[] = { "overlap", NULL };
static const char *const o_key_create[] = { "tenant", "scopes", NULL };
static const char *const o_template[] = { "tenant", "name", "locale", NULL };
static const char *const o_template_set[] = { "tenant", "name", "locale", "file", NULL };
static const char *const o_template_preview[] = { "tenant", "name", "locale", "file", "out",
						  NULL };
static const char *const o_template_list[] = { "tenant", NULL };
static const char *const o_key_list[] = { "tenant", NULL };
static const char *const o_outbox_list[] = { "state", "tenant", "limit", NULL };
static const char *const o_outbox_retry[] = { "state", "tenant", "since", NULL };
static const char *const o_stats[] = { "tenant", NULL };
static const char *const o_supp_list[] = { "tenant", NULL };
static const char *const o_supp_add[] = { "tenant", "email", "expires", "note", NULL };
static const char *const o_supp_remove[] = { "tenant", "email", NULL };
static const char *const o_bounce[] = { "recipient", NULL };

static const struct command g_commands[] = {
	{ "migrate", NULL, "migrate [--sql-dir DIR]", o_migrate, NULL, NULL, cmd_migrate },
	{ "doctor", NULL, "doctor", o_none, NULL, NULL, cmd_doctor },
	{ "send-test", NULL, "send-test --to ADDR [--tenant NAME]", o_send_test, "to", NULL,
	  cmd_send_test },
	{ "tenant", "create", "tenant create --name NAME [--webhook-url URL] "
	  "[--redirect-allow PREFIX]... [--mail-from ADDR]\n"
	  "                [--display-name TEXT] [--support-url URL] [--accent-color #RRGGBB]\n"
	  "                [--default-locale TAG] [--logo FILE]", o_tenant_create, "name", NULL,
	  cmd_tenant_create },
	{ "tenant", "list", "tenant list", o_none, NULL, NULL, cmd_tenant_list },
	{ "tenant", "show", "tenant show NAME", o_none, NULL, "NAME", cmd_tenant_show },
	{ "tenant", "rotate-secret", "tenant rotate-secret NAME [--overlap 24h]", o_rotate, NULL,
	  "NAME", cmd_tenant_rotate },
	{ "tenant", "update", "tenant update NAME [--webhook-url URL|''] [--redirect-allow PREFIX]...\n"
	  "                [--monthly-quota N|''] [--rate-per-email-per-hour N|'']\n"
	  "                [--rate-per-key-per-minute N|''] [--mail-from ADDR|'']\n"
	  "                [--display-name TEXT|''] [--support-url URL|'']\n"
	  "                [--accent-color #RRGGBB|''] [--default-locale TAG|''] [--logo FILE|'']\n"
	  "                [--rate-per-client-ip-per-hour N|''] [--rate-per-client-network-per-hour N|'']\n"
	  "                [--addresses-per-client-ip-per-day N|''] [--require-client-ip true|false|'']\n"
	  "                [--resend-policy new_code|same_code|'']",
	  o_tenant_update,
	  NULL, "NAME",
	  cmd_tenant_update },
	{ "template", "set", "template set --tenant NAME --name TEMPLATE [--locale TAG] --file FILE",
	  o_template_set, "tenant", NULL, cmd_template_set },
	{ "template", "list", "template list --tenant NAME", o_template_list, "tenant", NULL,
	  cmd_template_list },
	{ "template", "show", "template show --tenant NAME --name TEMPLATE [--locale TAG]",
	  o_template, "tenant", NULL, cmd_template_show },
	{ "template", "delete", "template delete --tenant NAME --name TEMPLATE [--locale TAG]",
	  o_template, "tenant", NULL, cmd_template_delete },
	{ "template", "preview", "template preview --tenant NAME --name TEMPLATE [--locale TAG] "
	  "[--file FILE] [--out FILE]", o_template_preview, "tenant", NULL, cmd_template_preview },
	{ "key", "create", "key create --tenant NAME [--scopes a,b]", o_key_create, "tenant", NULL,
	  cmd_key_create },
	{ "key", "list", "key list [--tenant NAME]", o_key_list, NULL, NULL, cmd_key_list },
	{ "key", "revoke", "key revoke ID", o_none, NULL, "ID", cmd_key_revoke },
	{ "outbox", "list", "outbox list [--state pending|sending|delivered|dead|skipped] "
	  "[--tenant NAME] [--limit N]", o_outbox_list, NULL, NULL, cmd_outbox_list },
	{ "outbox", "retry", "outbox retry ID | --state dead|skipped [--tenant NAME] "
	  "[--since 2h|TIME]", o_outbox_retry, NULL, "[ID]", cmd_outbox_retry },
	{ "suppression", "list", "suppression list [--tenant NAME]", o_supp_list, NULL, NULL,
	  cmd_suppression_list },
	{ "suppression", "add", "suppression add --tenant NAME --email ADDR [--expires 30d] "
	  "[--note TEXT]", o_supp_add, "tenant", NULL, cmd_suppression_add },
	{ "suppression", "remove", "suppression remove --tenant NAME --email ADDR", o_supp_remove,
	  "tenant", NULL, cmd_suppression_remove },
	{ "stats", NULL, "stats [--tenant NAME]", o_stats, NULL, NULL, cmd_stats },
	{ "bounce", NULL, "bounce [--recipient ADDR] < MESSAGE", o_bounce, NULL, NULL, cmd_bounce },
};
#define NCOMMANDS (sizeof g_commands / sizeof g_commands[0])

static int usage(FILE *f)
{
	fprintf(f, "usage: mailproofctl [--config FILE] [--json] COMMAND\n"
		   "       mailproofctl --version\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", g_commands[i].usage);
	return 2;
}

static int is_valued(const struct command *cmd, const char *name)
{
	if (strcmp(name, "config") == 0)
		return 1;
	for (int i = 0; cmd && cmd->valued[i]; i++)
		if (strcmp(cmd->valued[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	const char *words[2] = { NULL, NULL };
	int nwords = 0, rc;
	struct ctx c;
	char err[512];

	memset(&c, 0, sizeof c);
	log_init("mailproofctl");
	/* Find the command words first: options may stand before or after them. */
	for (int i = 1; i < argc && nwords < 2; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			if (!strchr(argv[i], '=') && strcmp(argv[i], "--json") != 0 &&
			    strcmp(argv[i], "--help") != 0 && strcmp(argv[i], "--version") != 0)
				i++;
			continue;
		}
		words[nwords++] = argv[i];
	}
	for (size_t i = 0; words[0] && i < NCOMMANDS; i++)
		if (strcmp(g_commands[i].word1, words[0]) == 0 &&
		    (g_commands[i].word2 == NULL ||
		     (words[1] && strcmp(g_commands[i].word2, words[1]) == 0)))
			cmd = &g_commands[i];
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *eq;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			printf("mailproofctl %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			c.json = 1;
			continue;
		}
		if (strncmp(a, "--", 2) == 0) {
			struct opt *o;
			if (c.nopts == MAX_OPTS)
				return ctl_fail("too many options"), 2;
			o = &c.opts[c.nopts++];
			o->name = a + 2;
			if ((eq = strchr(a, '=')) != NULL) {
				*eq = '\0';
				o->value = eq + 1;
			} else if (i + 1 < argc) {
				o->value = argv[++i];
			}
			if (!is_valued(cmd, o->name)) {
				ctl_fail("unknown option --%s", o->name);
				return usage(stderr);
			}
			if (o->value == NULL)
				return ctl_fail("--%s needs a value", o->name), 2;
			continue;
		}
		if (cmd && (a == words[0] || (cmd->word2 && a == words[1])))
			continue;
		if (c.npos == 8)
			return usage(stderr);
		c.pos[c.npos++] = a;
	}
	if (cmd == NULL || c.npos > (cmd->pos != NULL) ||
	    (c.npos == 0 && cmd->pos && cmd->pos[0] != '[')) {
		if (words[0] && cmd == NULL)
			ctl_fail("unknown command '%s%s%s'", words[0], words[1] ? " " : "",
			     words[1] ? words[1] : "");
		return usage(stderr);
	}
	if (cmd->required && ctl_opt(&c, cmd->required) == NULL) {
		ctl_fail("%s %s: --%s is required", cmd->word1, cmd->word2, cmd->required);
		return usage(stderr);
	}
	if (c.npos == 1 && strstr(cmd->pos, "ID")) {
		const char *errstr;
		c.id = util_parse_int(c.pos[0], 1, LLONG_MAX, &errstr);
		if (errstr) {
			ctl_fail("%s %s: %s: not an id", cmd->word1, cmd->word2, c.pos[0]);
			return usage(stderr);
		}
	}
	c.config_arg = ctl_opt(&c, "config");
	if (sodium_init() < 0)
		return ctl_fail("libsodium could not be initialised");
	if (config_load(config_path(c.config_arg), &c.cfg, err, sizeof err) < 0) {
		ctl_fail("%s", err);
		/* an MTA keeps the message until the configuration is fixed */
		return cmd->run == cmd_bounce ? EX_CONFIG : 1;
	}
	/*
	 * doctor reports an unreachable database as one of its findings; bounce
	 * tells its MTA to try again (after it has read the message, which may
	 * need no database at all)
	 */
	if ((c.conn = db_connect_once(&c.cfg, "mailproofctl", c.db_err, sizeof c.db_err)) == NULL &&
	    cmd->run != cmd_doctor && cmd->run != cmd_bounce) {
		config_free(&c.cfg);
		return ctl_fail("%s", c.db_err);
	}
	rc = cmd->run(&c);
	PQfinish(c.conn);
	config_free(&c.cfg);
	return rc;
}
