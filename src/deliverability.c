/* See deliverability.h.  DNS messages are built and parsed by libresolv. */
#include "deliverability.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define LIST_MAX_BYTES (8 * 1024 * 1024)

const char *deliverability_name(enum deliverability d)
{
	return d == DELIVERABILITY_OK ? "DELIVERABLE" : d == DELIVERABILITY_NO ? "UNDELIVERABLE" : "UNKNOWN";
}

/* A list of domains, read once per process: sorted for bsearch, and as written. */
struct domain_list {
	int loaded;
	char *text;
	char **names;
	char **in_order;	/* the file's order: the common domains, most common first */
	size_t n;
};

static struct domain_list g_disposable, g_common;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path (key: its config key, for the log) into l; an unreadable file is an empty list. */
static void list_load(struct domain_list *l, const char *key, const char *path)
{
	struct buf b;
	char err[512];
	size_t cap = 0;

	l->loaded = 1;
	if (path[0] == '\0')
		return;
	buf_init(&b, LIST_MAX_BYTES);
	if (buf_read_file(&b, path, err, sizeof err) < 0) {
		log_warnx("%s %s", key, err);
		buf_free(&b);
		return;
	}
	l->text = buf_steal(&b);
	for (char *save, *line = strtok_r(l->text, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char **grown;
		line += strspn(line, " \t");
		line[strcspn(line, " \t#")] = '\0';
		if (*line == '\0')
			continue;
		for (char *p = line; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (l->n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(l->names, cap * sizeof *grown)) == NULL)
				break;
			l->names = grown;
		}
		l->names[l->n++] = line;
	}
	if (l->n && (l->in_order = malloc(l->n * sizeof *l->in_order)) != NULL)
		memcpy(l->in_order, l->names, l->n * sizeof *l->names);
	qsort(l->names, l->n, sizeof *l->names, cmp_name);
}

static int listed(const struct domain_list *l, const char *domain)
{
	return l->n && bsearch(&domain, l->names, l->n, sizeof *l->names, cmp_name) != NULL;
}

static void lower_copy(const char *s, char out[256])
{
	size_t i;

	for (i = 0; s[i] && i + 1 < 256; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[i] = '\0';
}

int deliverability_is_disposable(const struct config *cfg, const char *domain)
{
	char lower[256];

	if (!g_disposable.loaded)
		list_load(&g_disposable, "disposable_domains_file", cfg->disposable_domains_file);
	lower_copy(domain, lower);
	/* the domain itself, then each parent: a.b.example -> b.example -> example */
	for (const char *d = lower; d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL)
		if (listed(&g_disposable, d))
			return 1;
	return 0;
}

/*
 * Optimal string alignment distance of a and b (insertions, deletions,
 * substitutions and transpositions of neighbours: "gmial" is one from
 * "gmail"), or max + 1 as soon as it is sure to exceed max.
 */
static int osa_distance(const char *a, const char *b, int max)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int d[DELIVERABILITY_DOMAIN_MAX + 1][DELIVERABILITY_DOMAIN_MAX + 1];

	if (la > DELIVERABILITY_DOMAIN_MAX || lb > DELIVERABILITY_DOMAIN_MAX || abs(la - lb) > max)
		return max + 1;
	for (int i = 0; i <= la; i++)
		d[i][0] = i;
	for (int j = 0; j <= lb; j++)
		d[0][j] = j;
	for (int i = 1; i <= la; i++) {
		int row_min = INT_MAX;
		for (int j = 1; j <= lb; j++) {
			int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
			if (v < row_min)
				row_min = v;
		}
		if (row_min > max)
			return max + 1;
	}
	return d[la][lb];
}

int deliverability_suggest(const struct config *cfg, const char *domain,
			   char out[DELIVERABILITY_DOMAIN_MAX + 1])
{
	char lower[256];
	const char *best = NULL;

	if (!g_common.loaded)
		list_load(&g_common, "common_domains_file", cfg->common_domains_file);
	lower_copy(domain, lower);
	if (listed(&g_common, lower))
		return 0;
	/* one slip from several (yahoo.cm: yahoo.com, yahoo.ca): the most common */
	for (size_t i = 0; g_common.in_order && i < g_common.n && best == NULL; i++)
		if (osa_distance(lower, g_common.in_order[i], 1) <= 1)
			best = g_common.in_order[i];
	if (best == NULL)
		return 0;
	snprintf(out, DELIVERABILITY_DOMAIN_MAX + 1, "%s", best);
	return 1;
}

/*
 * The resolver state of this process: /etc/resolv.conf is read once, not
 * for every question (a SIGHUP replaces the workers, which reads it again).
 * NULL when it cannot be read.
 */
static res_state resolver(void)
{
	static struct __res_state st;
	static int state;	/* 0 not yet, 1 ready, -1 failed */

	if (state == 0)
		state = res_ninit(&st) == 0 ? 1 : -1;
	return state == 1 ? &st : NULL;
}

