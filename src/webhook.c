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

/* IPv4 networks a webhook may not reach: not public unicast (RFC 6890). */
static const struct { uint32_t net; int len; } g_closed4[] = {
	{ 0x00000000, 8 },	/* "this network" */
	{ 0x0a000000, 8 },	/* private */
	{ 0x64400000, 10 },	/* shared address space (carrier NAT) */
	{ 0x7f000000, 8 },	/* loopback */
	{ 0xa9fe0000, 16 },	/* link-local */
	{ 0xac100000, 12 },	/* private */
	{ 0xc0000000, 24 },	/* IETF protocol assignments */
	{ 0xc0000200, 24 },	/* documentation */
	{ 0xc0586300, 24 },	/* 6to4 relay anycast */
	{ 0xc0a80000, 16 },	/* private */
	{ 0xc6120000, 15 },	/* benchmarking */
	{ 0xc6336400, 24 },	/* documentation */
	{ 0xcb007100, 24 },	/* documentation */
	{ 0xe0000000, 4 },	/* multicast */
	{ 0xf0000000, 4 },	/* reserved, and broadcast */
};

/*
 * IPv6 networks, first match wins.  v4_at >= 0: the network carries an
 * IPv4 address at that byte, and the address is judged as that IPv4 one
 * (so ::ffff:10.0.0.1 is as private as 10.0.0.1); else it is refused.
 */
static const struct { unsigned char net[16]; int len, v4_at; } g_closed6[] = {
	{ { 0 }, 96, -1 },	/* ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d */
	{ { [10] = 0xff, [11] = 0xff }, 96, 12 },		/* IPv4-mapped */
	{ { [8] = 0xff, [9] = 0xff }, 96, 12 },			/* IPv4-translated */
	{ { 0, 0x64, 0xff, 0x9b }, 96, 12 },			/* NAT64 */
	{ { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, -1 },		/* NAT64 for local use */
	{ { 1, 0 }, 64, -1 },					/* discard-only */
	{ { 0x20, 0x01, 0, 0 }, 32, -1 },			/* Teredo */
	{ { 0x20, 0x01, 0, 0x02, 0, 0 }, 48, -1 },		/* benchmarking */
	{ { 0x20, 0x01, 0, 0x10 }, 28, -1 },			/* ORCHID */
	{ { 0x20, 0x01, 0, 0x20 }, 28, -1 },			/* ORCHIDv2 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, -1 },			/* documentation */
	{ { 0x20, 0x02 }, 16, 2 },				/* 6to4 */
	{ { 0x3f, 0xff }, 20, -1 },				/* documentation */
	{ { 0xfc }, 7, -1 },					/* unique local */
	{ { 0xfe, 0x80 }, 10, -1 },				/* link-local */
	{ { 0xfe, 0xc0 }, 10, -1 },				/* site-local */
	{ { 0xff }, 8, -1 },					/* multicast */
};

static int prefix_matches(const unsigned char *a, const unsigned char *net, int len)
{
	int whole = len / 8, rest = len % 8;

	return memcmp(a, net, (size_t)whole) == 0 &&
	       (rest == 0 || ((a[whole] ^ net[whole]) & (0xff << (8 - rest)) & 0xff) == 0);
}

static int v4_is_public(uint32_t a)
{
	for (size_t i = 0; i < sizeof g_closed4 / sizeof g_closed4[0]; i++)
		if ((a ^ g_closed4[i].net) >> (32 - g_closed4[i].len) == 0)
			return 0;
	return 1;
}

int webhook_addr_is_public(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_is_public(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		for (size_t i = 0; i < sizeof g_closed6 / sizeof g_closed6[0]; i++) {
			const unsigned char *v4;
			if (!prefix_matches(b, g_closed6[i].net, g_closed6[i].len))
				continue;
			if (g_closed6[i].v4_at < 0)
				return 0;
			v4 = b + g_closed6[i].v4_at;
			return v4_is_public((uint32_t)v4[0] << 24 | (uint32_t)v4[1] << 16 |
					    (uint32_t)v4[2] << 8 | v4[3]);
		}
		return 1;
	}
	return 0;
}

int webhook_secret_seal(const struct config *cfg, const char *whsec, struct buf *out)
{
	return token_seal(cfg->secret_key, whsec, strlen(whsec), out);
}

int webhook_secret_open(const struct config *cfg, const char *stored,
			char out[TOKEN_WHSEC_LEN + 1])
{
	struct buf b;
	int rc = -1;

	out[0] = '\0';
	if (stored[0] == '\0')
		return 0;
	if (strncmp(stored, "whsec_", 6) == 0) {
		if (strlen(stored) > TOKEN_WHSEC_LEN)
			return -1;
		snprintf(out, TOKEN_WHSEC_LEN + 1, "%s", stored);
		return 1;
	}
	if (strncmp(stored, "\\x", 2) != 0)
		return -1;
	buf_init(&b, 256);
	rc = token_unseal_any(cfg->secret_key, CONFIG_PREVIOUS_KEY(cfg), stored + 2, &b);
	if (rc >= 0 && (b.len > TOKEN_WHSEC_LEN || strncmp(b.data, "whsec_", 6) != 0))
		rc = -1;
	if (rc >= 0)
		snprintf(out, TOKEN_WHSEC_LEN + 1, "%s", b.data);
	sodium_memzero(b.data, b.len);
	buf_free(&b);
	return rc;
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
		if (!webhook_addr_is_public(a->ai_addr)) {
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
	if (!g->allow_private && !webhook_addr_is_public(&a->addr)) {
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
