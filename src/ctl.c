/*
 * mailproofctl: the admin CLI.  Commands are a table; each answers a person
 * in aligned text, or a script with --json.  Secrets (API keys, webhook
 * secrets) are printed exactly once, when they are made.  Exit status: 0
 * success, 1 failure (one line on stderr), 2 usage error.
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

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/mailproof"
#endif

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

struct command {
	const char *word1, *word2;
	const char *usage;
	const char *const *valued;	/* options that take a value */
	const char *required;		/* an option that must be given, or NULL */
	const char *pos;		/* the one positional argument: "ID", "NAME", "[ID]"
					   (may be left out) or NULL */
	int (*run)(struct ctx *c);
};

static const char *opt_get(const struct ctx *c, const char *name)
{
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0)
			return c->opts[i].value;
	return NULL;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mailproofctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(v);
	if (s == NULL)
		return fail("out of memory");
	puts(s);
	free(s);
	return 0;
}

/* The text of v, or none when v is -1 (not set). */
static const char *num_text(char buf[NUM_LEN], long long v, const char *none)
{
	if (v < 0)
		return none;
	snprintf(buf, NUM_LEN, "%lld", v);
	return buf;
}

/* A text the JSON shows as null when it is "" (not set). */
static const char *null_if_unset(const char *s)
{
	return *s ? s : NULL;
}

/* A number the JSON shows as null when it is -1 (not set). */
static json_t *int_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

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

static void row_text(struct row *w, const char *key, enum cell_kind kind, const char *text)
{
	w->key[w->n] = key;
	w->kind[w->n] = kind;
	w->text[w->n++] = text;
}

static void row_num(struct row *w, const char *key, long long v)
{
	w->num[w->n] = v;
	row_text(w, key, CELL_NUM, num_text(w->buf[w->n], v, ""));
}

