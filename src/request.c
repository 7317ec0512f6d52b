/* See request.h. */
#include "request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "jsonx.h"
#include "log.h"
#include "metrics.h"
#include "token.h"
#include "util.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

const char *request_param(const struct request *rq, const char *name)
{
	return FCGX_GetParam(name, rq->fx->envp);
}

/* Strips the query and the mount prefix; leaves path empty when outside it. */
static void request_route_path(struct request *rq)
{
	const char *uri = request_param(rq, "REQUEST_URI");
	const char *prefix = rq->cfg->mount_prefix;
	size_t ulen, plen = strlen(prefix);

	rq->path[0] = '\0';
	if (uri == NULL)
		return;
	ulen = strcspn(uri, "?#");
	if (plen) {
		if (ulen < plen || strncmp(uri, prefix, plen) != 0 ||
		    (ulen > plen && uri[plen] != '/'))
			return;
		uri += plen;
		ulen -= plen;
	}
	if (ulen == 0 || ulen >= sizeof rq->path)
		return;
	memcpy(rq->path, uri, ulen);
	rq->path[ulen] = '\0';
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes n bytes of s (application/x-www-form-urlencoded) into out. */
static int query_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Finds name in a query or form string q and decodes it (see request_query). */
static int kv_find(const char *q, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);

	while (q && *q) {
		size_t plen = strcspn(q, "&");
		const char *eq = memchr(q, '=', plen);
		size_t klen = eq ? (size_t)(eq - q) : plen;
		if (klen == nlen && strncmp(q, name, nlen) == 0) {
			if (eq == NULL)
				return out[0] = '\0', 1;
			return query_decode(eq + 1, plen - klen - 1, out, outlen) < 0 ? -1 : 1;
		}
		q += plen;
		if (*q == '&')
			q++;
	}
	return 0;
}

int request_query(const struct request *rq, const char *name, char *out, size_t outlen)
{
	return kv_find(request_param(rq, "QUERY_STRING"), name, out, outlen);
}

int request_form(const struct request *rq, const char *name, char *out, size_t outlen)
{
	return kv_find(rq->body.data, name, out, outlen);
}

/* True when ip is one of the comma-separated addresses of list. */
static int ip_listed(const char *ip, const char *list)
{
	size_t n = strlen(ip);

	while (*list) {
		size_t len = strcspn(list, ",");
		const char *item = list;
		while (len && *item == ' ')
			item++, len--;
		while (len && item[len - 1] == ' ')
			len--;
		if (len == n && strncmp(item, ip, n) == 0)
			return 1;
		list += strcspn(list, ",");
		if (*list == ',')
			list++;
	}
	return 0;
}

void request_client_ip(const struct request *rq, char *out, size_t outlen)
{
	const char *remote = request_param(rq, "REMOTE_ADDR");
	const char *xff = request_param(rq, "HTTP_X_FORWARDED_FOR");
	unsigned char bin[16];

	snprintf(out, outlen, "%s", remote ? remote : "unknown");
	if (xff == NULL || !ip_listed(out, rq->cfg->trusted_proxies))
		return;
	/* from the right: the first hop that is not one of our proxies */
	for (size_t end = strlen(xff); end > 0;) {
		size_t start = end;
		char hop[64];
		while (start > 0 && xff[start - 1] != ',')
			start--;
		snprintf(hop, sizeof hop, "%.*s", (int)(end - start), xff + start);
		{
			char *h = hop + strspn(hop, " ");
			h[strcspn(h, " ")] = '\0';
			if (inet_pton(AF_INET, h, bin) != 1 && inet_pton(AF_INET6, h, bin) != 1)
				return;	/* garbage: keep the proxy's own address */
			snprintf(out, outlen, "%s", h);
			if (!ip_listed(h, rq->cfg->trusted_proxies))
				return;
		}
		end = start ? start - 1 : 0;
	}
}

int request_query_only(const struct request *rq, const char *const *allowed, char *msg,
		       size_t msglen)
{
	const char *q = request_param(rq, "QUERY_STRING");

	while (q && *q) {
		size_t plen = strcspn(q, "&"), klen = strcspn(q, "=&");
		int ok = plen == 0;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strlen(allowed[i]) == klen && strncmp(q, allowed[i], klen) == 0;
		if (!ok) {
			snprintf(msg, msglen, "unknown query parameter '%.*s'",
				 (int)(klen > 40 ? 40 : klen), q);
			return -1;
		}
		q += plen;
		if (*q == '&')
			q++;
	}
	return 0;
}

void request_begin(struct request *rq, FCGX_Request *fx, const struct config *cfg, struct db *db)
{
	const char *m, *rid;

	memset(rq, 0, sizeof *rq);
	rq->fx = fx;
	rq->cfg = cfg;
	rq->db = db;
	rq->t0 = util_mono_ms();
	buf_init(&rq->body, (size_t)cfg->max_body_bytes);
	m = request_param(rq, "REQUEST_METHOD");
	snprintf(rq->method, sizeof rq->method, "%s", m && util_is_token(m, 15) ? m : "?");
	request_route_path(rq);
	/* A client's id is kept only when it is short and safe to log. */
	rid = request_param(rq, "HTTP_X_REQUEST_ID");
	if (rid && util_is_token(rid, 64))
		snprintf(rq->request_id, sizeof rq->request_id, "%s", rid);
	else
		token_random_id("req_", rq->request_id, sizeof rq->request_id);
	if (db)
		db_set_request(db, rq->request_id);
}

