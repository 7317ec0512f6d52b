/* See webhook.h.  One curl handle per process, reused between sends. */
#include "webhook.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define RESPONSE_MAX (64 * 1024)	/* read and thrown away */


int webhook_url_ok(const char *url, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *port = NULL;
	const char *errstr;
	long long p;
	int ok = 0;

	*why = "not a URL";
	if (u == NULL || strlen(url) > 2000 ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		*why = "the scheme must be http or https";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		*why = "a user name in the URL is not allowed";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	p = util_parse_int(port, 1, 65535, &errstr);
	if (errstr || (p != 80 && p != 443 && p < 1024)) {
		*why = "the port must be 80, 443 or 1024-65535";
		goto out;
	}
	*why = NULL;
	ok = 1;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

int webhook_body(const char *type, const char *timestamp, const char *payload, struct buf *out)
{
	/* type and timestamp are ours (an event type, an RFC 3339 time) */
	return buf_printf(out, "{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":%s}", type, timestamp,
			  payload);
}

int webhook_signature(const char *whsec, const char *id, long long timestamp, const char *body,
		      char *out, size_t outlen)
{
	unsigned char key[64], mac[crypto_auth_hmacsha256_BYTES];
	char ts[24], b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
						   sodium_base64_VARIANT_ORIGINAL)];
	crypto_auth_hmacsha256_state st;
	size_t keylen;

	if (strncmp(whsec, "whsec_", 6) != 0 ||
	    sodium_base642bin(key, sizeof key, whsec + 6, strlen(whsec + 6), NULL, &keylen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || keylen == 0)
		return -1;
	snprintf(ts, sizeof ts, "%lld", timestamp);
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(key, sizeof key);
	sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
	return snprintf(out, outlen, "v1,%s", b64) < (int)outlen ? 0 : -1;
}

/* Loopback, private, link-local, shared, multicast and reserved ranges. */
static int addr_is_public(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return !((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
			 (a >> 22) == (100u << 2 | 1) ||	/* 100.64/10 */
			 (a >> 16) == (169u << 8 | 254) || (a >> 20) == (172u << 4 | 1) ||
			 (a >> 8) == (192u << 16 | 0 << 8 | 0) ||	/* 192.0.0/24 */
			 (a >> 16) == (192u << 8 | 168) || (a >> 17) == (198u << 7 | 9) ||
			 (a >> 29) == 7);	/* 224/3 */
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const unsigned char zero[16];
		struct sockaddr_in v4;
		/* IPv4 inside ::ffff:0:0/96, 64:ff9b::/96 or 2002::/16 is judged as IPv4 */
		int mapped = memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
		int nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
			    memcmp(b + 4, zero, 8) == 0;
		if (mapped || nat64 || (b[0] == 0x20 && b[1] == 0x02)) {
			memset(&v4, 0, sizeof v4);
			v4.sin_family = AF_INET;
			memcpy(&v4.sin_addr, b[0] == 0x20 ? b + 2 : b + 12, 4);
			return addr_is_public((struct sockaddr *)&v4);
		}
		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))	/* :: and ::1 */
			return 0;
		return !((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
			 b[0] == 0xff);
	}
	return 0;
}

void webhook_url_host(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://") ? strstr(url, "://") + 3 : url;
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n);

	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (*p == '[')	/* an IPv6 literal, as getaddrinfo() takes it */
		n = strcspn(++p, "]/?#");
	else
		n = strcspn(p, ":/?#");
	snprintf(out, len, "%.*s", (int)n, p);
}

int webhook_host_check(const struct config *cfg, const char *host, const char **why)
{
	struct addrinfo hints = { 0 }, *ai, *a;
	int rc = 0;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
		*why = "it does not resolve";
		return -1;
	}
	for (a = ai; a && !cfg->webhook_allow_private; a = a->ai_next)
		if (!addr_is_public(a->ai_addr)) {
			*why = "a private or loopback address, refused (webhook_allow_private = false)";
			rc = -1;
		}
	freeaddrinfo(ai);
	return rc;
}

struct guard {
	int allow_private;
	int refused;		/* set when an address was refused */
	char refused_addr[INET6_ADDRSTRLEN];
};