/* The row as a JSON object, or NULL when a value cannot be one (not UTF-8). */
static json_t *row_json(const struct row *w)
{
	json_t *o = json_object();

	for (int j = 0; o && j < w->n; j++) {
		json_t *v = w->kind[j] == CELL_NUM ? int_or_null(w->num[j]) :
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
static void print_table(const PGresult *r, const char *const *heads, int ncols, row_fn *fill)
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
static int print_listing(const struct ctx *c, PGresult *r, const char *const *heads, int ncols,
			 row_fn *fill)
{
	json_t *a;

	if (!c->json) {
		print_table(r, heads, ncols, fill);
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
	return print_json(a);
}

/* A PostgreSQL text[] literal of the values of every --name option. */
static int pg_array(const struct ctx *c, const char *name, struct buf *out)
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

static int url_acceptable(const char *u)
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
		fail("migrate: %s", err);
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
			fail("migrate: the webhook secret of tenant %s cannot be opened with secret_key "
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
			fail("migrate: the webhook secret of tenant %s could not be stored: %s", t.name,
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

static int cmd_migrate(struct ctx *c)
{
	const char *dir = opt_get(c, "sql-dir");
	json_t *applied = json_array();
	char err[512];
	int version, sealed;

	if (dir == NULL)
		dir = PKGDATADIR "/sql";
	if (db_migrate(c->conn, dir, applied, &version, err, sizeof err) < 0) {
		json_decref(applied);
		return fail("migrate: %s", err);
	}
	if ((sealed = seal_webhook_secrets(c)) < 0) {
		json_decref(applied);
		return 1;
	}
	if (c->json)
		return print_json(json_pack("{s:o,s:i,s:i}", "applied", applied, "version", version,
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

/* The brand options given to tenant create or update: -1 after saying what is wrong. */
static int brand_opts(struct ctx *c, const char *cmd, struct brand_values *v)
{
	const struct brand_opts o = {
		opt_get(c, "display-name"), opt_get(c, "support-url"), opt_get(c, "accent-color"),
		opt_get(c, "default-locale"), opt_get(c, "logo")
	};
	char err[512];

	if (brand_check(&o, c->cfg.template_dir, v, err, sizeof err) < 0) {
		brand_free(v);
		fail("%s: %s", cmd, err);
		return -1;
	}
	return 0;
}

/* Stores the brand options of tenant name, when any was given. */
static int brand_store(struct ctx *c, const char *cmd, const char *name,
		       const struct brand_values *v)
{
	char err[512];
	PGresult *r;

	if (!v->display_name && !v->support_url && !v->accent_color && !v->default_locale &&
	    !v->logo)
		return 0;
	if ((r = db_admin_tenant_brand(c->conn, name, v, err, sizeof err)) == NULL) {
		fail("%s: %s", cmd, err);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* A new whsec_ secret in secret (shown once), and in sealed as it is stored. */
static int new_webhook_secret(struct ctx *c, char secret[TOKEN_WHSEC_LEN + 1], struct buf *sealed)
{
	token_webhook_secret(secret);
	return webhook_secret_seal(&c->cfg, secret, sealed);
}

static int cmd_tenant_create(struct ctx *c)
{
	const char *name = opt_get(c, "name"), *hook = opt_get(c, "webhook-url"), *why;
	const char *from = opt_get(c, "mail-from");
	char secret[TOKEN_WHSEC_LEN + 1], err[512] = "the secret could not be sealed";
	struct brand_values brand;
	struct buf allow, sealed;
	long long id;
	PGresult *r;
	int rc = 1;

	if (!util_is_token(name, 64) || name[0] == '.' || name[0] == '-' || name[0] == '_')
		return fail("tenant create: --name must be 1-64 letters, digits, '.', '_' or '-', "
			    "starting with a letter or digit");
	if (hook && !webhook_url_ok(hook, &why))
		return fail("tenant create: --webhook-url: %s", why);
	if (from && !mail_address_valid(from))
		return fail("tenant create: --mail-from must be one address (local@domain)");
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, "redirect-allow") == 0 && !url_acceptable(c->opts[i].value))
			return fail("tenant create: --redirect-allow %s: must be an http:// or "
				    "https:// URL prefix without user name", c->opts[i].value);
	if (brand_opts(c, "tenant create", &brand) < 0)
		return 1;
	buf_init(&allow, 64 * 1024);
	if (pg_array(c, "redirect-allow", &allow) < 0) {
		buf_free(&allow);
		brand_free(&brand);
		return fail("tenant create: too many --redirect-allow prefixes");
	}
	buf_init(&sealed, 256);
	r = new_webhook_secret(c, secret, &sealed) < 0 ? NULL :
	    db_admin_tenant_create(c->conn, name, hook, sealed.data, allow.data, from, err,
				   sizeof err);
	buf_free(&sealed);
	buf_free(&allow);
	if (r == NULL) {
		rc = fail("tenant create: %s", strstr(err, "tenants_name_key") ?
			  "a tenant with that name exists already" : err);
		goto out;
	}
	id = db_admin_id(r);
	PQclear(r);
	if (brand_store(c, "tenant create", name, &brand) < 0)
		goto out;
	if (c->json)
		rc = print_json(json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name,
					  "webhookSecret", secret));
	else {
		printf("tenant created\n  id              %lld\n  name            %s\n"
		       "  webhook secret  %s\n(the secret is shown only now: store it)\n",
		       id, name, secret);
		rc = 0;
	}
out:
	brand_free(&brand);
	sodium_memzero(secret, sizeof secret);
	return rc;
}

static void tenant_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_tenant t;

	db_admin_tenant(r, i, &t);
	row_num(out, "id", t.id);
	row_text(out, "name", CELL_TEXT, t.name);
	row_text(out, "webhookUrl", CELL_OPT_TEXT, t.webhook_url);
	row_text(out, "redirectAllow", CELL_TEXT, t.redirect_allow);
	row_num(out, "activeKeys", t.active_keys);
	row_text(out, "createdAt", CELL_TEXT, t.created_at);
}

static int cmd_tenant_list(struct ctx *c)
{
	static const char *const heads[] = { "ID", "NAME", "WEBHOOK URL", "REDIRECT ALLOW",
					     "KEYS", "CREATED" };
	char err[512];
	PGresult *r = db_admin_tenants(c->conn, NULL, err, sizeof err);

	if (r == NULL)
		return fail("tenant list: %s", err);
	return print_listing(c, r, heads, 6, tenant_row);
}

/*
 * The --name and --locale of a template command: a name mailproof renders,
 * and "" (every language) or a language it has, in its canonical form.
 */
static int template_args(struct ctx *c, const char *cmd, const char **name,
			 char locale[LOCALE_TAG_MAX])
{
	const char *l = opt_get(c, "locale");

	*name = opt_get(c, "name");
	if (*name == NULL || !template_check_name(*name))
		return fail("%s: --name must be one of: %s", cmd, template_check_names);
	locale[0] = '\0';
	if (l && *l && (locale_canonical(l, locale) < 0 ||
			!catalog_exists(c->cfg.template_dir, locale)))
		return fail("%s: --locale must be a language mailproof has (a directory of %s with "
			    "messages.txt, such as de or pt-BR), or '' for every language", cmd,
			    c->cfg.template_dir);
	return 0;
}

/* Reads --file and checks it as template name; 0, or 1 after saying why not. */
static int template_file(struct ctx *c, const char *cmd, const char *name, struct buf *body)
{
	const char *file = opt_get(c, "file");
	char chain[1][LOCALE_TAG_MAX] = { "en" }, err[600];
	struct catalog en;
	int rc;

	if (file == NULL)
		return fail("%s: --file is required", cmd);
	if (buf_read_file(body, file, err, sizeof err) < 0)
		return fail("%s: --file %s", cmd, err);
	if (catalog_load(&en, c->cfg.template_dir, chain, 1, err, sizeof err) < 0) {
		catalog_free(&en);
		return fail("%s: %s", cmd, err);
	}
	rc = template_check(name, body->data ? body->data : "", body->len, &en, err, sizeof err);
	catalog_free(&en);
	return rc < 0 ? fail("%s: %s: %s", cmd, file, err) : 0;
}

static int cmd_template_set(struct ctx *c)
{
	const char *name, *tenant = opt_get(c, "tenant");
	char locale[LOCALE_TAG_MAX], err[512];
	struct buf body;
	PGresult *r;
	int rc = 1;

	if (template_args(c, "template set", &name, locale))
		return 1;
	buf_init(&body, TEMPLATE_CHECK_MAX);
	if (template_file(c, "template set", name, &body))
		goto out;
	if ((r = db_admin_template_set(c->conn, tenant, name, locale, body.data, err,
				       sizeof err)) == NULL) {
		rc = fail("template set: %s", err);
		goto out;
	}
	rc = db_admin_id(r) < 0 ? fail("template set: no tenant named '%s'", tenant) : 0;
	PQclear(r);
	if (rc == 0 && c->json)
		rc = print_json(json_pack("{s:s,s:s,s:s,s:I}", "tenant", tenant, "name", name,
					  "locale", locale, "bytes", (json_int_t)body.len));
	else if (rc == 0)
		printf("template %s%s%s of %s set (%zu bytes)\n", name, *locale ? " for " : "",
		       locale, tenant, body.len);
out:
	buf_free(&body);
	return rc;
}

static void template_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_template t;

	db_admin_template(r, i, &t);
	row_text(out, "name", CELL_TEXT, t.name);
	row_text(out, "locale", CELL_OPT_TEXT, *t.locale ? t.locale : "");
	row_num(out, "bytes", t.bytes);
	row_text(out, "updatedAt", CELL_TEXT, t.updated_at);
}

static int cmd_template_list(struct ctx *c)
{
	static const char *const heads[] = { "NAME", "LOCALE", "BYTES", "UPDATED" };
	char err[512];
	PGresult *r = db_admin_templates(c->conn, opt_get(c, "tenant"), NULL, err, sizeof err);

	if (r == NULL)
		return fail("template list: %s", err);
	return print_listing(c, r, heads, 4, template_row);
}

static int cmd_template_show(struct ctx *c)
{
	const char *name;
	char locale[LOCALE_TAG_MAX], err[512];
	struct db_admin_template t;
	PGresult *r;
	int rc = 1;

	if (template_args(c, "template show", &name, locale))
		return 1;
	if ((r = db_admin_templates(c->conn, opt_get(c, "tenant"), name, err, sizeof err)) == NULL)
		return fail("template show: %s", err);
	for (int i = 0; i < PQntuples(r); i++) {
		db_admin_template(r, i, &t);
		if (strcmp(t.locale, locale) != 0)
			continue;
		rc = c->json ? print_json(json_pack("{s:s,s:s,s:s}", "name", t.name, "locale",
						    t.locale, "body", t.body))
			     : (fputs(t.body, stdout), 0);
	}
	PQclear(r);
	return rc == 1 ? fail("template show: %s has no template %s%s%s", opt_get(c, "tenant"),
			      name, *locale ? " for " : " for every language", locale) : rc;
}

static int cmd_template_delete(struct ctx *c)
{
	const char *name;
	char locale[LOCALE_TAG_MAX], err[512];
	PGresult *r;
	int found;

	if (template_args(c, "template delete", &name, locale))
		return 1;
	if ((r = db_admin_template_delete(c->conn, opt_get(c, "tenant"), name, locale, err,
					  sizeof err)) == NULL)
		return fail("template delete: %s", err);
	found = db_admin_id(r) >= 0;
	PQclear(r);
	if (!found)
		return fail("template delete: %s has no template %s%s%s", opt_get(c, "tenant"), name,
			    *locale ? " for " : " for every language", locale);
	if (c->json)
		return print_json(json_pack("{s:s,s:s,s:b}", "name", name, "locale", locale,
					    "deleted", 1));
	printf("template %s%s%s deleted\n", name, *locale ? " for " : "", locale);
	return 0;
}

/* Writes text to --out, or to stdout. */
static int write_out(struct ctx *c, const char *cmd, const struct buf *text)
{
	const char *path = opt_get(c, "out");
	FILE *f = path ? fopen(path, "w") : stdout;
	int bad;

	if (f == NULL)
		return fail("%s: --out %s: %s", cmd, path, strerror(errno));
	bad = fwrite(text->data ? text->data : "", 1, text->len, f) != text->len;
	if (path)
		bad |= fclose(f) != 0;
	return bad ? fail("%s: could not write %s", cmd, path ? path : "the output") : 0;
}

static int cmd_template_preview(struct ctx *c)
{
	const char *name, *tenant = opt_get(c, "tenant");
	char locale[LOCALE_TAG_MAX], err[600];
	struct template_custom *t = NULL;
	struct buf body, out;
	struct mail_brand brand;
	PGresult *look = NULL, *r = NULL;
	int rc = 1, n;

	if (template_args(c, "template preview", &name, locale))
		return 1;
	buf_init(&body, TEMPLATE_CHECK_MAX);
	buf_init(&out, 1024 * 1024);
	if (opt_get(c, "file") && template_file(c, "template preview", name, &body))
		goto out;
	if ((look = db_admin_tenant_look(c->conn, tenant, err, sizeof err)) == NULL ||
	    (r = db_admin_templates(c->conn, tenant, NULL, err, sizeof err)) == NULL) {
		rc = fail("template preview: %s", err);
		goto out;
	}
	if (PQntuples(look) != 1) {
		rc = fail("template preview: no tenant named '%s'", tenant);
		goto out;
	}
	db_mail_brand(look, 0, 0, &brand);
	n = PQntuples(r);
	if ((t = calloc((size_t)n + 1, sizeof *t)) == NULL) {
		rc = fail("template preview: out of memory");
		goto out;
	}
	/* the file, when given, stands first: it is what the tenant wants to see */
	if (body.data)
		t[brand.ntemplates++] = (struct template_custom){ name, locale, body.data };
	for (int i = 0; i < n; i++) {
		struct db_admin_template x;
		db_admin_template(r, i, &x);
		if (!body.data || strcmp(x.name, name) != 0 || strcmp(x.locale, locale) != 0)
			t[brand.ntemplates++] = (struct template_custom){ x.name, x.locale, x.body };
	}
	brand.templates = t;
	if (preview_render(&c->cfg, name, *locale ? locale : PQgetvalue(look, 0, 7), &brand, &out,
			   err, sizeof err) < 0)
		rc = fail("template preview: %s", err);
	else
		rc = write_out(c, "template preview", &out);
out:
	free(t);
	PQclear(look);
	PQclear(r);
	buf_free(&body);
	buf_free(&out);
	return rc;
}

static int cmd_doctor(struct ctx *c)
{
	int bad = doctor_run(&c->cfg, config_path(c->config_arg), c->conn, c->db_err, stdout);

	if (bad)
		printf("%d check%s failed\n", bad, bad == 1 ? "" : "s");
	else
		printf("all checks passed\n");
	return bad ? 1 : 0;
}

/* A real mail through the configured SMTP server, from the tenant's sender when given. */
static int cmd_send_test(struct ctx *c)
{
	const char *to = opt_get(c, "to"), *tenant = opt_get(c, "tenant"), *from;
	char host[256], err[512], text[512];
	struct smtp_result res;
	struct mail_msg m;
	struct buf msg;
	PGresult *r = NULL;
	int rc;

	if (!mail_address_valid(to))
		return fail("send-test: --to must be one address (local@domain)");
	from = c->cfg.mail_from;
	if (tenant) {
		if ((r = db_admin_tenants(c->conn, tenant, err, sizeof err)) == NULL)
			return fail("send-test: %s", err);
		if (PQntuples(r) != 1) {
			PQclear(r);
			return fail("send-test: no tenant named '%s'", tenant);
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
		return fail("send-test: the message could not be built");
	}
	smtp_send(&c->cfg, from, to, msg.data, NULL, &res);
	buf_free(&msg);
	PQclear(r);
	if (c->json)
		return print_json(json_pack("{s:b,s:i,s:s,s:s}", "sent", res.ok, "smtpCode", res.code,
					    "smtpReply", res.reply, "from", from)) || !res.ok;
	printf("%s from %s to %s via %s:%d: %d %s\n", res.ok ? "sent" : "NOT sent", from, to,
	       c->cfg.smtp_host, c->cfg.smtp_port, res.code, res.reply);
	rc = res.ok ? 0 : 1;
	return rc;
}

static int cmd_key_create(struct ctx *c)
{
	const char *tenant = opt_get(c, "tenant"), *scopes = opt_get(c, "scopes");
	char key[TOKEN_API_KEY_LEN + 1], hex[TOKEN_HASH_HEX_LEN], prefix[16];
	char err[512], arr[128], names[96];
	unsigned bits;
	long long id;
	PGresult *r;
	int rc = 1;

	if (scopes == NULL)
		scopes = "verifications:write,verifications:check,verifications:read";
	if (scope_parse(scopes, &bits) < 0)
		return fail("key create: --scopes: use a comma list of verifications:write, "
			    "verifications:check, verifications:read");
	scope_format(bits, names, sizeof names);
	snprintf(arr, sizeof arr, "{%s}", names);
	token_api_key(key);
	token_hash_hex(c->cfg.secret_key, "apikey", key, NULL, hex);
	snprintf(prefix, sizeof prefix, "%.12s", key);
	if ((r = db_admin_key_create(c->conn, tenant, hex, prefix, arr, err, sizeof err)) == NULL) {
		rc = fail("key create: %s", err);
		goto out;
	}
	id = db_admin_id(r);
	PQclear(r);
	/* the scopes shown are names, which the key's text[] holds as given */
	if (id < 0) {
		rc = fail("key create: no tenant named '%s'", tenant);
	} else if (c->json) {
		json_t *sc = json_array();
		for (const char *p = names; *p;) {
			size_t n = strcspn(p, ",");
			json_array_append_new(sc, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		rc = print_json(json_pack("{s:I,s:s,s:o}", "id", (json_int_t)id, "key", key,
					  "scopes", sc));
	} else {
		printf("key created\n  id      %lld\n  tenant  %s\n  scopes  %s\n  key     %s\n"
		       "(the key is shown only now: store it)\n", id, tenant, names, key);
		rc = 0;
	}
out:
	sodium_memzero(key, sizeof key);
	return rc;
}

static void key_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_key k;

	db_admin_key(r, i, &k);
	row_num(out, "id", k.id);
	row_text(out, "tenant", CELL_TEXT, k.tenant);
	row_text(out, "prefix", CELL_TEXT, k.prefix);
	row_text(out, "scopes", CELL_TEXT, k.scopes);
	row_text(out, "createdAt", CELL_TEXT, k.created_at);
	row_text(out, "revokedAt", CELL_OPT_TEXT, k.revoked_at);
	row_text(out, "lastUsedAt", CELL_OPT_TEXT, k.last_used_at);
	row_num(out, "requests", k.requests);
}

static int cmd_key_list(struct ctx *c)
{
	static const char *const heads[] = { "ID", "TENANT", "PREFIX", "SCOPES", "CREATED",
					     "REVOKED", "LAST USED", "REQUESTS" };
	char err[512];
	PGresult *r = db_admin_key_list(c->conn, opt_get(c, "tenant"), err, sizeof err);

	if (r == NULL)
		return fail("key list: %s", err);
	return print_listing(c, r, heads, 8, key_row);
}

static int cmd_key_revoke(struct ctx *c)
{
	char err[512];
	int was;
	PGresult *r;

	if ((r = db_admin_key_revoke(c->conn, c->pos[0], err, sizeof err)) == NULL)
		return fail("key revoke: %s", err);
	was = db_admin_was_revoked(r);
	PQclear(r);
	if (was < 0)
		return fail("key revoke: no key with id %s", c->pos[0]);
	if (c->json)
		return print_json(json_pack("{s:I,s:b,s:b}", "id", (json_int_t)c->id, "revoked", 1,
					    "alreadyRevoked", was));
	printf(was ? "key %s was already revoked\n" : "key %s revoked\n", c->pos[0]);
	return 0;
}

static int cmd_tenant_show(struct ctx *c)
{
	char err[512], quota[NUM_LEN], hour[NUM_LEN], minute[NUM_LEN], cip[NUM_LEN], cnet[NUM_LEN];
	char caddr[NUM_LEN];
	PGresult *r = db_admin_tenants(c->conn, c->pos[0], err, sizeof err);
	struct db_admin_tenant t;
	int rc = 0;

	if (r == NULL)
		return fail("tenant show: %s", err);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return fail("tenant show: no tenant named '%s'", c->pos[0]);
	}
	db_admin_tenant(r, 0, &t);
	if (c->json) {
		rc = print_json(json_pack("{s:I,s:s,s:s?,s:b,s:s?,s:s,s:o,s:o,s:o,s:I,s:s,s:s?,"
					  "s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:o,s:o,s:o,s:o,s:s?}",
			"id", (json_int_t)t.id, "name", t.name,
			"webhookUrl", null_if_unset(t.webhook_url),
			"webhookEnabled", *t.webhook_disabled_at == '\0',
			"webhookDisabledAt", null_if_unset(t.webhook_disabled_at),
			"redirectAllow", t.redirect_allow, "monthlyQuota", int_or_null(t.monthly_quota),
			"ratePerEmailPerHour", int_or_null(t.rate_per_email_per_hour),
			"ratePerKeyPerMinute", int_or_null(t.rate_per_key_per_minute),
			"activeKeys", (json_int_t)t.active_keys, "createdAt", t.created_at,
			"mailFrom", null_if_unset(t.mail_from),
			"displayName", null_if_unset(t.display_name),
			"supportUrl", null_if_unset(t.support_url),
			"accentColor", null_if_unset(t.accent_color),
			"defaultLocale", null_if_unset(t.default_locale),
			"logoType", null_if_unset(t.logo_type), "logoBytes", (json_int_t)t.logo_bytes,
			"ratePerClientIpPerHour", int_or_null(t.rate_per_client_ip_per_hour),
			"ratePerClientNetworkPerHour", int_or_null(t.rate_per_client_network_per_hour),
			"addressesPerClientIpPerDay", int_or_null(t.addresses_per_client_ip_per_day),
			"requireClientIp", *t.require_client_ip ?
				json_boolean(strcmp(t.require_client_ip, "true") == 0) : json_null(),
			"resendPolicy", null_if_unset(t.resend_policy)));
	} else {
		printf("id                       %lld\nname                     %s\n"
		       "webhook url              %s\nwebhooks                 %s%s%s\n"
		       "redirect allow           %s\nmonthly quota            %s\n"
		       "rate per email per hour  %s\nrate per key per minute  %s\n"
		       "active keys              %lld\ncreated                  %s\n"
		       "mail from                %s\ndisplay name             %s\n"
		       "support                  %s\naccent colour            %s\n"
		       "default locale           %s\nlogo                     %s%s%lld%s\n"
		       "client ip per hour       %s\nclient network per hour  %s\n"
		       "addresses per client/day %s\nrequire client ip        %s\n"
		       "resend policy            %s\n",
		       t.id, t.name, *t.webhook_url ? t.webhook_url : "(none)",
		       *t.webhook_disabled_at ? "DISABLED since " : "enabled", t.webhook_disabled_at,
		       *t.webhook_disabled_at ? " (410 Gone; set --webhook-url to enable)" : "",
		       *t.redirect_allow ? t.redirect_allow : "(none)",
		       num_text(quota, t.monthly_quota, "(none)"),
		       num_text(hour, t.rate_per_email_per_hour, "(configured default)"),
		       num_text(minute, t.rate_per_key_per_minute, "(configured default)"),
		       t.active_keys, t.created_at, *t.mail_from ? t.mail_from : "(configured mail_from)",
		       *t.display_name ? t.display_name : "(the name)",
		       *t.support_url ? t.support_url : "(none)",
		       *t.accent_color ? t.accent_color : "(default)",
		       *t.default_locale ? t.default_locale : "(en)",
		       *t.logo_type ? t.logo_type : "(none)", t.logo_bytes ? ", " : "",
		       t.logo_bytes, t.logo_bytes ? " bytes" : "",
		       num_text(cip, t.rate_per_client_ip_per_hour, "(configured default)"),
		       num_text(cnet, t.rate_per_client_network_per_hour, "(configured default)"),
		       num_text(caddr, t.addresses_per_client_ip_per_day, "(configured default)"),
		       *t.require_client_ip ? t.require_client_ip : "(configured default)",
		       *t.resend_policy ? t.resend_policy : "(configured default)");
	}
	PQclear(r);
	return rc;
}

/* "24h", "90m", "2d", "3600s" or "3600" as seconds, at most max; -1 when malformed. */
static long duration_s(const char *s, long max)
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

static int cmd_tenant_rotate(struct ctx *c)
{
	const char *overlap = opt_get(c, "overlap");
	char secret[TOKEN_WHSEC_LEN + 1], secs[NUM_LEN], err[512] = "the secret could not be sealed";
	long s = overlap ? duration_s(overlap, 2592000) : 86400;
	struct buf sealed;
	PGresult *r;
	int rc = 1;

	if (s < 0)
		return fail("tenant rotate-secret: --overlap must be a duration such as 24h, 90m, 2d "
			    "or 0, at most 30 days");
	snprintf(secs, sizeof secs, "%ld", s);
	buf_init(&sealed, 256);
	r = new_webhook_secret(c, secret, &sealed) < 0 ? NULL :
	    db_admin_tenant_rotate(c->conn, c->pos[0], sealed.data, secs, err, sizeof err);
	buf_free(&sealed);
	if (r == NULL) {
		rc = fail("tenant rotate-secret: %s", err);
		goto out;
	}
	if (db_admin_id(r) < 0)
		rc = fail("tenant rotate-secret: no tenant named '%s'", c->pos[0]);
	else if (c->json)
		rc = print_json(json_pack("{s:s,s:s,s:s?}", "name", c->pos[0], "webhookSecret", secret,
					  "previousSignsUntil", null_if_unset(PQgetvalue(r, 0, 1))));
	else {
		printf("new webhook secret of %s  %s\n(shown only now: store it)\n", c->pos[0], secret);
		if (*PQgetvalue(r, 0, 1))
			printf("the old secret signs too until %s\n", PQgetvalue(r, 0, 1));
		rc = 0;
	}
	PQclear(r);
out:
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* Checks that an override is "" (remove) or a whole number >= 0. */
static int override_ok(const char *v)
{
	const char *errstr;

	if (v == NULL || *v == '\0')
		return 1;
	util_parse_int(v, 0, 1000000000, &errstr);
	return errstr == NULL;
}

static int cmd_tenant_update(struct ctx *c)
{
	const char *hook = opt_get(c, "webhook-url"), *why;
	const char *quota = opt_get(c, "monthly-quota");
	const char *hour = opt_get(c, "rate-per-email-per-hour");
	const char *minute = opt_get(c, "rate-per-key-per-minute");
	const char *from = opt_get(c, "mail-from");
	const char *ip_hour = opt_get(c, "rate-per-client-ip-per-hour");
	const char *net_hour = opt_get(c, "rate-per-client-network-per-hour");
	const char *addr_day = opt_get(c, "addresses-per-client-ip-per-day");
	const char *require = opt_get(c, "require-client-ip");
	const char *policy = opt_get(c, "resend-policy");
	struct brand_values brand;
	struct buf allow;
	char err[512];
	PGresult *r;
	int found, stored;

	if (hook && *hook && !webhook_url_ok(hook, &why))
		return fail("tenant update: --webhook-url: %s", why);
	if (from && *from && !mail_address_valid(from))
		return fail("tenant update: --mail-from must be one address (local@domain)");
	if (!override_ok(quota) || !override_ok(hour) || !override_ok(minute) ||
	    !override_ok(ip_hour) || !override_ok(net_hour) || !override_ok(addr_day))
		return fail("tenant update: quotas and rates are whole numbers, or '' to remove");
	if (require && *require && strcmp(require, "true") != 0 && strcmp(require, "false") != 0)
		return fail("tenant update: --require-client-ip must be true, false, or '' to remove");
	if (policy && *policy && strcmp(policy, "new_code") != 0 && strcmp(policy, "same_code") != 0)
		return fail("tenant update: --resend-policy must be new_code, same_code, or '' to "
			    "remove");
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, "redirect-allow") == 0 && !url_acceptable(c->opts[i].value))
			return fail("tenant update: --redirect-allow %s: must be an http:// or "
				    "https:// URL prefix without user name", c->opts[i].value);
	if (brand_opts(c, "tenant update", &brand) < 0)
		return 1;
	buf_init(&allow, 64 * 1024);
	if (opt_get(c, "redirect-allow") && pg_array(c, "redirect-allow", &allow) < 0) {
		buf_free(&allow);
		brand_free(&brand);
		return fail("tenant update: too many --redirect-allow prefixes");
	}
	r = db_admin_tenant_update(c->conn, c->pos[0], hook, allow.data, quota, hour, minute, from,
				   err, sizeof err);
	buf_free(&allow);
	if (r == NULL) {
		brand_free(&brand);
		return fail("tenant update: %s", err);
	}
	found = db_admin_id(r) >= 0;
	PQclear(r);
	if (found && (ip_hour || net_hour || addr_day || require || policy)) {
		if ((r = db_admin_tenant_overrides(c->conn, c->pos[0], ip_hour, net_hour, addr_day,
						   require, policy, err, sizeof err)) == NULL) {
			brand_free(&brand);
			return fail("tenant update: %s", err);
		}
		PQclear(r);
	}
	stored = found ? brand_store(c, "tenant update", c->pos[0], &brand) : 0;
	brand_free(&brand);
	if (!found)
		return fail("tenant update: no tenant named '%s'", c->pos[0]);
	return stored < 0 ? 1 : cmd_tenant_show(c);
}

static void event_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_event e;

	db_admin_event(r, i, &e);
	row_num(out, "id", e.id);
	row_text(out, "eventId", CELL_TEXT, e.event_id);
	row_text(out, "tenant", CELL_TEXT, e.tenant);
	row_text(out, "type", CELL_TEXT, e.type);
	row_text(out, "state", CELL_TEXT, e.state);
	row_num(out, "attempts", e.attempts);
	row_text(out, "runAt", CELL_TEXT, e.run_at);
	row_num(out, "lastStatus", e.last_status);
	row_text(out, "lastError", CELL_OPT_TEXT, e.last_error);
}

static int cmd_outbox_list(struct ctx *c)
{
	static const char *const heads[] = { "ID", "EVENT", "TENANT", "TYPE", "STATE", "ATTEMPTS",
					     "NEXT RUN", "LAST STATUS", "LAST ERROR" };
	const char *limit = opt_get(c, "limit"), *errstr;
	char err[512];
	PGresult *r;

	if (limit == NULL)
		limit = "50";
	util_parse_int(limit, 1, 10000, &errstr);
	if (errstr)
		return fail("outbox list: --limit must be 1 to 10000");
	r = db_admin_outbox_list(c->conn, opt_get(c, "state"), opt_get(c, "tenant"), limit, err,
				 sizeof err);
	if (r == NULL)
		return fail("outbox list: %s", err);
	return print_listing(c, r, heads, 9, event_row);
}

/* outbox retry --state dead|skipped [--tenant NAME] [--since 2h|TIME]: after an outage. */
static int outbox_retry_all(struct ctx *c)
{
	const char *state = opt_get(c, "state"), *tenant = opt_get(c, "tenant");
	const char *since = opt_get(c, "since"), *since_time = NULL;
	char err[512], secs[24], *p_secs = NULL;
	long long n;
	long s;
	PGresult *r;

	if (state == NULL || (strcmp(state, "dead") != 0 && strcmp(state, "skipped") != 0))
		return fail("outbox retry: give an event ID, or --state dead or --state skipped");
	if (since && (s = duration_s(since, 2592000)) >= 0) {
		snprintf(secs, sizeof secs, "%ld", s);
		p_secs = secs;
	} else {
		since_time = since;
	}
	r = db_admin_outbox_retry_all(c->conn, state, tenant, p_secs, since_time, err, sizeof err);
	if (r == NULL)
		return fail("outbox retry: %s%s", since_time ? "--since: a duration such as 2h, or "
			    "a time such as '2026-11-30 10:00': " : "", err);
	n = db_int(r, 0, LLONG_MAX, -1);
	PQclear(r);
	if (n < 0)
		return fail("outbox retry: no tenant named '%s'", tenant);
	if (c->json)
		return print_json(json_pack("{s:s,s:I}", "was", state, "retried", (json_int_t)n));
	printf("%lld %s event%s pending again; they will be delivered shortly\n", n, state,
	       n == 1 ? " is" : "s are");
	return 0;
}

static int cmd_outbox_retry(struct ctx *c)
{
	char err[512];
	PGresult *r;
	const char *state;
	char before[16];

	if (c->npos == 0)
		return outbox_retry_all(c);
	if (opt_get(c, "state") || opt_get(c, "tenant") || opt_get(c, "since"))
		return fail("outbox retry: an event ID, or --state with --tenant and --since; "
			    "not both");
	if ((r = db_admin_outbox_retry(c->conn, c->pos[0], err, sizeof err)) == NULL)
		return fail("outbox retry: %s", err);
	if ((state = db_admin_state_before(r)) == NULL) {
		PQclear(r);
		return fail("outbox retry: no event with id %s", c->pos[0]);
	}
	snprintf(before, sizeof before, "%s", state);
	PQclear(r);
	if (strcmp(before, "dead") != 0 && strcmp(before, "skipped") != 0)
		return fail("outbox retry: event %s is %s, not dead or skipped", c->pos[0], before);
	if (c->json)
		return print_json(json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->id, "was", before,
					    "state", "pending"));
	printf("event %s was %s; it is pending again and will be delivered shortly\n", c->pos[0],
	       before);
	return 0;
}

static void count_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_count n;

	db_admin_count(r, i, &n);
	row_text(out, "kind", CELL_TEXT, n.kind);
	row_text(out, "state", CELL_TEXT, n.state);
	row_num(out, "count", n.count);
}

static void suppression_row(const PGresult *r, int i, struct row *out)
{
	struct db_admin_suppression x;

	db_admin_suppression(r, i, &x);
	row_text(out, "tenant", CELL_TEXT, x.tenant);
	row_text(out, "email", CELL_TEXT, x.email);
	row_text(out, "reason", CELL_TEXT, x.reason);
	row_text(out, "note", CELL_OPT_TEXT, x.note);
	row_text(out, "createdAt", CELL_TEXT, x.created_at);
	row_text(out, "expiresAt", CELL_OPT_TEXT, x.expires_at);
}

static int cmd_suppression_list(struct ctx *c)
{
	static const char *const heads[] = { "TENANT", "EMAIL", "REASON", "NOTE", "SINCE",
					     "EXPIRES" };
	char err[512];
	PGresult *r = db_admin_suppression_list(c->conn, opt_get(c, "tenant"), err, sizeof err);

	if (r == NULL)
		return fail("suppression list: %s", err);
	return print_listing(c, r, heads, 6, suppression_row);
}

/* --email, which suppression add and remove need: NULL after saying what is wrong. */
static const char *suppression_email(struct ctx *c, const char *cmd)
{
	const char *email = opt_get(c, "email");

	if (email == NULL || !mail_address_valid(email)) {
		fail("suppression %s: --email must be one address (local@domain)", cmd);
		return NULL;
	}
	return email;
}

static int cmd_suppression_add(struct ctx *c)
{
	const char *email = suppression_email(c, "add"), *expires = opt_get(c, "expires");
	const char *note = opt_get(c, "note"), *tenant = opt_get(c, "tenant");
	char err[512], secs[NUM_LEN];
	long s = 0;
	PGresult *r;

	if (email == NULL)
		return 1;
	if (expires && (s = duration_s(expires, 10L * 365 * 86400)) <= 0)
		return fail("suppression add: --expires must be a duration such as 30d, 12h or 90m, "
			    "at most ten years");
	if (note && (strlen(note) > 200 || !util_no_controls(note)))
		return fail("suppression add: --note must be at most 200 characters, on one line");
	snprintf(secs, sizeof secs, "%ld", s);
	if ((r = db_admin_suppression_add(c->conn, tenant, email, expires ? secs : NULL, note, err,
					  sizeof err)) == NULL)
		return fail("suppression add: %s", err);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return fail("suppression add: no tenant named '%s'", tenant);
	}
	if (c->json)
		print_json(json_pack("{s:s,s:s,s:s?}", "tenant", tenant, "email", email, "expiresAt",
				     null_if_unset(db_get_text(r, 0, 0))));
	else if (expires)
		printf("%s will get no mail from %s until %s\n", email, tenant, db_get_text(r, 0, 0));
	else
		printf("%s will get no mail from %s\n", email, tenant);
	PQclear(r);
	return 0;
}

static int cmd_suppression_remove(struct ctx *c)
{
	const char *email = suppression_email(c, "remove"), *tenant = opt_get(c, "tenant");
	char err[512];
	long long removed;
	int found;
	PGresult *r;

	if (email == NULL)
		return 1;
	if ((r = db_admin_suppression_remove(c->conn, tenant, email, err, sizeof err)) == NULL)
		return fail("suppression remove: %s", err);
	found = db_get_text(r, 0, 0)[0] == 't';
	removed = db_get_int(r, 0, 1, 0, 1, 0);
	PQclear(r);
	if (!found)
		return fail("suppression remove: no tenant named '%s'", tenant);
	if (c->json)
		return print_json(json_pack("{s:s,s:s,s:b}", "tenant", tenant, "email", email,
					    "removed", (int)removed));
	printf(removed ? "%s may get mail from %s again\n" : "%s was not on the list of %s\n",
	       email, tenant);
	return 0;
}

static int cmd_stats(struct ctx *c)
{
	static const char *const heads[] = { "KIND", "STATE", "COUNT" };
	char err[512];
	PGresult *r = db_admin_stats(c->conn, opt_get(c, "tenant"), err, sizeof err);
	json_t *o;

	if (r == NULL)
		return fail("stats: %s", err);
	if (!c->json) {
		print_table(r, heads, 3, count_row);
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
	return print_json(o);
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
				return fail("too many options"), 2;
			o = &c.opts[c.nopts++];
			o->name = a + 2;
			if ((eq = strchr(a, '=')) != NULL) {
				*eq = '\0';
				o->value = eq + 1;
			} else if (i + 1 < argc) {
				o->value = argv[++i];
			}
			if (!is_valued(cmd, o->name)) {
				fail("unknown option --%s", o->name);
				return usage(stderr);
			}
			if (o->value == NULL)
				return fail("--%s needs a value", o->name), 2;
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
			fail("unknown command '%s%s%s'", words[0], words[1] ? " " : "",
			     words[1] ? words[1] : "");
		return usage(stderr);
	}
	if (cmd->required && opt_get(&c, cmd->required) == NULL) {
		fail("%s %s: --%s is required", cmd->word1, cmd->word2, cmd->required);
		return usage(stderr);
	}
	if (c.npos == 1 && strstr(cmd->pos, "ID")) {
		const char *errstr;
		c.id = util_parse_int(c.pos[0], 1, LLONG_MAX, &errstr);
		if (errstr) {
			fail("%s %s: %s: not an id", cmd->word1, cmd->word2, c.pos[0]);
			return usage(stderr);
		}
	}
	c.config_arg = opt_get(&c, "config");
	if (sodium_init() < 0)
		return fail("libsodium could not be initialised");
	if (config_load(config_path(c.config_arg), &c.cfg, err, sizeof err) < 0)
		return fail("%s", err);
	/* doctor reports an unreachable database as one of its findings */
	if ((c.conn = db_connect_once(&c.cfg, "mailproofctl", c.db_err, sizeof c.db_err)) == NULL &&
	    cmd->run != cmd_doctor) {
		config_free(&c.cfg);
		return fail("%s", c.db_err);
	}
	rc = cmd->run(&c);
	PQfinish(c.conn);
	config_free(&c.cfg);
	return rc;
}
