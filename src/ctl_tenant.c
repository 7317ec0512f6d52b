/* mailproofctl: tenants, their API keys and their templates (see ctl.h). */
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

/* The brand options given to tenant create or update: -1 after saying what is wrong. */
static int brand_opts(struct ctx *c, const char *cmd, struct brand_values *v)
{
	const struct brand_opts o = {
		ctl_opt(c, "display-name"), ctl_opt(c, "support-url"), ctl_opt(c, "accent-color"),
		ctl_opt(c, "default-locale"), ctl_opt(c, "logo")
	};
	char err[512];

	if (brand_check(&o, c->cfg.template_dir, v, err, sizeof err) < 0) {
		brand_free(v);
		ctl_fail("%s: %s", cmd, err);
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
		ctl_fail("%s: %s", cmd, err);
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

int cmd_tenant_create(struct ctx *c)
{
	const char *name = ctl_opt(c, "name"), *hook = ctl_opt(c, "webhook-url"), *why;
	const char *from = ctl_opt(c, "mail-from");
	char secret[TOKEN_WHSEC_LEN + 1], err[512] = "the secret could not be sealed";
	struct brand_values brand;
	struct buf allow, sealed;
	long long id;
	PGresult *r;
	int rc = 1;

	if (!util_is_token(name, 64) || name[0] == '.' || name[0] == '-' || name[0] == '_')
		return ctl_fail("tenant create: --name must be 1-64 letters, digits, '.', '_' or '-', "
			    "starting with a letter or digit");
	if (hook && !webhook_url_ok(hook, &why))
		return ctl_fail("tenant create: --webhook-url: %s", why);
	if (from && !mail_address_valid(from))
		return ctl_fail("tenant create: --mail-from must be one address (local@domain)");
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, "redirect-allow") == 0 && !ctl_url_acceptable(c->opts[i].value))
			return ctl_fail("tenant create: --redirect-allow %s: must be an http:// or "
				    "https:// URL prefix without user name", c->opts[i].value);
	if (brand_opts(c, "tenant create", &brand) < 0)
		return 1;
	buf_init(&allow, 64 * 1024);
	if (ctl_pg_array(c, "redirect-allow", &allow) < 0) {
		buf_free(&allow);
		brand_free(&brand);
		return ctl_fail("tenant create: too many --redirect-allow prefixes");
	}
	buf_init(&sealed, 256);
	r = new_webhook_secret(c, secret, &sealed) < 0 ? NULL :
	    db_admin_tenant_create(c->conn, name, hook, sealed.data, allow.data, from, err,
				   sizeof err);
	buf_free(&sealed);
	buf_free(&allow);
	if (r == NULL) {
		rc = ctl_fail("tenant create: %s", strstr(err, "tenants_name_key") ?
			  "a tenant with that name exists already" : err);
		goto out;
	}
	id = db_admin_id(r);
	PQclear(r);
	if (brand_store(c, "tenant create", name, &brand) < 0)
		goto out;
	if (c->json)
		rc = ctl_print_json(json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", name,
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
	ctl_row_num(out, "id", t.id);
	ctl_row_text(out, "name", CELL_TEXT, t.name);
	ctl_row_text(out, "webhookUrl", CELL_OPT_TEXT, t.webhook_url);
	ctl_row_text(out, "redirectAllow", CELL_TEXT, t.redirect_allow);
	ctl_row_num(out, "activeKeys", t.active_keys);
	ctl_row_text(out, "createdAt", CELL_TEXT, t.created_at);
}

int cmd_tenant_list(struct ctx *c)
{
	static const char *const heads[] = { "ID", "NAME", "WEBHOOK URL", "REDIRECT ALLOW",
					     "KEYS", "CREATED" };
	char err[512];
	PGresult *r = db_admin_tenants(c->conn, NULL, err, sizeof err);

	if (r == NULL)
		return ctl_fail("tenant list: %s", err);
	return ctl_print_listing(c, r, heads, 6, tenant_row);
}

/*
 * The --name and --locale of a template command: a name mailproof renders,
 * and "" (every language) or a language it has, in its canonical form.
 */
static int template_args(struct ctx *c, const char *cmd, const char **name,
			 char locale[LOCALE_TAG_MAX])
{
	const char *l = ctl_opt(c, "locale");

	*name = ctl_opt(c, "name");
	if (*name == NULL || !template_check_name(*name))
		return ctl_fail("%s: --name must be one of: %s", cmd, template_check_names);
	locale[0] = '\0';
	if (l && *l && (locale_canonical(l, locale) < 0 ||
			!catalog_exists(c->cfg.template_dir, locale)))
		return ctl_fail("%s: --locale must be a language mailproof has (a directory of %s with "
			    "messages.txt, such as de or pt-BR), or '' for every language", cmd,
			    c->cfg.template_dir);
	return 0;
}

/* Reads --file and checks it as template name; 0, or 1 after saying why not. */
static int template_file(struct ctx *c, const char *cmd, const char *name, struct buf *body)
{
	const char *file = ctl_opt(c, "file");
	char chain[1][LOCALE_TAG_MAX] = { "en" }, err[600];
	struct catalog en;
	int rc;

	if (file == NULL)
		return ctl_fail("%s: --file is required", cmd);
	if (buf_read_file(body, file, err, sizeof err) < 0)
		return ctl_fail("%s: --file %s", cmd, err);
	if (catalog_load(&en, c->cfg.template_dir, chain, 1, err, sizeof err) < 0) {
		catalog_free(&en);
		return ctl_fail("%s: %s", cmd, err);
	}
	rc = template_check(name, body->data ? body->data : "", body->len, &en, err, sizeof err);
	catalog_free(&en);
	return rc < 0 ? ctl_fail("%s: %s: %s", cmd, file, err) : 0;
}

int cmd_template_set(struct ctx *c)
{
	const char *name, *tenant = ctl_opt(c, "tenant");
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
		rc = ctl_fail("template set: %s", err);
		goto out;
	}
	rc = db_admin_id(r) < 0 ? ctl_fail("template set: no tenant named '%s'", tenant) : 0;
	PQclear(r);
	if (rc == 0 && c->json)
		rc = ctl_print_json(json_pack("{s:s,s:s,s:s,s:I}", "tenant", tenant, "name", name,
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
	ctl_row_text(out, "name", CELL_TEXT, t.name);
	ctl_row_text(out, "locale", CELL_OPT_TEXT, *t.locale ? t.locale : "");
	ctl_row_num(out, "bytes", t.bytes);
	ctl_row_text(out, "updatedAt", CELL_TEXT, t.updated_at);
}

int cmd_template_list(struct ctx *c)
{
	static const char *const heads[] = { "NAME", "LOCALE", "BYTES", "UPDATED" };
	char err[512];
	PGresult *r = db_admin_templates(c->conn, ctl_opt(c, "tenant"), NULL, err, sizeof err);

	if (r == NULL)
		return ctl_fail("template list: %s", err);
	return ctl_print_listing(c, r, heads, 4, template_row);
}

int cmd_template_show(struct ctx *c)
{
	const char *name;
	char locale[LOCALE_TAG_MAX], err[512];
	struct db_admin_template t;
	PGresult *r;
	int rc = 1;

	if (template_args(c, "template show", &name, locale))
		return 1;
	if ((r = db_admin_templates(c->conn, ctl_opt(c, "tenant"), name, err, sizeof err)) == NULL)
		return ctl_fail("template show: %s", err);
	for (int i = 0; i < PQntuples(r); i++) {
		db_admin_template(r, i, &t);
		if (strcmp(t.locale, locale) != 0)
			continue;
		rc = c->json ? ctl_print_json(json_pack("{s:s,s:s,s:s}", "name", t.name, "locale",
						    t.locale, "body", t.body))
			     : (fputs(t.body, stdout), 0);
	}
	PQclear(r);
	return rc == 1 ? ctl_fail("template show: %s has no template %s%s%s", ctl_opt(c, "tenant"),
			      name, *locale ? " for " : " for every language", locale) : rc;
}

int cmd_template_delete(struct ctx *c)
{
	const char *name;
	char locale[LOCALE_TAG_MAX], err[512];
	PGresult *r;
	int found;

	if (template_args(c, "template delete", &name, locale))
		return 1;
	if ((r = db_admin_template_delete(c->conn, ctl_opt(c, "tenant"), name, locale, err,
					  sizeof err)) == NULL)
		return ctl_fail("template delete: %s", err);
	found = db_admin_id(r) >= 0;
	PQclear(r);
	if (!found)
		return ctl_fail("template delete: %s has no template %s%s%s", ctl_opt(c, "tenant"), name,
			    *locale ? " for " : " for every language", locale);
	if (c->json)
		return ctl_print_json(json_pack("{s:s,s:s,s:b}", "name", name, "locale", locale,
					    "deleted", 1));
	printf("template %s%s%s deleted\n", name, *locale ? " for " : "", locale);
	return 0;
}

/* Writes text to --out, or to stdout. */
static int write_out(struct ctx *c, const char *cmd, const struct buf *text)
{
	const char *path = ctl_opt(c, "out");
	FILE *f = path ? fopen(path, "w") : stdout;
	int bad;

	if (f == NULL)
		return ctl_fail("%s: --out %s: %s", cmd, path, strerror(errno));
	bad = fwrite(text->data ? text->data : "", 1, text->len, f) != text->len;
	if (path)
		bad |= fclose(f) != 0;
	return bad ? ctl_fail("%s: could not write %s", cmd, path ? path : "the output") : 0;
}

int cmd_template_preview(struct ctx *c)
{
	const char *name, *tenant = ctl_opt(c, "tenant");
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
	if (ctl_opt(c, "file") && template_file(c, "template preview", name, &body))
		goto out;
	if ((look = db_admin_tenant_look(c->conn, tenant, err, sizeof err)) == NULL ||
	    (r = db_admin_templates(c->conn, tenant, NULL, err, sizeof err)) == NULL) {
		rc = ctl_fail("template preview: %s", err);
		goto out;
	}
	if (PQntuples(look) != 1) {
		rc = ctl_fail("template preview: no tenant named '%s'", tenant);
		goto out;
	}
	db_mail_brand(look, 0, 0, &brand);
	n = PQntuples(r);
	if ((t = calloc((size_t)n + 1, sizeof *t)) == NULL) {
		rc = ctl_fail("template preview: out of memory");
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
		rc = ctl_fail("template preview: %s", err);
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

int cmd_key_create(struct ctx *c)
{
	const char *tenant = ctl_opt(c, "tenant"), *scopes = ctl_opt(c, "scopes");
	char key[TOKEN_API_KEY_LEN + 1], hex[TOKEN_HASH_HEX_LEN], prefix[16];
	char err[512], arr[128], names[96];
	unsigned bits;
	long long id;
	PGresult *r;
	int rc = 1;

	if (scopes == NULL)
		scopes = "verifications:write,verifications:check,verifications:read";
	if (scope_parse(scopes, &bits) < 0)
		return ctl_fail("key create: --scopes: use a comma list of verifications:write, "
			    "verifications:check, verifications:read, verifications:deliver");
	scope_format(bits, names, sizeof names);
	snprintf(arr, sizeof arr, "{%s}", names);
	token_api_key(key);
	token_hash_hex(c->cfg.secret_key, "apikey", key, NULL, hex);
	snprintf(prefix, sizeof prefix, "%.12s", key);
	if ((r = db_admin_key_create(c->conn, tenant, hex, prefix, arr, err, sizeof err)) == NULL) {
		rc = ctl_fail("key create: %s", err);
		goto out;
	}
	id = db_admin_id(r);
	PQclear(r);
	/* the scopes shown are names, which the key's text[] holds as given */
	if (id < 0) {
		rc = ctl_fail("key create: no tenant named '%s'", tenant);
	} else if (c->json) {
		json_t *sc = json_array();
		for (const char *p = names; *p;) {
			size_t n = strcspn(p, ",");
			json_array_append_new(sc, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		rc = ctl_print_json(json_pack("{s:I,s:s,s:o}", "id", (json_int_t)id, "key", key,
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
	ctl_row_num(out, "id", k.id);
	ctl_row_text(out, "tenant", CELL_TEXT, k.tenant);
	ctl_row_text(out, "prefix", CELL_TEXT, k.prefix);
	ctl_row_text(out, "scopes", CELL_TEXT, k.scopes);
	ctl_row_text(out, "createdAt", CELL_TEXT, k.created_at);
	ctl_row_text(out, "revokedAt", CELL_OPT_TEXT, k.revoked_at);
	ctl_row_text(out, "lastUsedAt", CELL_OPT_TEXT, k.last_used_at);
	ctl_row_num(out, "requests", k.requests);
}

int cmd_key_list(struct ctx *c)
{
	static const char *const heads[] = { "ID", "TENANT", "PREFIX", "SCOPES", "CREATED",
					     "REVOKED", "LAST USED", "REQUESTS" };
	char err[512];
	PGresult *r = db_admin_key_list(c->conn, ctl_opt(c, "tenant"), err, sizeof err);

	if (r == NULL)
		return ctl_fail("key list: %s", err);
	return ctl_print_listing(c, r, heads, 8, key_row);
}

int cmd_key_revoke(struct ctx *c)
{
	char err[512];
	int was;
	PGresult *r;

	if ((r = db_admin_key_revoke(c->conn, c->pos[0], err, sizeof err)) == NULL)
		return ctl_fail("key revoke: %s", err);
	was = db_admin_was_revoked(r);
	PQclear(r);
	if (was < 0)
		return ctl_fail("key revoke: no key with id %s", c->pos[0]);
	if (c->json)
		return ctl_print_json(json_pack("{s:I,s:b,s:b}", "id", (json_int_t)c->id, "revoked", 1,
					    "alreadyRevoked", was));
	printf(was ? "key %s was already revoked\n" : "key %s revoked\n", c->pos[0]);
	return 0;
}

int cmd_tenant_show(struct ctx *c)
{
	char err[512], quota[NUM_LEN], hour[NUM_LEN], minute[NUM_LEN], cip[NUM_LEN], cnet[NUM_LEN];
	char caddr[NUM_LEN];
	PGresult *r = db_admin_tenants(c->conn, c->pos[0], err, sizeof err);
	struct db_admin_tenant t;
	int rc = 0;

	if (r == NULL)
		return ctl_fail("tenant show: %s", err);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return ctl_fail("tenant show: no tenant named '%s'", c->pos[0]);
	}
	db_admin_tenant(r, 0, &t);
	if (c->json) {
		rc = ctl_print_json(json_pack("{s:I,s:s,s:s?,s:b,s:s?,s:s,s:o,s:o,s:o,s:I,s:s,s:s?,"
					  "s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:o,s:o,s:o,s:o,s:s?}",
			"id", (json_int_t)t.id, "name", t.name,
			"webhookUrl", ctl_null_if_unset(t.webhook_url),
			"webhookEnabled", *t.webhook_disabled_at == '\0',
			"webhookDisabledAt", ctl_null_if_unset(t.webhook_disabled_at),
			"redirectAllow", t.redirect_allow, "monthlyQuota", ctl_int_or_null(t.monthly_quota),
			"ratePerEmailPerHour", ctl_int_or_null(t.rate_per_email_per_hour),
			"ratePerKeyPerMinute", ctl_int_or_null(t.rate_per_key_per_minute),
			"activeKeys", (json_int_t)t.active_keys, "createdAt", t.created_at,
			"mailFrom", ctl_null_if_unset(t.mail_from),
			"displayName", ctl_null_if_unset(t.display_name),
			"supportUrl", ctl_null_if_unset(t.support_url),
			"accentColor", ctl_null_if_unset(t.accent_color),
			"defaultLocale", ctl_null_if_unset(t.default_locale),
			"logoType", ctl_null_if_unset(t.logo_type), "logoBytes", (json_int_t)t.logo_bytes,
			"ratePerClientIpPerHour", ctl_int_or_null(t.rate_per_client_ip_per_hour),
			"ratePerClientNetworkPerHour", ctl_int_or_null(t.rate_per_client_network_per_hour),
			"addressesPerClientIpPerDay", ctl_int_or_null(t.addresses_per_client_ip_per_day),
			"requireClientIp", *t.require_client_ip ?
				json_boolean(strcmp(t.require_client_ip, "true") == 0) : json_null(),
			"resendPolicy", ctl_null_if_unset(t.resend_policy)));
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
		       ctl_num_text(quota, t.monthly_quota, "(none)"),
		       ctl_num_text(hour, t.rate_per_email_per_hour, "(configured default)"),
		       ctl_num_text(minute, t.rate_per_key_per_minute, "(configured default)"),
		       t.active_keys, t.created_at, *t.mail_from ? t.mail_from : "(configured mail_from)",
		       *t.display_name ? t.display_name : "(the name)",
		       *t.support_url ? t.support_url : "(none)",
		       *t.accent_color ? t.accent_color : "(default)",
		       *t.default_locale ? t.default_locale : "(en)",
		       *t.logo_type ? t.logo_type : "(none)", t.logo_bytes ? ", " : "",
		       t.logo_bytes, t.logo_bytes ? " bytes" : "",
		       ctl_num_text(cip, t.rate_per_client_ip_per_hour, "(configured default)"),
		       ctl_num_text(cnet, t.rate_per_client_network_per_hour, "(configured default)"),
		       ctl_num_text(caddr, t.addresses_per_client_ip_per_day, "(configured default)"),
		       *t.require_client_ip ? t.require_client_ip : "(configured default)",
		       *t.resend_policy ? t.resend_policy : "(configured default)");
	}
	PQclear(r);
	return rc;
}

int cmd_tenant_rotate(struct ctx *c)
{
	const char *overlap = ctl_opt(c, "overlap");
	char secret[TOKEN_WHSEC_LEN + 1], secs[NUM_LEN], err[512] = "the secret could not be sealed";
	long s = overlap ? ctl_duration_s(overlap, 2592000) : 86400;
	struct buf sealed;
	PGresult *r;
	int rc = 1;

	if (s < 0)
		return ctl_fail("tenant rotate-secret: --overlap must be a duration such as 24h, 90m, 2d "
			    "or 0, at most 30 days");
	snprintf(secs, sizeof secs, "%ld", s);
	buf_init(&sealed, 256);
	r = new_webhook_secret(c, secret, &sealed) < 0 ? NULL :
	    db_admin_tenant_rotate(c->conn, c->pos[0], sealed.data, secs, err, sizeof err);
	buf_free(&sealed);
	if (r == NULL) {
		rc = ctl_fail("tenant rotate-secret: %s", err);
		goto out;
	}
	if (db_admin_id(r) < 0)
		rc = ctl_fail("tenant rotate-secret: no tenant named '%s'", c->pos[0]);
	else if (c->json)
		rc = ctl_print_json(json_pack("{s:s,s:s,s:s?}", "name", c->pos[0], "webhookSecret", secret,
					  "previousSignsUntil", ctl_null_if_unset(PQgetvalue(r, 0, 1))));
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

int cmd_tenant_update(struct ctx *c)
{
	const char *hook = ctl_opt(c, "webhook-url"), *why;
	const char *quota = ctl_opt(c, "monthly-quota");
	const char *hour = ctl_opt(c, "rate-per-email-per-hour");
	const char *minute = ctl_opt(c, "rate-per-key-per-minute");
	const char *from = ctl_opt(c, "mail-from");
	const char *ip_hour = ctl_opt(c, "rate-per-client-ip-per-hour");
	const char *net_hour = ctl_opt(c, "rate-per-client-network-per-hour");
	const char *addr_day = ctl_opt(c, "addresses-per-client-ip-per-day");
	const char *require = ctl_opt(c, "require-client-ip");
	const char *policy = ctl_opt(c, "resend-policy");
	struct brand_values brand;
	struct buf allow;
	char err[512];
	PGresult *r;
	int found, stored;

	if (hook && *hook && !webhook_url_ok(hook, &why))
		return ctl_fail("tenant update: --webhook-url: %s", why);
	if (from && *from && !mail_address_valid(from))
		return ctl_fail("tenant update: --mail-from must be one address (local@domain)");
	if (!override_ok(quota) || !override_ok(hour) || !override_ok(minute) ||
	    !override_ok(ip_hour) || !override_ok(net_hour) || !override_ok(addr_day))
		return ctl_fail("tenant update: quotas and rates are whole numbers, or '' to remove");
	if (require && *require && strcmp(require, "true") != 0 && strcmp(require, "false") != 0)
		return ctl_fail("tenant update: --require-client-ip must be true, false, or '' to remove");
	if (policy && *policy && strcmp(policy, "new_code") != 0 && strcmp(policy, "same_code") != 0)
		return ctl_fail("tenant update: --resend-policy must be new_code, same_code, or '' to "
			    "remove");
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, "redirect-allow") == 0 && !ctl_url_acceptable(c->opts[i].value))
			return ctl_fail("tenant update: --redirect-allow %s: must be an http:// or "
				    "https:// URL prefix without user name", c->opts[i].value);
	if (brand_opts(c, "tenant update", &brand) < 0)
		return 1;
	buf_init(&allow, 64 * 1024);
	if (ctl_opt(c, "redirect-allow") && ctl_pg_array(c, "redirect-allow", &allow) < 0) {
		buf_free(&allow);
		brand_free(&brand);
		return ctl_fail("tenant update: too many --redirect-allow prefixes");
	}
	r = db_admin_tenant_update(c->conn, c->pos[0], hook, allow.data, quota, hour, minute, from,
				   err, sizeof err);
	buf_free(&allow);
	if (r == NULL) {
		brand_free(&brand);
		return ctl_fail("tenant update: %s", err);
	}
	found = db_admin_id(r) >= 0;
	PQclear(r);
	if (found && (ip_hour || net_hour || addr_day || require || policy)) {
		if ((r = db_admin_tenant_overrides(c->conn, c->pos[0], ip_hour, net_hour, addr_day,
						   require, policy, err, sizeof err)) == NULL) {
			brand_free(&brand);
			return ctl_fail("tenant update: %s", err);
		}
		PQclear(r);
	}
	stored = found ? brand_store(c, "tenant update", c->pos[0], &brand) : 0;
	brand_free(&brand);
	if (!found)
		return ctl_fail("tenant update: no tenant named '%s'", c->pos[0]);
	return stored < 0 ? 1 : cmd_tenant_show(c);
}
