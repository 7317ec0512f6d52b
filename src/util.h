/*
 * Small helpers shared by every program: the one integer parser, clocks and
 * the RFC 3339 time format of the API.
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

#endif
