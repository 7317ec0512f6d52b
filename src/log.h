/*
 * Logging for every mailproof process: one logfmt line per event on
 * stderr, which the web server (mod_fcgid, lighttpd) or the supervisor
 * collects:
 *   ts=2026-11-30T10:00:00.000Z level=info app=mailproof-fcgi pid=12 msg="..."
 * and, for the lines about a verification, request_id=, tenant= and
 * verification= after it, so that one request can be followed with grep.
 * Nothing that logs may pass a secret.
 */
#ifndef MAILPROOF_LOG_H
#define MAILPROOF_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname);
void log_set_level(enum log_level lvl);
/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like log_warnx, with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line with the caller's key=value pairs (kv: tokens, no spaces in values) after msg. */
void log_kv(enum log_level lvl, const char *kv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* For start-up failures and broken invariants only: logs, exits 1. */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
