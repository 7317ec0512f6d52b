/*
 * What every libFuzzer target of tests/fuzz/ shares: the environment that
 * config_load() reads (a fixed secret, the source tree's templates, no DNS),
 * splitting one input into fields, FastCGI streams in memory so that
 * request.c runs unchanged, and the check that an answer is well formed.
 * Header-only, like tests/unit/unit.h: each target is one program.
 *
 * A check that fails calls fuzz_fail(), which aborts: libFuzzer reports it
 * as a crash and keeps the input.
 */
#ifndef MAILPROOF_FUZZ_H
#define MAILPROOF_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <sanitizer/common_interface_defs.h>
#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "log.h"

#ifndef FUZZ_TOP_SRCDIR
#error "FUZZ_TOP_SRCDIR must name the source tree (tests/fuzz/fuzz.mk sets it)"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/*
 * Reports through the sanitizers' report channel, which run.sh's
 * -close_fd_mask=2 keeps open while it silences the target's own stderr
 * (our log lines), then aborts.  detail, shown escaped and cut at 4 KiB,
 * may be NULL.
 */
static inline void fuzz_fail(const char *what, const void *detail, size_t len)
	__attribute__((noreturn));
static inline void fuzz_fail(const char *what, const void *detail, size_t len)
{
	static char text[4 * 4096 + 512];
	const unsigned char *d = detail;
	size_t n;

	n = (size_t)snprintf(text, 512, "fuzz check failed: %s", what);
	if (n >= 512)
		n = 511;
	if (d) {
		n += (size_t)snprintf(text + n, sizeof text - n, "\n--- detail (%zu bytes) ---\n", len);
		for (size_t i = 0; i < len && i < 4096 && n + 8 < sizeof text; i++) {
			if (d[i] == '\n' || (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\'))
				text[n++] = (char)d[i];
			else
				n += (size_t)snprintf(text + n, sizeof text - n, "\\x%02x", d[i]);
		}
		n += (size_t)snprintf(text + n, sizeof text - n, "\n--- end ---");
	}
	text[n < sizeof text ? n : sizeof text - 1] = '\0';
	__sanitizer_report_error_summary(text);
	abort();
}

#define FUZZ_ASSERT(cond, detail, len)                                        \
	do {                                                                  \
		if (!(cond))                                                  \
			fuzz_fail(#cond " (" __FILE__ ")", (detail), (len));  \
	} while (0)

/*
 * The environment of a target: libsodium, quiet logs (errors only, and
 * run.sh discards the target's own stderr), and the config keys that
 * config_load() must find.  with_secret is 0 for fuzz_config, whose input
 * is the file that must set it.
 */
static inline void fuzz_init(int with_secret)
{
	if (sodium_init() < 0)
		fuzz_fail("sodium_init", NULL, 0);
	log_init("fuzz");
	log_set_level(LOG_LVL_ERROR);
	unsetenv("MAILPROOF_CONFIG");
	if (with_secret)
		setenv("MAILPROOF_SECRET_KEY", FUZZ_SECRET, 1);
	else
		unsetenv("MAILPROOF_SECRET_KEY");
	/* MAILPROOF_TEMPLATE_DIR may point elsewhere on purpose */
	setenv("MAILPROOF_TEMPLATE_DIR", FUZZ_TOP_SRCDIR "/templates", 0);
	setenv("MAILPROOF_DISPOSABLE_DOMAINS_FILE", FUZZ_TOP_SRCDIR "/data/disposable-domains.txt", 1);
	/* targets parse; they never ask a DNS server */
	setenv("MAILPROOF_MX_CHECK", "false", 1);
}

/* A config from the defaults and fuzz_init()'s environment; aborts when it cannot be read. */
static inline void fuzz_config(struct config *cfg)
{
	char err[512];

	if (config_load(NULL, cfg, err, sizeof err) < 0)
		fuzz_fail(err, NULL, 0);
}

/* An input cut into NUL-terminated fields. */
#define FUZZ_FIELDS_MAX 16
struct fuzz_fields {
	char *copy;
	const char *f[FUZZ_FIELDS_MAX];
	size_t n;
};

/*
 * Splits data at each byte sep into at most max fields (the last takes the
 * rest); fields past the input are "".  Free with fuzz_fields_free().
 */
static inline void fuzz_split(struct fuzz_fields *ff, const uint8_t *data, size_t size, char sep,
			      size_t max)
{
	char *p;

	if (max > FUZZ_FIELDS_MAX)
		max = FUZZ_FIELDS_MAX;
	if ((ff->copy = malloc(size + 1)) == NULL)
		fuzz_fail("out of memory", NULL, 0);
	if (size)
		memcpy(ff->copy, data, size);
	ff->copy[size] = '\0';
	p = ff->copy;
	ff->n = 0;
	for (size_t i = 0; i < max; i++)
		ff->f[i] = "";
	while (ff->n < max) {
		char *end = ff->n + 1 < max ? memchr(p, sep, (size_t)(ff->copy + size - p)) : NULL;
		ff->f[ff->n++] = p;
		if (end == NULL)
			break;
		*end = '\0';
		p = end + 1;
	}
}

static inline void fuzz_fields_free(struct fuzz_fields *ff)
{
	free(ff->copy);
	ff->copy = NULL;
}

/*
 * FastCGI streams in memory, through libfcgi's own stream interface
 * (fcgiapp.h: the buffer pointers and the fill and empty procedures are
 * public), so that FCGX_GetStr() and FCGX_PutStr() run as they do on a
 * socket.  The output buffer is small to make libfcgi call the empty
 * procedure often.
 */
struct fuzz_out {
	FCGX_Stream s;
	unsigned char chunk[61];
	struct buf text;
};

static inline void fuzz_out_empty(FCGX_Stream *s, int do_close)
{
	struct fuzz_out *o = s->data;

	(void)do_close;
	if (buf_append(&o->text, o->chunk, (size_t)(s->wrNext - o->chunk)) < 0)
		fuzz_fail("answer larger than 1 MiB", NULL, 0);
	s->wrNext = o->chunk;
}

static inline void fuzz_in_fill(FCGX_Stream *s)
{
	s->isClosed = 1;	/* the body ends with the input */
}

#define FUZZ_PARAMS_MAX 32
struct fuzz_fcgx {
	FCGX_Request fx;
	FCGX_Stream in;
	struct fuzz_out out, err;
	char *envp[FUZZ_PARAMS_MAX + 1];
};

static inline void fuzz_out_init(struct fuzz_out *o)
{
	memset(o, 0, sizeof *o);
	o->s.wrNext = o->s.stopUnget = o->chunk;
	o->s.stop = o->chunk + sizeof o->chunk;
	o->s.emptyBuffProc = fuzz_out_empty;
	o->s.data = o;
	buf_init(&o->text, 1024 * 1024);
}

/*
 * A request whose parameters are the "NAME=VALUE" strings of params (not
 * copied; at most FUZZ_PARAMS_MAX) and whose body stream reads body[0..n).
 */
static inline void fuzz_fcgx_init(struct fuzz_fcgx *r, const char *const *params, size_t nparams,
				  const void *body, size_t n)
{
	memset(&r->fx, 0, sizeof r->fx);
	memset(&r->in, 0, sizeof r->in);
	r->in.rdNext = r->in.stopUnget = (unsigned char *)body;
	r->in.stop = body ? (unsigned char *)body + n : NULL;
	r->in.isReader = 1;
	r->in.fillBuffProc = fuzz_in_fill;
	fuzz_out_init(&r->out);
	fuzz_out_init(&r->err);
	if (nparams > FUZZ_PARAMS_MAX)
		nparams = FUZZ_PARAMS_MAX;
	for (size_t i = 0; i < nparams; i++)
		r->envp[i] = (char *)params[i];
	r->envp[nparams] = NULL;
	r->fx.in = &r->in;
	r->fx.out = &r->out.s;
	r->fx.err = &r->err.s;
	r->fx.envp = r->envp;
	r->fx.ipcFd = -1;
}

/* Everything written to the output stream so far (flushes it). */
static inline const struct buf *fuzz_fcgx_answer(struct fuzz_fcgx *r)
{
	fuzz_out_empty(&r->out.s, 0);
	return &r->out.text;
}

static inline void fuzz_fcgx_free(struct fuzz_fcgx *r)
{
	buf_free(&r->out.text);
	buf_free(&r->err.text);
}

/*
 * Checks a CGI answer as request_reply() writes it: "Status: NNN reason",
 * then "Name: value" lines of visible ASCII (no CR or LF a value could have
 * smuggled in), a blank line, and a body of exactly Content-Length bytes
 * (none for HEAD); a JSON answer is one object with "success".  An empty
 * answer is allowed: the caller knows whether one was due.  Returns the
 * status, 0 for no answer.
 */
static inline int fuzz_check_answer(const struct buf *a, int head)
{
	const char *p = a->data, *end = a->data + a->len, *body;
	long long clen = -1;
	int status = 0, json = 0;
	size_t nlines = 0;

	if (a->len == 0)
		return 0;
	for (;;) {
		const char *eol = p, *colon;
		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		FUZZ_ASSERT(eol + 1 < end && eol[0] == '\r' && eol[1] == '\n', a->data, a->len);
		if (eol == p)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		FUZZ_ASSERT(colon && colon > p && colon + 1 < eol && colon[1] == ' ', a->data, a->len);
		for (const char *c = p; c < colon; c++)
			FUZZ_ASSERT((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '-',
				    a->data, a->len);
		for (const char *c = colon + 2; c < eol; c++)
			FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f, a->data, a->len);
		if (nlines++ == 0) {
			FUZZ_ASSERT(colon - p == 6 && strncmp(p, "Status", 6) == 0, a->data, a->len);
			status = (int)strtol(colon + 2, NULL, 10);
			FUZZ_ASSERT(status >= 200 && status <= 599, a->data, a->len);
		} else if (colon - p == 14 && strncmp(p, "Content-Length", 14) == 0) {
			FUZZ_ASSERT(clen < 0, a->data, a->len);
			clen = strtoll(colon + 2, NULL, 10);
		} else if (colon - p == 12 && strncmp(p, "Content-Type", 12) == 0) {
			json = strncmp(colon + 2, "application/json", 16) == 0;
		} else if (colon - p == 12 && strncmp(p, "X-Request-Id", 12) == 0) {
			for (const char *c = colon + 2; c < eol; c++)
				FUZZ_ASSERT(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						   "0123456789._-", *c), a->data, a->len);
		}
		p = eol + 2;
	}
	body = p + 2;
	FUZZ_ASSERT(clen >= 0, a->data, a->len);
	FUZZ_ASSERT(end - body == (head ? 0 : clen), a->data, a->len);
	if (json && !head) {
		json_t *j = json_loadb(body, (size_t)clen, 0, NULL);
		FUZZ_ASSERT(json_is_object(j) && json_object_get(j, "success"), a->data, a->len);
		json_decref(j);
	}
	return status;
}

#endif
