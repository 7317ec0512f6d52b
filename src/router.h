/*
 * Route matching: a table of {method, pattern, scope, handler}.  Patterns are
 * slash-separated segments where "{x}" matches one non-empty segment.  The
 * matcher is pure (no I/O) so that it can be tested on its own.
 */
#ifndef MAILPROOF_ROUTER_H
#define MAILPROOF_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_ARGS 2
#define ROUTER_ARG_MAX 128

struct request;

struct route {
	const char *method;
	const char *pattern;
	unsigned scopes;	/* scope bits required; 0 = no authentication */
	int json_body;		/* body must be application/json */
	void (*handler)(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX]);
};

enum router_result { ROUTER_MATCH, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

/*
 * Finds the route for method and path (already without query and mount
 * prefix).  HEAD matches GET routes.  On ROUTER_MATCH *out is set and args
 * hold the placeholders; on ROUTER_METHOD_NOT_ALLOWED allow holds the
 * comma-separated methods the path accepts.
 */
enum router_result router_match(const struct route *table, size_t n, const char *method,
				const char *path, const struct route **out,
				char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], char *allow,
				size_t allowlen);

#endif
