/* See doctor.h. */
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "deliverability.h"
#include "template.h"
#include "template_check.h"
#include "webhook.h"

/* Prints one check's line; hint goes with a failure.  Returns 1 for a failure. */
static int line(FILE *out, int ok, const char *part, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int line(FILE *out, int ok, const char *part, const char *hint, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "%s %-10s ", ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97", part);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	if (!ok && hint)
		fprintf(out, "             hint: %s\n", hint);
	return !ok;
}

static int check_database(const struct config *cfg, PGconn *conn, const char *db_err, FILE *out)
{
	char err[1024];
	PGresult *r;
	int bad;

	if (conn == NULL)
		return line(out, 0, "database", "check database_url, and that PostgreSQL runs and "
			    "accepts this host", "%s", db_err);
	switch (db_schema_check(cfg, "mailproofctl", err, sizeof err)) {
	case -1:
		return line(out, 0, "database", "run mailproofctl migrate", "%s", err);
	case 1:
		return line(out, 0, "database", "check database_url", "%s", err);
	}
	r = PQexec(conn, "SELECT current_user, has_table_privilege('verifications', 'INSERT,"
			 " UPDATE, SELECT') AND has_table_privilege('outbox', 'INSERT, UPDATE,"
			 " SELECT, DELETE') AND has_table_privilege('mail_jobs', 'INSERT, UPDATE,"
			 " SELECT')");
	bad = PQresultStatus(r) != PGRES_TUPLES_OK || PQgetvalue(r, 0, 1)[0] != 't';
	if (bad)
		line(out, 0, "database", "grant the role the schema's tables (or run as their owner)",
		     "the role %s lacks rights on mailproof's tables",
		     PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
	else
		line(out, 1, "database", NULL, "connected as %s; the schema matches this build",
		     PQgetvalue(r, 0, 0));
	PQclear(r);
	return bad;
}

/* What the SMTP dialogue showed: the last reply, and whether TLS and AUTH took place. */
struct smtp_seen {
	char reply[256];
	int starttls, auth;
};

/* libcurl's trace: server lines kept (the last one names a refusal); ours only noted. */
static int smtp_trace(CURL *h, curl_infotype type, char *data, size_t len, void *arg)
{
	struct smtp_seen *seen = arg;
	size_t n = 0;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		if (len >= 8 && strncasecmp(data, "STARTTLS", 8) == 0)
			seen->starttls = 1;
		if (len >= 5 && strncasecmp(data, "AUTH ", 5) == 0)
			seen->auth = 1;
	} else if (type == CURLINFO_HEADER_IN) {
		while (n < len && n + 1 < sizeof seen->reply && data[n] != '\r' && data[n] != '\n')
			n++;
		memcpy(seen->reply, data, n);
		seen->reply[n] = '\0';
	}
	return 0;
}

/*
 * Connect, EHLO, STARTTLS and AUTH as the sender would, and no MAIL:
 * libcurl's SMTP connect phase is exactly that dialogue, and
 * CURLOPT_CONNECT_ONLY stops it there (QUIT comes with the cleanup).
 */
static int check_smtp(const struct config *cfg, FILE *out)
{
	const char *v6 = strchr(cfg->smtp_host, ':') ? "[" : "";
	const char *hint = "check smtp_host and smtp_port, and that the mail server runs and "
			   "lets this host in";
	char url[400], errbuf[CURL_ERROR_SIZE] = "", where[300];
	struct smtp_seen seen = { "", 0, 0 };
	CURL *h = curl_easy_init();
	CURLcode rc;
	int bad = 1;

	snprintf(where, sizeof where, "%s:%d", cfg->smtp_host, cfg->smtp_port);
	if (h == NULL)
		return line(out, 0, "smtp", NULL, "libcurl could not start");
	snprintf(url, sizeof url, "smtp://%s%s%s:%d/mailproof-doctor", v6, cfg->smtp_host,
		 *v6 ? "]" : "", cfg->smtp_port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->smtp_timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_trace);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &seen);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_USE_SSL, cfg->smtp_starttls == STARTTLS_REQUIRED ?
			 (long)CURLUSESSL_ALL : cfg->smtp_starttls == STARTTLS_TRY ?
			 (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE);
	if (cfg->smtp_ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->smtp_ca_file);
	if (cfg->smtp_user[0]) {
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->smtp_password);
		/* the mechanism the sender uses (src/smtp.c) */
		curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
	}
	switch ((rc = curl_easy_perform(h))) {
	case CURLE_OK:
		/* libcurl skips AUTH the server does not offer; the sender's MAIL would then fail */
		if (cfg->smtp_user[0] && !seen.auth) {
			line(out, 0, "smtp", "many servers offer AUTH only under TLS (smtp_starttls = "
			     "try or required); or unset smtp_user", "%s does not offer AUTH%s, which "
			     "smtp_user asks for", where, seen.starttls ? "" : " without STARTTLS");
			break;
		}
		bad = line(out, 1, "smtp", NULL, "%s greets and accepts EHLO%s%s (no mail sent)",
			   where, seen.starttls ? ", STARTTLS (certificate verified)" : "",
			   seen.auth ? ", AUTH as smtp_user" : "");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		line(out, 0, "smtp", hint, "%s does not resolve", cfg->smtp_host);
		break;
	case CURLE_COULDNT_CONNECT:
		line(out, 0, "smtp", hint, "cannot connect to %s: %s", where, errbuf);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		line(out, 0, "smtp", hint, "%s did not answer within smtp_timeout_ms (%d ms)", where,
		     cfg->smtp_timeout_ms);
		break;
	case CURLE_USE_SSL_FAILED:
		line(out, 0, "smtp", "set smtp_starttls = try or no, or enable STARTTLS on the server",
		     "%s does not offer STARTTLS, which smtp_starttls = required asks for", where);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		line(out, 0, "smtp", "for a private CA set smtp_ca_file to its PEM bundle; the "
		     "certificate must name smtp_host", "STARTTLS with %s failed: %s", where, errbuf);
		break;
	case CURLE_LOGIN_DENIED:
		line(out, 0, "smtp", "check smtp_user and smtp_password", "AUTH as %s refused by %s: %s",
		     cfg->smtp_user, where, seen.reply[0] ? seen.reply : errbuf);
		break;
	default:
		line(out, 0, "smtp", hint, "%s: %s%s%s", where, errbuf[0] ? errbuf : curl_easy_strerror(rc),
		     seen.reply[0] ? "; the server said: " : "", seen.reply);
	}
	curl_easy_cleanup(h);
	return bad;
}

