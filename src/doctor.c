/* See doctor.h. */
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* Reads one SMTP reply (its last line's code), within the timeout. */
static int smtp_reply(int fd, int timeout_ms, char *text, size_t len)
{
	size_t n = 0;

	text[0] = '\0';
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		char *last;
		ssize_t got;

		if (poll(&p, 1, timeout_ms) <= 0 || (got = read(fd, text + n, len - 1 - n)) <= 0)
			return -1;
		n += (size_t)got;
		text[n] = '\0';
		/* the reply ends with a line "NNN text" (not "NNN-") */
		for (last = text; strstr(last, "\r\n") && strstr(last, "\r\n")[2]; )
			last = strstr(last, "\r\n") + 2;
		if (strstr(last, "\r\n") && strlen(last) > 3 && last[3] == ' ')
			return (int)strtol(last, NULL, 10);
		if (n >= len - 1)
			return -1;
	}
}

static int check_smtp(const struct config *cfg, FILE *out)
{
	char port[16], reply[4096], hint[256];
	struct addrinfo hints = { 0 }, *ai = NULL;
	int fd = -1, code, bad = 1;

	snprintf(port, sizeof port, "%d", cfg->smtp_port);
	snprintf(hint, sizeof hint, "check smtp_host and smtp_port (%s:%d), and that the mail "
		 "server runs and lets this host in", cfg->smtp_host, cfg->smtp_port);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(cfg->smtp_host, port, &hints, &ai) != 0) {
		line(out, 0, "smtp", hint, "%s does not resolve", cfg->smtp_host);
		goto out;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		line(out, 0, "smtp", hint, "cannot connect to %s:%d: %s", cfg->smtp_host,
		     cfg->smtp_port, strerror(errno));
		goto out;
	}
	if ((code = smtp_reply(fd, cfg->smtp_timeout_ms, reply, sizeof reply)) != 220) {
		line(out, 0, "smtp", hint, "%s:%d did not greet with 220 within %d ms",
		     cfg->smtp_host, cfg->smtp_port, cfg->smtp_timeout_ms);
		goto out;
	}
	if (write(fd, "EHLO mailproof-doctor\r\n", 23) != 23 ||
	    smtp_reply(fd, cfg->smtp_timeout_ms, reply, sizeof reply) != 250) {
		line(out, 0, "smtp", hint, "EHLO was refused by %s:%d", cfg->smtp_host,
		     cfg->smtp_port);
		goto out;
	}
	if (cfg->smtp_starttls && strcasestr(reply, "STARTTLS") == NULL) {
		line(out, 0, "smtp", "set smtp_starttls = false, or enable STARTTLS on the server",
		     "%s:%d does not offer STARTTLS, which smtp_starttls asks for", cfg->smtp_host,
		     cfg->smtp_port);
		goto out;
	}
	if (cfg->smtp_user && *cfg->smtp_user && strcasestr(reply, "AUTH") == NULL &&
	    !cfg->smtp_starttls) {
		line(out, 0, "smtp", "the server offers no AUTH: unset smtp_user, or enable AUTH",
		     "%s:%d does not offer AUTH", cfg->smtp_host, cfg->smtp_port);
		goto out;
	}
	if (write(fd, "QUIT\r\n", 6) != 6)
		goto out;
	bad = line(out, 1, "smtp", NULL, "%s:%d greets and accepts EHLO%s (no mail sent)",
		   cfg->smtp_host, cfg->smtp_port, cfg->smtp_starttls ? ", offers STARTTLS" : "");
out:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return bad;
}

/* Every shipped template loads and every catalogue parses. */
static int check_templates(const struct config *cfg, FILE *out)
{
	static const char *const names[] = { "otp.txt", "otp.html", "link.txt", "link.html",
		"page.html", "page.css", "page-otp.html", "page-link.html", "page-message.html" };
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
			return line(out, 0, "templates", "set template_dir to the installed templates "
				    "(share/mailproof/templates)", "%s", err);
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
