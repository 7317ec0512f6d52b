/* See api.h.  Handlers live in api_*.c; this file holds the table. */
#include "api.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_verification.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "db_api.h"
#include "hosted.h"
#include "jsonx.h"
#include "metrics.h"
#include "request.h"
#include "router.h"

static void api_healthz(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	enum db_err err;
	PGresult *r = db_run(rq->db, DB_PING, NULL, &err, NULL);

	if (r == NULL) {
		request_reply(rq, 503, "application/json", "Retry-After: 1\r\n",
			      "{\"status\":\"unavailable\"}", 24);
		return;
	}
	PQclear(r);
	request_reply(rq, 200, "application/json", NULL, "{\"status\":\"ok\"}", 15);
}

/* Unauthenticated like /healthz: aggregate counts only, never tenant data. */
static void api_metrics(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	enum db_err err;
	PGresult *r = db_run(rq->db, DB_METRICS, NULL, &err, NULL);
	struct metrics_queues q;
	struct buf out;
	int rc;

	if (r) {
		db_api_metrics(r, &q);
		PQclear(r);
	}
	buf_init(&out, 1024 * 1024);
	rc = metrics_render(&out, r ? &q : NULL);
	if (rc == 0 && (r = db_run(rq->db, DB_REPORT_COUNTS, NULL, &err, NULL)) != NULL) {
		for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
			const char *tenant;
			long long n;
			db_api_report_count(r, i, &tenant, &n);
			rc = metrics_render_reports(&out, i == 0, tenant, n);
		}
		PQclear(r);
	}
	if (rc < 0)
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
	else
		request_reply(rq, 200, "text/plain; version=0.0.4", NULL, out.data, out.len);
	buf_free(&out);
}

static const struct route g_routes[] = {
	{ "GET", "/healthz", 0, 0, api_healthz },
	{ "GET", "/metrics", 0, 0, api_metrics },
	{ "POST", "/v1/verifications/email", SCOPE_WRITE, 1, api_verification_start },
	{ "GET", "/v1/verifications/email", SCOPE_READ, 0, api_verification_list },
	{ "POST", "/v1/verifications/email/verify", SCOPE_CHECK, 1, api_verification_verify },
	{ "GET", "/v1/verifications/email/{id}", SCOPE_READ, 0, api_verification_get },
	{ "POST", "/v1/verifications/email/{id}/verify", SCOPE_CHECK, 1, api_verification_verify },
	{ "POST", "/v1/verifications/email/{id}/resend", SCOPE_WRITE, 0, api_verification_resend },
	{ "POST", "/v1/verifications/email/{id}/cancel", SCOPE_WRITE, 0, api_verification_cancel },
	{ "GET", "/v1/link/{token}", 0, 0, hosted_link_get },
	{ "POST", "/v1/link/{token}", 0, 0, hosted_link_post },
	{ "GET", "/v1/report/{token}", 0, 0, hosted_report_get },
	{ "POST", "/v1/report/{token}", 0, 0, hosted_report_post },
	{ "GET", "/v1/hosted/{id}", 0, 0, hosted_otp_get },
	{ "POST", "/v1/hosted/{id}", 0, 0, hosted_otp_post },
};

static int is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

const struct route *api_prepare(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	char allow[64], hdr[96], msg[256];
	const struct route *rt = NULL;

	switch (router_match(g_routes, sizeof g_routes / sizeof g_routes[0], rq->method,
			     rq->path, &rt, args, allow, sizeof allow)) {
	case ROUTER_NOT_FOUND:
		request_error(rq, 404, "NOT_FOUND", "no such route", NULL, NULL);
		return NULL;
	case ROUTER_METHOD_NOT_ALLOWED:
		snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
		request_error(rq, 405, "METHOD_NOT_ALLOWED", "method not allowed on this route",
			      NULL, hdr);
		return NULL;
	case ROUTER_MATCH:
		break;
	}
	rq->route = rt->pattern;
	/* the key itself is checked with the route's statement; see auth.h */
	if (rt->scopes && auth_prepare(rq, rt->scopes) < 0)
		return NULL;
	if (rt->json_body) {
		if (!is_json_type(request_param(rq, "CONTENT_TYPE"))) {
			request_error(rq, 415, "UNSUPPORTED_MEDIA_TYPE",
				      "Content-Type must be application/json", NULL, NULL);
			return NULL;
		}
		if (request_read_body(rq) < 0)
			return NULL;
		rq->json = jsonx_parse_object(rq->body.data, rq->body.len, msg, sizeof msg);
		if (rq->json == NULL) {
			request_error(rq, 400, "INVALID_REQUEST", msg, NULL, NULL);
			return NULL;
		}
	}
	return rt;
}

void api_handle(struct request *rq)
{
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX];
	const struct route *rt = api_prepare(rq, args);

	if (rt == NULL)
		return;
	rt->handler(rq, args);
	if (!rq->status)
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
}