/* The resolver to ask: dns_server, else the first of resolv.conf. */
static int resolver_addr(const struct config *cfg, struct sockaddr_storage *ss, socklen_t *len)
{
	res_state st = resolver();
	struct addrinfo hints, *ai = NULL;
	char host[80];
	const char *port = "53", *colon;

	if (cfg->dns_server[0]) {
		/* "1.2.3.4", "1.2.3.4:5353", "[::1]:5353" or "::1" */
		snprintf(host, sizeof host, "%s", cfg->dns_server);
		if (host[0] == '[' && (colon = strstr(host, "]:")) != NULL) {
			port = colon + 2;
			memmove(host, host + 1, (size_t)(colon - host - 1));
			host[colon - host - 1] = '\0';
		} else if ((colon = strchr(host, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
			host[colon - host] = '\0';
			port = colon + 1;
		}
		memset(&hints, 0, sizeof hints);
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		hints.ai_socktype = SOCK_DGRAM;
		if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
			return -1;
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		freeaddrinfo(ai);
		return 0;
	}
	if (st == NULL || st->nscount == 0)
		return -1;
	memcpy(ss, &st->nsaddr_list[0], sizeof st->nsaddr_list[0]);
	*len = sizeof st->nsaddr_list[0];
	return 0;
}

/*
 * One query over UDP.  Returns the answer length, or -1 (no answer by the
 * deadline, or garbage).
 */
static int dns_exchange(int fd, const char *domain, int type, unsigned char *ans, int anslen,
			int64_t deadline)
{
	unsigned char q[NS_PACKETSZ];
	res_state st = resolver();
	int qlen, n;
	uint16_t id = (uint16_t)randombytes_uniform(65536);

	if (st == NULL)
		return -1;
	qlen = res_nmkquery(st, ns_o_query, domain, ns_c_in, type, NULL, 0, NULL, q, sizeof q);
	if (qlen < NS_HFIXEDSZ)
		return -1;
	q[0] = (unsigned char)(id >> 8);	/* our own id, from libsodium */
	q[1] = (unsigned char)id;
	q[2] |= 0x01;				/* recursion desired */
	if (send(fd, q, (size_t)qlen, 0) != qlen)
		return -1;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - util_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = (int)recv(fd, ans, (size_t)anslen, 0);
		/* an answer to this question: same id, the QR bit set */
		if (n >= NS_HFIXEDSZ && ans[0] == q[0] && ans[1] == q[1] && (ans[2] & 0x80))
			return n;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

/* See deliverability.h: ans is whatever came from the network. */
int deliverability_dns_answer(const unsigned char *ans, int len, int type, int *nx,
			      int *null_mx)
{
	ns_msg msg;
	ns_rr rr;
	int found = 0;

	*nx = *null_mx = 0;
	if (ns_initparse(ans, len, &msg) < 0 || ns_msg_getflag(msg, ns_f_tc))
		return -1;
	if (ns_msg_getflag(msg, ns_f_rcode) == ns_r_nxdomain) {
		*nx = 1;
		return 0;
	}
	if (ns_msg_getflag(msg, ns_f_rcode) != ns_r_noerror)
		return -1;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		char name[NS_MAXDNAME];
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return -1;
		if ((int)ns_rr_type(rr) != type)
			continue;
		if (type == ns_t_mx) {
			if (ns_rr_rdlen(rr) < 3 ||
			    ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2,
					       name, sizeof name) < 0)
				return -1;
			if (name[0] == '\0' || strcmp(name, ".") == 0) {
				*null_mx = 1;
				continue;
			}
		}
		found = 1;
	}
	return found;
}

enum deliverability deliverability_mx(const struct config *cfg, const char *domain)
{
	unsigned char ans[NS_PACKETSZ * 4];
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int64_t deadline = util_mono_ms() + cfg->dns_timeout_ms;
	enum deliverability result = DELIVERABILITY_UNKNOWN;
	int fd = -1, n, got, nx, null_mx;

	if (!cfg->mx_check)
		return DELIVERABILITY_UNKNOWN;
	if (resolver_addr(cfg, &ss, &sslen) < 0) {
		log_warnx("deliverability: no DNS resolver to ask (dns_server, /etc/resolv.conf)");
		return DELIVERABILITY_UNKNOWN;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* connect(): only the resolver's datagrams are received */
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) < 0)
		goto out;
	if ((n = dns_exchange(fd, domain, ns_t_mx, ans, sizeof ans, deadline)) < 0)
		goto out;
	got = deliverability_dns_answer(ans, n, ns_t_mx, &nx, &null_mx);
	if (got != 0) {
		result = got > 0 ? DELIVERABILITY_OK : DELIVERABILITY_UNKNOWN;
		goto out;
	}
	if (nx || null_mx) {
		result = DELIVERABILITY_NO;
		goto out;
	}
	/* No MX: an address record stands in for one (RFC 5321 5.1). */
	for (int i = 0, types[] = { ns_t_a, ns_t_aaaa }; i < 2; i++) {
		if ((n = dns_exchange(fd, domain, types[i], ans, sizeof ans, deadline)) < 0)
			goto out;
		if ((got = deliverability_dns_answer(ans, n, types[i], &nx, &null_mx)) != 0) {
			result = got > 0 ? DELIVERABILITY_OK : DELIVERABILITY_UNKNOWN;
			goto out;
		}
	}
	result = DELIVERABILITY_NO;
out:
	if (fd >= 0)
		close(fd);
	return result;
}
