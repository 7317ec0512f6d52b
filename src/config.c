/*
 * The configuration table and its parser.  Adding a key is one line in
 * g_keys plus a field in struct config; etc/mailproof.conf.sample documents
 * each key and tests/unit/t_config.c checks that the two agree.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "datadir.h"
#include "log.h"
#include "util.h"
#include "verp.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
/* K_DATA: a path; a relative one is under data_dir, empty stays empty */
enum ktype { K_STR, K_INT, K_BOOL, K_ENUM, K_KEY, K_URL, K_PREFIX, K_DATA };

struct key {
	const char *name;
	enum ktype type;
	const char *def;
	long long min, max;		/* K_INT bounds */
	const char *const *choices;	/* K_ENUM, NULL-terminated */
	size_t off;			/* field offset in struct config */
	size_t off_flag;		/* K_KEY: offset of the "is set" int, or 0 */
};

static const char *const starttls_choices[] = { "no", "try", "required", NULL };
static const char *const mail_choices[] = { "sync", "queue", NULL };
static const char *const level_choices[] = { "error", "warn", "info", "debug", NULL };
static const char *const resend_choices[] = { "new_code", "same_code", NULL };

#define O(f) offsetof(struct config, f)
#define STR(n, d) { #n, K_STR, d, 0, 0, NULL, O(n), 0 }
#define INT(n, d, lo, hi) { #n, K_INT, d, lo, hi, NULL, O(n), 0 }
#define BOOL(n, d) { #n, K_BOOL, d, 0, 0, NULL, O(n), 0 }
#define ENUM(n, d, c) { #n, K_ENUM, d, 0, 0, c, O(n), 0 }
#define DATA(n, d) { #n, K_DATA, d, 0, 0, NULL, O(n), 0 }

static const struct key g_keys[] = {
	STR(database_url, "dbname=mailproof"),
	STR(database_listen_url, ""),
	BOOL(database_prepared, "true"),
	INT(database_statement_timeout_ms, "5000", 0, 600000),
	{ "mount_prefix", K_PREFIX, "", 0, 0, NULL, O(mount_prefix), 0 },
	{ "secret_key", K_KEY, "", 0, 0, NULL, O(secret_key), 0 },
	{ "secret_key_previous", K_KEY, "", 0, 0, NULL, O(secret_key_previous),
	  O(have_secret_key_previous) },
	{ "public_base_url", K_URL, "http://127.0.0.1:8080", 0, 0, NULL, O(public_base_url), 0 },
	ENUM(mail_delivery, "sync", mail_choices),
	STR(smtp_host, "127.0.0.1"),
	INT(smtp_port, "25", 1, 65535),
	ENUM(smtp_starttls, "try", starttls_choices),
	STR(smtp_user, ""),
	STR(smtp_password, ""),
	INT(smtp_timeout_ms, "10000", 100, 235000),
	STR(smtp_ca_file, ""),
	STR(mail_journal, ""),
	INT(sync_mail_settle_seconds, "60", 5, 240),
	STR(mail_from, "noreply@localhost"),
	STR(mail_from_name, "mailproof"),
	STR(bounce_address, ""),
	STR(data_dir, ""),
	DATA(template_dir, "templates"),
	INT(default_expires_seconds, "900", 60, 2592000),
	INT(default_max_attempts, "3", 1, 10),
	INT(default_code_length, "6", 4, 12),
	INT(max_body_bytes, "16384", 256, 1048576),
	INT(fcgi_timeout_ms, "5000", 100, 600000),
	INT(rate_per_email_per_hour, "5", 0, 1000000),
	INT(rate_per_key_per_minute, "600", 0, 1000000),
	INT(rate_per_ip_per_minute, "60", 0, 1000000),
	INT(rate_per_client_ip_per_hour, "20", 0, 1000000),
	INT(rate_per_client_network_per_hour, "100", 0, 1000000),
	INT(addresses_per_client_ip_per_day, "5", 0, 1000000),
	BOOL(require_client_ip, "false"),
	INT(failed_attempts_per_email_per_day, "10", 0, 1000000),
	INT(resend_cooldown_seconds, "30", 0, 86400),
	ENUM(resend_policy, "new_code", resend_choices),
	BOOL(link_confirm_page, "true"),
	STR(trusted_proxies, ""),
	BOOL(reject_disposable, "false"),
	BOOL(reject_undeliverable, "false"),
	DATA(disposable_domains_file, "data/disposable-domains.txt"),
	DATA(common_domains_file, "data/common-domains.txt"),
	BOOL(mx_check, "true"),
	INT(dns_timeout_ms, "1500", 100, 10000),
	STR(dns_server, ""),
	INT(mail_max_attempts, "8", 1, 100),
	INT(mail_retry_base_ms, "30000", 100, 3600000),
	INT(webhook_timeout_ms, "10000", 100, 120000),
	INT(webhook_max_attempts, "12", 1, 100),
	INT(webhook_retry_base_ms, "2000", 10, 3600000),
	BOOL(webhook_allow_private, "false"),
	INT(retention_days, "30", 1, 36500),
	INT(sweep_interval_seconds, "60", 1, 86400),
	ENUM(log_level, "info", level_choices),
};
#define NKEYS (sizeof g_keys / sizeof g_keys[0])

