/* See redirect.h. */
#include "redirect.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct parts {
	char scheme[8];
	char host[256];
	char port[8];
	char path[2048];
};

/* Shape checks a parser cannot be trusted with, then libcurl's parse. */
static int parse(const char *url, struct parts *p)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL;
	int ok = 0;

	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
		return 0;
	if (strlen(url) > 2000)
		return 0;
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '\\' || *c == '"' || *c == '<' ||
		    *c == '>' || *c == '`')
			return 0;
	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||	/* any userinfo */
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	if (strlen(host) >= sizeof p->host || strlen(path) >= sizeof p->path)
		goto out;
	snprintf(p->scheme, sizeof p->scheme, "%s", scheme);
	for (size_t i = 0; host[i] && i + 1 < sizeof p->host; i++)
		p->host[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
	p->host[strlen(host)] = '\0';	/* host names compare without case */
	snprintf(p->port, sizeof p->port, "%s", port);
	snprintf(p->path, sizeof p->path, "%s", path);
	ok = 1;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

int redirect_allowed(const char *url, const char *const *prefixes, size_t n)
{
	struct parts want, allow;

	if (!parse(url, &want))
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t plen;
		if (!parse(prefixes[i], &allow))
			continue;
		if (strcasecmp(want.scheme, allow.scheme) != 0 || strcmp(want.host, allow.host) != 0 ||
		    strcmp(want.port, allow.port) != 0)
			continue;
		/* "/done" allows "/done", "/done/x" and "/done?q", not "/doneevil" */
		plen = strlen(allow.path);
		if (strncmp(want.path, allow.path, plen) == 0 &&
		    (want.path[plen] == '\0' || want.path[plen] == '/' ||
		     (plen > 0 && allow.path[plen - 1] == '/')))
			return 1;
	}
	return 0;
}

int redirect_with_params(const char *url, const char *params, struct buf *out)
{
	size_t base = strcspn(url, "#");
	const char *q = memchr(url, '?', base);
	const char *sep = q == NULL ? "?" : (url[base - 1] == '?' || url[base - 1] == '&') ? "" : "&";

	if (buf_append(out, url, base) < 0 || buf_puts(out, sep) < 0 || buf_puts(out, params) < 0)
		return -1;
	return buf_puts(out, url + base);
}

int redirect_origin(const char *url, char *out, size_t outlen)
{
	struct parts p;

	if (!parse(url, &p))
		return -1;
	return snprintf(out, outlen, "%s://%s:%s", p.scheme, p.host, p.port) < (int)outlen ? 0 : -1;
}
