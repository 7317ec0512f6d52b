/*
 * stderr logger, in logfmt.  Each line is formatted into one buffer and
 * written with a single write(2) so that lines of concurrent workers
 * sharing the web server's error log never interleave.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *g_prog = "mailproof";
static enum log_level g_level = LOG_LVL_INFO;
static long g_pid;	/* ours, kept across fork() by log_forked: no getpid() per line */

static void log_forked(void) { g_pid = (long)getpid(); }

void log_init(const char *progname)
{
	g_prog = progname;
	log_forked();
	pthread_atfork(NULL, NULL, log_forked);
}

void log_set_level(enum log_level lvl) { g_level = lvl; }

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* Appends to line at *n, clamping at the end of the buffer. */
static void put(char *line, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *line, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(line + *n, size - *n, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n = (size_t)r >= size - *n ? size - 1 : *n + (size_t)r;
}

/*
 * One logfmt line: ts, level, app, pid, msg (quoted), then kv, the
 * caller's own key=value pairs (may be NULL).
 */
static void vlog(enum log_level lvl, const char *word, int with_errno, const char *kv,
		 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void vlog(enum log_level lvl, const char *word, int with_errno, const char *kv,
		 const char *fmt, va_list ap)
{
	/* One spare byte beyond the text for the newline. */
	char line[2048], text[1536];
	const size_t size = sizeof line - 1;
	struct timespec ts;
	struct tm tm;
	size_t n, t;
	int saved = errno, r;

	if (lvl > g_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, size, "ts=%Y-%m-%dT%H:%M:%S", &tm);
	put(line, size, &n, ".%03ldZ level=%s app=%s pid=%ld msg=\"", ts.tv_nsec / 1000000, word,
	    g_prog, g_pid ? g_pid : (long)getpid());
	r = vsnprintf(text, sizeof text, fmt, ap);
	t = r < 0 ? 0 : (size_t)r >= sizeof text ? sizeof text - 1 : (size_t)r;
	if (with_errno)
		put(text, sizeof text, &t, ": %s", strerror(saved));
	for (size_t i = 0; i < t && n < size - 3; i++) {
		if (text[i] == '"' || text[i] == '\\')
			line[n++] = '\\';
		line[n++] = text[i];
	}
	put(line, size, &n, "\"%s%s", kv && *kv ? " " : "", kv ? kv : "");
	/* Control characters would let a logged value forge a second line. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
	errno = saved;
}

#define LOG_FN(name, lvl, word, with_errno)        \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		vlog(lvl, word, with_errno, NULL, fmt, ap); \
		va_end(ap);                        \
	}

void log_kv(enum log_level lvl, const char *kv, const char *fmt, ...)
{
	static const char *const words[] = { "error", "warning", "info", "debug" };
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, words[lvl], 0, kv, fmt, ap);
	va_end(ap);
}

LOG_FN(log_debug, LOG_LVL_DEBUG, "debug", 0)
LOG_FN(log_info, LOG_LVL_INFO, "info", 0)
LOG_FN(log_warnx, LOG_LVL_WARN, "warning", 0)
LOG_FN(log_warn, LOG_LVL_WARN, "warning", 1)
LOG_FN(log_errx, LOG_LVL_ERROR, "error", 0)

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, "fatal", 0, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
