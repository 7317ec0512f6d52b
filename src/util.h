/*
 * Small helpers shared by every program: the one integer parser, clocks,
 * names and addresses.
 */
#ifndef MAILPROOF_UTIL_H
#define MAILPROOF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses a whole decimal integer in [min, max].  On error returns 0 and sets
 * *errstr to "invalid", "too small" or "too large"; on success *errstr is NULL.
 */
long long util_parse_int(const char *s, long long min, long long max, const char **errstr);

/* Milliseconds of CLOCK_MONOTONIC, for durations. */
int64_t util_mono_ms(void);

/* True when s is 1..max characters of [A-Za-z0-9._-]. */
int util_is_token(const char *s, size_t max);

/* True when s has no control characters (line breaks among them). */
int util_no_controls(const char *s);

/* t as the API writes times (RFC 3339, UTC, milliseconds): "2026-11-30T10:00:00.000Z". */
#define UTIL_TIME_MAX 32
void util_time_text(long long t, char out[UTIL_TIME_MAX]);

/* The text of an address: INET6_ADDRSTRLEN, from <netinet/in.h>. */
#define UTIL_IP_MAX 46

/*
 * s as an IPv4 or IPv6 address (no port, prefix, brackets or zone) in its
 * canonical text, so that one address is always written one way (an
 * IPv4-mapped IPv6 address as the IPv4 one).  0, or -1 when s is no such
 * address.
 */
int util_ip_canonical(const char *s, char out[UTIL_IP_MAX]);

#endif