void request_end(struct request *rq)
{
	metrics_request(rq->route, rq->status, util_mono_ms() - rq->t0);
	char kv[300];
	snprintf(kv, sizeof kv, "request_id=%s method=%s route=%s status=%d duration_ms=%lld",
		 rq->request_id, rq->method, rq->route ? rq->route : "-", rq->status,
		 (long long)(util_mono_ms() - rq->t0));
	log_kv(LOG_LVL_INFO, kv, "request answered");
	if (rq->db)
		db_set_request(rq->db, NULL);
	json_decref(rq->json);
	rq->json = NULL;
	buf_free(&rq->body);
}

int request_read_body(struct request *rq)
{
	const char *cl = request_param(rq, "CONTENT_LENGTH");
	const char *errstr;
	long long n = 0;
	char chunk[4096];

	if (cl && *cl) {
		n = util_parse_int(cl, 0, LLONG_MAX, &errstr);
		if (errstr) {
			request_error(rq, 400, "INVALID_REQUEST", "invalid Content-Length", NULL, NULL);
			return -1;
		}
	}
	if (n > rq->cfg->max_body_bytes) {
		json_t *d = json_pack("{s:i}", "maxBytes", rq->cfg->max_body_bytes);
		request_error(rq, 413, "PAYLOAD_TOO_LARGE", "request body is too large", d, NULL);
		return -1;
	}
	while ((long long)rq->body.len < n) {
		size_t want = (size_t)n - rq->body.len;
		int got = FCGX_GetStr(chunk, want < sizeof chunk ? (int)want : (int)sizeof chunk,
				      rq->fx->in);
		if (got <= 0 || buf_append(&rq->body, chunk, (size_t)got) < 0) {
			request_error(rq, 400, "INVALID_REQUEST", "request body ended early", NULL, NULL);
			return -1;
		}
	}
	return 0;
}

void request_reply(struct request *rq, int status, const char *ctype, const char *headers,
		   const char *body, size_t len)
{
	char head[512];
	int n;

	if (rq->status)
		return;
	rq->status = status;
	n = snprintf(head, sizeof head,
		     "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "X-Request-Id: %s\r\nCache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n",
		     status, reason(status), ctype, len, rq->request_id);
	if (n < 0 || (size_t)n >= sizeof head)
		n = 0;
	FCGX_PutStr(head, n, rq->fx->out);
	if (headers)
		FCGX_PutS(headers, rq->fx->out);
	FCGX_PutS("\r\n", rq->fx->out);
	if (strcmp(rq->method, "HEAD") != 0 && len)
		FCGX_PutStr(body, (int)len, rq->fx->out);
}

static void reply_text(struct request *rq, int status, char *json_text, const char *headers)
{
	static const char fallback[] =
		"{\"success\":false,\"error\":{\"code\":\"INTERNAL_ERROR\","
		"\"message\":\"internal error\",\"details\":{}}}";

	if (json_text == NULL) {
		log_errx("request %s: could not build the answer", rq->request_id);
		request_reply(rq, 500, "application/json", NULL, fallback, sizeof fallback - 1);
		return;
	}
	request_reply(rq, status, "application/json", headers, json_text, strlen(json_text));
	free(json_text);
}

void request_ok(struct request *rq, int status, json_t *data)
{
	reply_text(rq, status, jsonx_ok(data), NULL);
}

void request_ok_raw(struct request *rq, int status, const char *data_json)
{
	struct buf b;

	buf_init(&b, strlen(data_json) + 64);
	if (buf_puts(&b, "{\"success\":true,\"data\":") < 0 || buf_puts(&b, data_json) < 0 ||
	    buf_puts(&b, "}") < 0) {
		buf_free(&b);
		reply_text(rq, status, NULL, NULL);
		return;
	}
	reply_text(rq, status, buf_steal(&b), NULL);
}

void request_error(struct request *rq, int status, const char *code, const char *message,
		   json_t *details, const char *headers)
{
	reply_text(rq, status, jsonx_error(code, message, details), headers);
}

void request_db_error(struct request *rq, int err)
{
	if (err == DB_UNAVAILABLE)
		request_error(rq, 503, "UNAVAILABLE", "the database is unavailable; try again shortly",
			      NULL, "Retry-After: 1\r\n");
	else
		request_error(rq, 500, "INTERNAL_ERROR", "internal error", NULL, NULL);
}

/* "45 seconds", "23 minutes", "5 hours": how long, in words, rounded up. */
static void in_words(int seconds, char *out, size_t len)
{
	int n = seconds < 120 ? seconds : seconds < 7200 ? (seconds + 59) / 60 : (seconds + 3599) / 3600;
	const char *unit = seconds < 120 ? "second" : seconds < 7200 ? "minute" : "hour";

	snprintf(out, len, "%d %s%s", n, unit, n == 1 ? "" : "s");
}

void request_rate_limited(struct request *rq, const char *limit, int max, const char *what,
			  const char *said, int retry_after)
{
	char hdr[40], at[UTIL_TIME_MAX], wait[32], sentence[200], message[300];

	snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", retry_after);
	util_time_text((long long)time(NULL) + retry_after, at);
	in_words(retry_after, wait, sizeof wait);
	if (what)
		snprintf(sentence, sizeof sentence, "%s: %d, the most allowed", what, max);
	snprintf(message, sizeof message, "%s (%s). Try again in %s.", what ? sentence : said,
		 limit, wait);
	request_error(rq, 429, "RATE_LIMITED", message,
		      json_pack("{s:s,s:i,s:s,s:i}", "limit", limit, "max", max, "retryAt", at,
				"retryAfterSeconds", retry_after), hdr);
}
