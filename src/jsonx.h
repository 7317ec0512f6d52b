/*
 * JSON on top of jansson (whose names take the json_ prefix): strict body
 * parsing, typed field access with the API's error messages, and the
 * response envelope of docs/openapi.yaml.
 */
#ifndef MAILPROOF_JSONX_H
#define MAILPROOF_JSONX_H

#include <stddef.h>

#include <jansson.h>

/*
 * Makes jansson zero what it frees, for the rest of the process: request
 * bodies, answers and events hold codes (a code typed, a customCode, a
 * code handed over, a verification.deliver event's mail).  Call once,
 * before any JSON is made.
 */
void jsonx_wipe_on_free(void);

/*
 * Parses a request body that must be one JSON object: rejects invalid UTF-8,
 * duplicate keys, NUL escapes and trailing data.  Returns the object (caller
 * owns it) or NULL with a client-safe message in msg.
 */
json_t *jsonx_parse_object(const char *data, size_t n, char *msg, size_t msglen);

/*
 * Reads an optional string member.  Returns 1 and sets *out (borrowed) when
 * present, 0 when absent or null, -1 with a message when it has another type
 * or is longer than maxlen characters (code points).
 */
int jsonx_get_string(json_t *obj, const char *name, size_t maxlen, const char **out,
		     char *msg, size_t msglen);

/*
 * Reads an optional integer member in [min, max]: 1 and *out when present,
 * 0 when absent or null, -1 with a message for another type or range.
 */
int jsonx_get_int(json_t *obj, const char *name, long long min, long long max, int *out,
		  char *msg, size_t msglen);

/*
 * Fails with a message naming the first member not in the NULL-terminated
 * list allowed, so that a misspelt field is an error, not ignored.
 */
int jsonx_only_members(json_t *obj, const char *const *allowed, char *msg, size_t msglen);

/* {"success":true,"data":data}; steals data; returns malloc'd text or NULL. */
char *jsonx_ok(json_t *data);
/* {"success":false,"error":{...}}; steals details (may be NULL). */
char *jsonx_error(const char *code, const char *message, json_t *details);

#endif