/* Environment variables that are not keys but are ours all the same. */
static const char *const g_env_other[] = { "MAILPROOF_CONFIG", "MAILPROOF_WORKERS",
	"MAILPROOF_LISTEN_FD", "MAILPROOF_OLD_WORKERS", NULL };	/* the last two: master.c */

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(g_keys[i].name, name) == 0)
			return &g_keys[i];
	return NULL;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	for (int i = 0; yes[i]; i++)
		if (strcmp(v, yes[i]) == 0)
			return *out = 1, 0;
	for (int i = 0; no[i]; i++)
		if (strcmp(v, no[i]) == 0)
			return *out = 0, 0;
	return -1;
}

/* Sets one key from its text; on error writes why into why. */
static int key_set(struct config *cfg, const struct key *k, const char *v,
		   char *why, size_t whylen)
{
	char *base = (char *)cfg;
	const char *errstr;
	long long n;
	size_t len = strlen(v);

	switch (k->type) {
	case K_INT:
		n = util_parse_int(v, k->min, k->max, &errstr);
		if (errstr) {
			snprintf(why, whylen, "must be an integer from %lld to %lld", k->min, k->max);
			return -1;
		}
		*(int *)(base + k->off) = (int)n;
		return 0;
	case K_BOOL:
		if (parse_bool(v, (int *)(base + k->off)) < 0) {
			snprintf(why, whylen, "must be true or false");
			return -1;
		}
		return 0;
	case K_ENUM:
		for (int i = 0; k->choices[i]; i++)
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)(base + k->off) = i;
				return 0;
			}
		snprintf(why, whylen, "must be one of %s%s%s%s%s", k->choices[0],
			 k->choices[1] ? ", " : "", k->choices[1] ? k->choices[1] : "",
			 k->choices[1] && k->choices[2] ? ", " : "",
			 k->choices[1] && k->choices[2] ? k->choices[2] : "");
		return -1;
	case K_KEY:
		if (len == 0) {	/* unset; a missing secret_key is reported later */
			sodium_memzero(base + k->off, CONFIG_KEY_BYTES);
			if (k->off_flag)
				*(int *)(base + k->off_flag) = 0;
			return 0;
		}
		if (len != 2 * CONFIG_KEY_BYTES ||
		    sodium_hex2bin((unsigned char *)base + k->off, CONFIG_KEY_BYTES, v, len,
				   NULL, NULL, NULL) != 0) {
			snprintf(why, whylen, "must be %d hexadecimal characters", 2 * CONFIG_KEY_BYTES);
			return -1;
		}
		if (k->off_flag)
			*(int *)(base + k->off_flag) = 1;
		return 0;
	case K_URL:
		if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
		    len < 9 || v[len - 1] == '/' || strpbrk(v, " \t\"'<>\\?#") != NULL) {
			snprintf(why, whylen, "must be an http:// or https:// URL without a trailing slash");
			return -1;
		}
		break;
	case K_PREFIX:
		if (len > 0 && (v[0] != '/' || v[len - 1] == '/' || strpbrk(v, " \t?#%") != NULL)) {
			snprintf(why, whylen, "must be empty or a path like /verify (no trailing slash)");
			return -1;
		}
		break;
	case K_STR:
	case K_DATA:
		break;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			snprintf(why, whylen, "contains a control character");
			return -1;
		}
	{
		char *copy = strdup(v), **slot = (char **)(base + k->off);
		if (copy == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		free(*slot);
		*slot = copy;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(const char *path, struct config *cfg, char *err, size_t errlen)
{
	FILE *f;
	char line[4096], why[160];
	int lineno = 0, rc = -1, seen[NKEYS] = { 0 };

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p, *eq, *name, *val;
		size_t vlen;
		const struct key *k;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		name = trim(p);
		val = trim(eq + 1);
		vlen = strlen(val);
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val[vlen - 1] = '\0';
			val++;
		}
		if ((k = key_find(name)) == NULL) {
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, name);
			goto out;
		}
		if (seen[k - g_keys]) {
			snprintf(err, errlen, "%s:%d: key '%s' already set on line %d", path,
				 lineno, name, seen[k - g_keys]);
			goto out;
		}
		seen[k - g_keys] = lineno;
		if (key_set(cfg, k, val, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s:%d: key '%s' %s", path, lineno, name, why);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

static int env_is_known(const char *var)
{
	char name[80];
	const char *eq = strchr(var, '=');
	size_t n = eq ? (size_t)(eq - var) : strlen(var);

	for (int i = 0; g_env_other[i]; i++)
		if (strlen(g_env_other[i]) == n && strncmp(var, g_env_other[i], n) == 0)
			return 1;
	if (n - 10 >= sizeof name)
		return 0;
	for (size_t i = 10; i < n; i++)
		name[i - 10] = (char)tolower((unsigned char)var[i]);
	name[n - 10] = '\0';
	return key_find(name) != NULL;
}

static int load_env(struct config *cfg, char *err, size_t errlen)
{
	extern char **environ;
	char var[96], why[160];

	for (char **e = environ; *e; e++)
		if (strncmp(*e, "MAILPROOF_", 10) == 0 && !env_is_known(*e)) {
			const char *eq = strchr(*e, '=');
			snprintf(err, errlen, "environment: unknown variable %.*s",
				 (int)(eq ? eq - *e : 60), *e);
			return -1;
		}
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v;
		size_t j = 0;

		snprintf(var, sizeof var, "MAILPROOF_%s", g_keys[i].name);
		for (j = 10; var[j]; j++)
			var[j] = (char)toupper((unsigned char)var[j]);
		if ((v = getenv(var)) == NULL)
			continue;
		if (key_set(cfg, &g_keys[i], v, why, sizeof why) < 0) {
			snprintf(err, errlen, "environment %s: key '%s' %s", var, g_keys[i].name, why);
			return -1;
		}
	}
	return 0;
}

/* data_dir found when unset, and the K_DATA paths that are relative put under it */
static int resolve_data(struct config *cfg, char *err, size_t errlen)
{
	char *base = (char *)cfg, found[PATH_MAX], path[PATH_MAX];

	if (cfg->data_dir[0] == '\0') {
		datadir_find(found, sizeof found);
		free(cfg->data_dir);
		if ((cfg->data_dir = strdup(found)) == NULL)
			goto oom;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		char **slot = (char **)(base + g_keys[i].off), *abs;

		if (g_keys[i].type != K_DATA || (*slot)[0] == '\0' || (*slot)[0] == '/')
			continue;
		if (snprintf(path, sizeof path, "%s/%s", cfg->data_dir, *slot) >= (int)sizeof path) {
			snprintf(err, errlen, "key '%s': data_dir/%s is too long", g_keys[i].name, *slot);
			return -1;
		}
		if ((abs = strdup(path)) == NULL)
			goto oom;
		free(*slot);
		*slot = abs;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	char why[160];
	int secret_set = 0;

	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NKEYS; i++) {
		if (g_keys[i].type == K_KEY)
			continue;
		if (key_set(cfg, &g_keys[i], g_keys[i].def, why, sizeof why) < 0)
			fatalx("config default of %s: %s", g_keys[i].name, why);
	}
	if (path && load_file(path, cfg, err, errlen) < 0)
		goto fail;
	if (load_env(cfg, err, errlen) < 0)
		goto fail;
	if (resolve_data(cfg, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < CONFIG_KEY_BYTES; i++)
		secret_set |= cfg->secret_key[i];
	if (!secret_set) {
		snprintf(err, errlen, "%s: key 'secret_key' is required (64 hexadecimal characters, "
			 "for example from: head -c32 /dev/urandom | xxd -p -c64)",
			 path ? path : "configuration");
		goto fail;
	}
	if (cfg->bounce_address[0] && !verp_address_valid(cfg->bounce_address)) {
		snprintf(err, errlen, "%s: key 'bounce_address': %s is not an address such as "
			 "bounces@example.com (no '+': mailproof adds '+' and the verification)",
			 path ? path : "configuration", cfg->bounce_address);
		goto fail;
	}
	if (cfg->database_url[0] == '\0') {
		snprintf(err, errlen, "%s: key 'database_url' must not be empty",
			 path ? path : "configuration");
		goto fail;
	}
	/* a worker may still be sending, and then recording, until then */
	if (cfg->sync_mail_settle_seconds < CONFIG_SYNC_SETTLE_MIN(cfg))
		cfg->sync_mail_settle_seconds = CONFIG_SYNC_SETTLE_MIN(cfg);
	return 0;
fail:
	config_free(cfg);
	return -1;
}

void config_free(struct config *cfg)
{
	char *base = (char *)cfg;

	if (cfg->smtp_password)
		sodium_memzero(cfg->smtp_password, strlen(cfg->smtp_password));
	for (size_t i = 0; i < NKEYS; i++)
		if (g_keys[i].type == K_STR || g_keys[i].type == K_URL || g_keys[i].type == K_PREFIX ||
		    g_keys[i].type == K_DATA) {
			char **slot = (char **)(base + g_keys[i].off);
			free(*slot);
			*slot = NULL;
		}
	sodium_memzero(cfg->secret_key, sizeof cfg->secret_key);
	sodium_memzero(cfg->secret_key_previous, sizeof cfg->secret_key_previous);
}

const char *config_key_name(size_t i)
{
	return i < NKEYS ? g_keys[i].name : NULL;
}

const char *config_path(const char *arg)
{
	const char *env = getenv("MAILPROOF_CONFIG");

	if (arg)
		return arg;
	if (env && *env)
		return env;
	if (access(SYSCONFDIR "/mailproof/mailproof.conf", F_OK) == 0)
		return SYSCONFDIR "/mailproof/mailproof.conf";
	return NULL;
}
