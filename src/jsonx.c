/* See jsonx.h. */
#include "jsonx.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static void jsonx_free(void *p)
{
	if (p) {
		sodium_memzero(p, malloc_usable_size(p));
		free(p);
	}
}

void jsonx_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, jsonx_free);
}

json_t *jsonx_parse_object(const char *data, size_t n, char *msg, size_t msglen)
{
	json_error_t e;
	json_t *root;

	if (n == 0) {
		snprintf(msg, msglen, "request body is empty; a JSON object is required");
		return NULL;
	}
	root = json_loadb(data, n, JSON_REJECT_DUPLICATES, &e);
	if (root == NULL) {
		/* jansson's texts name the problem without echoing the input. */
		snprintf(msg, msglen, "invalid JSON at line %d, column %d: %s", e.line,
			 e.column, e.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(msg, msglen, "request body must be a JSON object");
		return NULL;
	}
	return root;
}

int jsonx_get_string(json_t *obj, const char *name, size_t maxlen, const char **out,
		     char *msg, size_t msglen)
{
	json_t *v = json_object_get(obj, name);
	const char *s;
	size_t chars = 0;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(msg, msglen, "'%s' must be a string", name);
		return -1;
	}
	s = json_string_value(v);
	/* jansson guarantees valid UTF-8: count code points by lead bytes. */
	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xC0) != 0x80)
			chars++;
	if (chars > maxlen || strlen(s) != json_string_length(v)) {
		snprintf(msg, msglen, "'%s' must be at most %zu characters", name, maxlen);
		return -1;
	}
	*out = s;
	return 1;
}

int jsonx_get_int(json_t *obj, const char *name, long long min, long long max, int *out,
		  char *msg, size_t msglen)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(msg, msglen, "'%s' must be an integer from %lld to %lld", name, min, max);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 1;
}

int jsonx_only_members(json_t *obj, const char *const *allowed, char *msg, size_t msglen)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			snprintf(msg, msglen, "unknown field '%.64s'", key);
			return -1;
		}
	}
	return 0;
}

char *jsonx_ok(json_t *data)
{
	json_t *env = json_object();
	char *text = NULL;

	if (env == NULL) {
		json_decref(data);
		return NULL;
	}
	json_object_set_new(env, "success", json_true());
	json_object_set_new(env, "data", data ? data : json_object());
	text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	return text;
}

char *jsonx_error(const char *code, const char *message, json_t *details)
{
	json_t *env = json_object(), *err = json_object();
	char *text = NULL;

	if (env == NULL || err == NULL) {
		json_decref(env);
		json_decref(err);
		json_decref(details);
		return NULL;
	}
	json_object_set_new(err, "code", json_string(code));
	json_object_set_new(err, "message", json_string(message));
	json_object_set_new(err, "details", details ? details : json_object());
	json_object_set_new(env, "success", json_false());
	json_object_set_new(env, "error", err);
	text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	return text;
}
