/* See util.h. */
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long util_parse_int(const char *s, long long min, long long max, const char **errstr)
{
	char *end;
	long long v;

	*errstr = "invalid";
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return 0;
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return 0;
	}
	*errstr = NULL;
	return v;
}

int64_t util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int util_is_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int util_ip_canonical(const char *s, char out[UTIL_IP_MAX])
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, out, UTIL_IP_MAX) ? 0 : -1;
	if (inet_pton(AF_INET6, s, bin) != 1)
		return -1;
	/* ::ffff:a.b.c.d (a dual-stack socket's view of an IPv4 client) is that client */
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bin))
		return inet_ntop(AF_INET, bin + 12, out, UTIL_IP_MAX) ? 0 : -1;
	return inet_ntop(AF_INET6, bin, out, UTIL_IP_MAX) ? 0 : -1;
}

void util_time_text(long long t, char out[UTIL_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, UTIL_TIME_MAX, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		out[0] = '\0';
}

int util_no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}