/* Every shipped template loads and every catalogue parses. */
static int check_templates(const struct config *cfg, FILE *out)
{
	static const char *const names[] = { "otp.txt", "otp.html", "link.txt", "link.html",
		"code_and_link.txt", "code_and_link.html", "page.html", "page.css", "page-otp.html",
		"page-link.html", "page-report.html", "page-message.html" };
	char err[600], chain[1][LOCALE_TAG_MAX];
	struct dirent *d;
	struct catalog cat;
	int languages = 0;
	DIR *dp;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct buf b;
		int rc;
		buf_init(&b, TEMPLATE_CHECK_MAX);
		rc = template_load(cfg->template_dir, names[i], &b, err, sizeof err);
		buf_free(&b);
		if (rc < 0)
			return line(out, 0, "templates", "set data_dir to where sql/ and templates/ "
				    "are (such as /usr/share/mailproof), or template_dir", "%s", err);
	}
	if ((dp = opendir(cfg->template_dir)) == NULL)
		return line(out, 0, "templates", NULL, "%s: %s", cfg->template_dir, strerror(errno));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.' || !catalog_exists(cfg->template_dir, d->d_name))
			continue;
		snprintf(chain[0], sizeof chain[0], "%.*s", LOCALE_TAG_MAX - 1, d->d_name);
		if (catalog_load(&cat, cfg->template_dir, chain, 1, err, sizeof err) < 0) {
			catalog_free(&cat);
			closedir(dp);
			return line(out, 0, "templates", "fix that line of the catalogue", "%s", err);
		}
		catalog_free(&cat);
		languages++;
	}
	closedir(dp);
	return line(out, languages > 0, "templates", "the English catalogue en/messages.txt is "
		    "missing", "%s: every template, %d languages", cfg->template_dir, languages);
}

static int check_dns(const struct config *cfg, FILE *out)
{
	if (!cfg->mx_check)
		return line(out, 1, "dns", NULL, "mx_check is off: no lookups");
	if (deliverability_mx(cfg, "example.com") == DELIVERABILITY_UNKNOWN)
		return line(out, 0, "dns", "check dns_server (or /etc/resolv.conf), or set "
			    "mx_check = false", "no answer to an MX lookup within %d ms",
			    cfg->dns_timeout_ms);
	return line(out, 1, "dns", NULL, "MX lookups are answered");
}

/* Each tenant's webhook URL: its form, and whether its host resolves to an address we use. */
static int check_webhooks(const struct config *cfg, PGconn *conn, FILE *out)
{
	PGresult *r;
	int bad = 0, n;

	if (conn == NULL)
		return 0;
	r = PQexec(conn, "SELECT name, webhook_url FROM tenants WHERE webhook_url IS NOT NULL"
			 " AND webhook_disabled_at IS NULL ORDER BY name");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return line(out, 0, "webhooks", NULL, "the tenants could not be read");
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		const char *name = PQgetvalue(r, i, 0), *url = PQgetvalue(r, i, 1), *why;
		char host[256];
		webhook_url_host(url, host, sizeof host);
		if (!webhook_url_ok(url, &why))
			bad |= line(out, 0, "webhooks", "mailproofctl tenant update NAME --webhook-url",
				    "tenant %s: %s", name, why);
		else if (webhook_host_check(cfg, host, &why) < 0)
			bad |= line(out, 0, "webhooks", "fix the URL, or webhook_allow_private = true "
				    "for a receiver on this network", "tenant %s: %s: %s", name, host,
				    why);
		else
			line(out, 1, "webhooks", NULL, "tenant %s: %s resolves to an address we may use",
			     name, host);
	}
	if (n == 0)
		line(out, 1, "webhooks", NULL, "no tenant has a webhook URL");
	PQclear(r);
	return bad;
}

static int check_base_url(const struct config *cfg, FILE *out)
{
	const char *u = cfg->public_base_url;
	const char *rest = strncmp(u, "https://", 8) == 0 ? u + 8 :
			   strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;

	if (rest == NULL || *rest == '\0' || u[strlen(u) - 1] == '/')
		return line(out, 0, "base url", "public_base_url = https://verify.example.com (no "
			    "trailing slash)", "%s is not an http(s) URL without a trailing slash", u);
	return line(out, 1, "base url", NULL, "%s%s", u, strncmp(u, "http://", 7) == 0 ?
		    " (plain http: fine behind a TLS proxy, else links travel in clear)" : "");
}

int doctor_run(const struct config *cfg, const char *config_path, PGconn *conn,
	       const char *db_err, FILE *out)
{
	int bad = 0;

	line(out, 1, "config", NULL, "%s", config_path);
	bad += check_database(cfg, conn, db_err, out);
	bad += check_smtp(cfg, out);
	bad += check_templates(cfg, out);
	bad += check_dns(cfg, out);
	bad += check_webhooks(cfg, conn, out);
	bad += check_base_url(cfg, out);
	return bad;
}
