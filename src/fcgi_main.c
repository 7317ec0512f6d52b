/*
 * mailproof-fcgi: reads the config, then either serves the listening socket
 * the web server passed on fd 0 (mod_fcgid, lighttpd bin-path: one process,
 * the web server owns the pool) or, with --listen, becomes the prefork
 * master of master.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "util.h"
#include "worker.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mailproof-fcgi [--config FILE] [--check-config | --check-schema]\n"
		"       mailproof-fcgi [--config FILE] --listen unix:PATH|HOST:PORT\n"
		"                      [--workers N] [--max-requests N] [--socket-mode MODE]\n"
		"                      [--grace-seconds N]\n"
		"Without --listen, fd 0 must be the listening socket the web server passes.\n");
}

static int fd0_is_listener(void)
{
	int v = 0;
	socklen_t l = sizeof v;

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v;
}

static long parse_opt(const char *name, const char *s, long long min, long long max)
{
	const char *errstr;
	long long v = util_parse_int(s, min, max, &errstr);

	if (errstr) {
		fprintf(stderr, "mailproof-fcgi: %s %s: %s (%lld to %lld)\n", name, s, errstr, min, max);
		exit(2);
	}
	return (long)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "max-requests", required_argument, NULL, 'm' },
		{ "socket-mode", required_argument, NULL, 's' },
		{ "grace-seconds", required_argument, NULL, 'g' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "check-schema", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct master_opts mo = { NULL, NULL, 4, 0, 0660, 30, argv };
	const char *config_arg = NULL, *env_workers = getenv("MAILPROOF_WORKERS");
	struct config cfg;
	char err[512], *end;
	int ch, check_only = 0, check_schema = 0, lfd;

	log_init("mailproof-fcgi");
	if (env_workers && *env_workers)
		mo.workers = (int)parse_opt("MAILPROOF_WORKERS", env_workers, 1, 256);
	while ((ch = getopt_long(argc, argv, "c:l:w:m:s:g:CShV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_arg = optarg; break;
		case 'l': mo.listen = optarg; break;
		case 'w': mo.workers = (int)parse_opt("--workers", optarg, 1, 256); break;
		case 'm': mo.max_requests = parse_opt("--max-requests", optarg, 0, 1000000000); break;
		case 'g': mo.grace_seconds = (int)parse_opt("--grace-seconds", optarg, 0, 3600); break;
		case 's':
			mo.socket_mode = (unsigned)strtoul(optarg, &end, 8);
			if (*optarg == '\0' || *end || mo.socket_mode > 0777) {
				fprintf(stderr, "mailproof-fcgi: --socket-mode %s: not an octal mode\n", optarg);
				return 2;
			}
			break;
		case 'C': check_only = 1; break;
		case 'S': check_schema = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mailproof-fcgi %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	mo.config_path = config_path(config_arg);
	if (sodium_init() < 0)
		fatalx("libsodium could not be initialised");
	jsonx_wipe_on_free();
	if (config_load(mo.config_path, &cfg, err, sizeof err) < 0) {
		log_errx("%s", err);
		return 1;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (check_only) {
		printf("%s: configuration OK (its syntax and values; `mailproofctl doctor` checks "
		       "the database, SMTP, templates, DNS and webhooks too)\n",
		       mo.config_path ? mo.config_path : "environment");
		config_free(&cfg);
		return 0;
	}
	switch (db_schema_check(&cfg, "mailproof-fcgi", err, sizeof err)) {
	case -1:
		config_free(&cfg);
		return 1;
	case 1:
		log_warnx("%s; %s", err, check_schema ? "it is checked again at each connect" :
			  "starting anyway");
		break;
	}
	if (check_schema) {
		/* what a master asks of its new binary before an upgrade (SIGUSR2) */
		config_free(&cfg);
		return 0;
	}
	metrics_open(mo.config_path);
	if (FCGX_Init() != 0)
		fatalx("libfcgi could not be initialised");
	if (mo.listen == NULL) {
		int rc;
		if (!fd0_is_listener()) {
			config_free(&cfg);
			fprintf(stderr, "mailproof-fcgi: fd 0 is not a listening socket; "
				"start me from the web server or use --listen\n");
			usage(stderr);
			return 2;
		}
		rc = worker_run(0, &cfg, mo.max_requests);
		config_free(&cfg);
		return rc;
	}
	if ((lfd = master_listen(mo.listen, mo.socket_mode)) < 0) {
		config_free(&cfg);
		return 1;
	}
	return master_run(&mo, lfd, &cfg);
}