static curl_socket_t open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct guard *g = arg;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (!g->allow_private && !addr_is_public(&a->addr)) {
		const void *raw = a->family == AF_INET6
			? (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr
			: (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
		g->refused = 1;
		inet_ntop(a->family, raw, g->refused_addr, sizeof g->refused_addr);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	(void)p;
	*seen += size * n;
	return *seen > RESPONSE_MAX ? 0 : size * n;	/* short count: curl stops */
}

static size_t header_line(char *p, size_t size, size_t n, void *arg)
{
	struct webhook_result *res = arg;
	size_t len = size * n;
	char v[16];
	const char *errstr;

	if (len > 12 && len < 12 + sizeof v && strncasecmp(p, "Retry-After:", 12) == 0) {
		snprintf(v, sizeof v, "%.*s", (int)(len - 12), p + 12);
		v[strcspn(v, "\r\n")] = '\0';
		res->retry_after = (int)util_parse_int(v + strspn(v, " "), 0, 86400, &errstr);
		if (errstr)
			res->retry_after = 0;
	}
	return len;
}

static CURL *g_curl;	/* reused: keeps connections alive between events */

int webhook_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void webhook_global_cleanup(void)
{
	curl_easy_cleanup(g_curl);
	g_curl = NULL;
	curl_global_cleanup();
}

void webhook_send(const struct config *cfg, const char *url, const char *whsec,
		  const char *whsec_previous, const char *event_id, const char *body,
		  struct webhook_result *res)
{
	struct guard g = { cfg->webhook_allow_private, 0, "" };
	char sig[128], sig_prev[128] = "", hid[160], hts[64], hsig[300];
	struct curl_slist *hdrs = NULL;
	long long now = (long long)time(NULL);
	const char *why;
	size_t seen = 0;
	long code = 0;
	CURLcode cc;

	memset(res, 0, sizeof *res);
	if (!webhook_url_ok(url, &why)) {
		snprintf(res->error, sizeof res->error, "webhook_url refused: %s", why);
		return;
	}
	if (webhook_signature(whsec, event_id, now, body, sig, sizeof sig) < 0 ||
	    (whsec_previous && *whsec_previous &&
	     webhook_signature(whsec_previous, event_id, now, body, sig_prev, sizeof sig_prev) < 0)) {
		snprintf(res->error, sizeof res->error, "the tenant's webhook secret is malformed");
		return;
	}
	if (g_curl == NULL && (g_curl = curl_easy_init()) == NULL) {
		snprintf(res->error, sizeof res->error, "could not start libcurl");
		return;
	}
	curl_easy_reset(g_curl);
	snprintf(hid, sizeof hid, "webhook-id: %s", event_id);
	snprintf(hts, sizeof hts, "webhook-timestamp: %lld", now);
	snprintf(hsig, sizeof hsig, "webhook-signature: %s%s%s", sig, *sig_prev ? " " : "", sig_prev);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, hid);
	hdrs = curl_slist_append(hdrs, hts);
	hdrs = curl_slist_append(hdrs, hsig);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(g_curl, CURLOPT_URL, url);
	curl_easy_setopt(g_curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(g_curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(g_curl, CURLOPT_PROXY, "");
	curl_easy_setopt(g_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(g_curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(cfg->webhook_timeout_ms < 3000 ? cfg->webhook_timeout_ms : 3000));
	curl_easy_setopt(g_curl, CURLOPT_TIMEOUT_MS, (long)cfg->webhook_timeout_ms);
	curl_easy_setopt(g_curl, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
	curl_easy_setopt(g_curl, CURLOPT_OPENSOCKETDATA, &g);
	curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &seen);
	curl_easy_setopt(g_curl, CURLOPT_HEADERFUNCTION, header_line);
	curl_easy_setopt(g_curl, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(g_curl, CURLOPT_USERAGENT, "mailproof-webhooks/" PACKAGE_VERSION);
	cc = curl_easy_perform(g_curl);
	curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &code);
	res->status = (int)code;
	if (g.refused)
		snprintf(res->error, sizeof res->error, "refused to connect to %s: a private or "
			 "loopback address (webhook_allow_private = false)", g.refused_addr);
	else if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && code))
		snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(cc));
	else if (code < 200 || code > 299)
		snprintf(res->error, sizeof res->error, "the endpoint answered %ld", code);
	curl_slist_free_all(hdrs);
}
