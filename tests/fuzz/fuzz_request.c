/*
 * Fuzz target: a FastCGI request as the web server hands it over.  The input
 * is "NAME=VALUE" lines (the parameters: REQUEST_METHOD, REQUEST_URI,
 * QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, HTTP_* headers...), a blank
 * line, then the body, which the request's in-stream reads.  It runs the
 * real path of a request up to the database: request_begin(), api_prepare()
 * (route, method, key shape, media type, body size, JSON), then the parser
 * of the route that matched (start and verify bodies, the list query, the
 * hosted form, the client address, Accept-Language), under two configs:
 * the defaults, and a mount prefix with trusted proxies.  Every answer must
 * be a well-formed CGI answer (fuzz_check_answer()).
 */
#include <arpa/inet.h>
#include <strings.h>

#include "fuzz.h"
#include "fuzz_start.h"

#include "api.h"
#include "api_verification.h"
#include "hosted.h"
#include "locale.h"
#include "mail.h"
#include "request.h"
#include "router.h"
#include "verify.h"

static struct config g_plain, g_proxied;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	fuzz_config(&g_plain);
	setenv("MAILPROOF_MOUNT_PREFIX", "/verify", 1);
	setenv("MAILPROOF_TRUSTED_PROXIES", "127.0.0.1, ::1,10.0.0.2", 1);
	setenv("MAILPROOF_MAX_BODY_BYTES", "256", 1);
	fuzz_config(&g_proxied);
	unsetenv("MAILPROOF_MOUNT_PREFIX");
	unsetenv("MAILPROOF_TRUSTED_PROXIES");
	unsetenv("MAILPROOF_MAX_BODY_BYTES");
	return 0;
}

/* The start body, as api_verification_start() takes it; what it accepts must hold. */
static void parse_start(struct request *rq)
{
	struct verify_start_req sr;
	char *metadata = NULL;

	if (api_verification_parse_start(rq, &sr, &metadata) == 0) {
		FUZZ_ASSERT(rq->status == 0, NULL, 0);
		fuzz_check_start(&sr);
	} else {
		FUZZ_ASSERT(rq->status == 400, NULL, 0);
	}
	free(metadata);
}

static void parse_verify(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	const char *id;
	char code[VERIFY_CODE_INPUT_MAX + 1];

	if (api_verification_parse_verify(rq, args[0], &id, code) == 0) {
		FUZZ_ASSERT(id != NULL && code[0] != '\0', NULL, 0);
		FUZZ_ASSERT(strpbrk(code, " -abcdefghijklmnopqrstuvwxyz") == NULL, code, strlen(code));
	} else {
		FUZZ_ASSERT(rq->status == 400, NULL, 0);
	}
}

static void parse_list(struct request *rq)
{
	struct api_list_query lq;

	if (api_verification_parse_list(rq, &lq) == 0) {
		FUZZ_ASSERT(lq.limit >= 1 && lq.limit <= 100, NULL, 0);
		for (size_t i = 0; i < 5; i++)
			FUZZ_ASSERT(fuzz_no_controls(lq.q[i]), lq.q[i], strlen(lq.q[i]));
		FUZZ_ASSERT((lq.q[3] == NULL) == (lq.q[4] == NULL), NULL, 0);
		FUZZ_ASSERT(lq.q[4] == NULL || verify_id_valid(lq.q[4]), NULL, 0);
	} else {
		FUZZ_ASSERT(rq->status == 400, NULL, 0);
	}
}

/* The code form of the hosted page (hosted.c's otp_check() before its lookup). */
static void parse_form(struct request *rq)
{
	const char *ct = request_param(rq, "CONTENT_TYPE");
	char code[80];

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return;
	if (request_read_body(rq) < 0) {
		FUZZ_ASSERT(rq->status == 400 || rq->status == 413, NULL, 0);
		return;
	}
	if (request_form(rq, "code", code, sizeof code) == 1) {
		verify_normalize_code(code);
		FUZZ_ASSERT(fuzz_no_controls(code), code, strlen(code));
	}
}

/* What every page reads: the client's address and languages. */
static void parse_client(struct request *rq)
{
	char ip[64], tags[LOCALE_CHAIN_MAX][LOCALE_TAG_MAX], canon[LOCALE_TAG_MAX];
	unsigned char bin[16];
	const char *remote = request_param(rq, "REMOTE_ADDR");
	size_t n;

	request_client_ip(rq, ip, sizeof ip);
	FUZZ_ASSERT(strcmp(ip, "unknown") == 0 || (remote && strncmp(ip, remote, sizeof ip - 1) == 0) ||
		    inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1,
		    ip, strlen(ip));
	n = locale_accept(request_param(rq, "HTTP_ACCEPT_LANGUAGE"), tags, LOCALE_CHAIN_MAX);
	FUZZ_ASSERT(n <= LOCALE_CHAIN_MAX, NULL, 0);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(locale_canonical(tags[i], canon) == 0 && strcmp(canon, tags[i]) == 0,
			    tags[i], strlen(tags[i]));
}

static void one(const struct config *cfg, const char *const *params, size_t nparams,
		const uint8_t *body, size_t blen)
{
	struct fuzz_fcgx r;
	struct request rq;
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX];
	const struct route *rt;
	int status;

	fuzz_fcgx_init(&r, params, nparams, body, blen);
	request_begin(&rq, &r.fx, cfg, NULL);
	FUZZ_ASSERT(strpbrk(rq.path, "?#") == NULL, rq.path, strlen(rq.path));
	rt = api_prepare(&rq, args);
	if (rt == NULL) {
		FUZZ_ASSERT(rq.status != 0, NULL, 0);
	} else {
		FUZZ_ASSERT(rq.status == 0, NULL, 0);
		FUZZ_ASSERT(!rt->json_body || json_is_object(rq.json), NULL, 0);
		if (rt->handler == api_verification_start)
			parse_start(&rq);
		else if (rt->handler == api_verification_verify)
			parse_verify(&rq, args);
		else if (rt->handler == api_verification_list)
			parse_list(&rq);
		else if (rt->handler == hosted_otp_post)
			parse_form(&rq);
		parse_client(&rq);
		/* a handler would answer from the database now */
		if (rq.status == 0)
			request_ok(&rq, 200, json_pack("{s:s}", "route", rt->pattern));
	}
	status = fuzz_check_answer(fuzz_fcgx_answer(&r), strcmp(rq.method, "HEAD") == 0);
	FUZZ_ASSERT(status == rq.status, NULL, 0);
	request_end(&rq);
	fuzz_fcgx_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *params[FUZZ_PARAMS_MAX];
	size_t n = 0, hlen = size, blen = 0;
	const uint8_t *body = NULL;
	char *head, *p;

	/* the parameters end at the first blank line; the body is the rest */
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && data[i + 1] == '\n') {
			hlen = i;
			body = data + i + 2;
			blen = size - i - 2;
			break;
		}
	if ((head = malloc(hlen + 1)) == NULL)
		return 0;
	memcpy(head, data, hlen);
	head[hlen] = '\0';
	for (p = head; p && *p && n < FUZZ_PARAMS_MAX;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		/* libfcgi's parameters are "NAME=VALUE" C strings */
		if (strchr(p, '=') && p[0] != '=')
			params[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	one(&g_plain, params, n, body, blen);
	one(&g_proxied, params, n, body, blen);
	free(head);
	return 0;
}
