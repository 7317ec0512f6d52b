/* Unit tests of strict body parsing, typed access and the envelope. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

static json_t *parse(const char *s)
{
	char msg[256];
	return jsonx_parse_object(s, strlen(s), msg, sizeof msg);
}

START_TEST(rejects_what_the_api_refuses)
{
	const char *bad[] = { "", "{", "[]", "\"x\"", "1", "{\"a\":1,\"a\":2}", "{\"a\":1} 2",
			      "{\"a\":\"\xff\"}", "{\"a\":\"\\u0000\"}", "{'a':1}" };
	char msg[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msg[0] = '\0';
		ck_assert_msg(jsonx_parse_object(bad[i], strlen(bad[i]), msg, sizeof msg) == NULL,
			      "accepted %s", bad[i]);
		ck_assert_msg(msg[0] != '\0', "no message for %s", bad[i]);
	}
}
END_TEST

START_TEST(typed_string_access)
{
	json_t *o = parse("{\"s\":\"h\xc3\xa9llo\",\"n\":5,\"z\":null}");
	const char *v;
	char msg[128];

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jsonx_get_string(o, "s", 5, &v, msg, sizeof msg), 1);
	ck_assert_str_eq(v, "h\xc3\xa9llo");
	/* five characters, six bytes: the limit counts characters */
	ck_assert_int_eq(jsonx_get_string(o, "s", 4, &v, msg, sizeof msg), -1);
	ck_assert_int_eq(jsonx_get_string(o, "n", 5, &v, msg, sizeof msg), -1);
	ck_assert_ptr_nonnull(strstr(msg, "'n' must be a string"));
	ck_assert_int_eq(jsonx_get_string(o, "z", 5, &v, msg, sizeof msg), 0);
	ck_assert_int_eq(jsonx_get_string(o, "missing", 5, &v, msg, sizeof msg), 0);
	json_decref(o);
}
END_TEST

START_TEST(unknown_members_are_named)
{
	static const char *const allowed[] = { "code", NULL };
	json_t *o = parse("{\"code\":\"1\",\"cdoe\":\"2\"}");
	char msg[128];

	ck_assert_int_eq(jsonx_only_members(o, allowed, msg, sizeof msg), -1);
	ck_assert_ptr_nonnull(strstr(msg, "cdoe"));
	json_decref(o);
	o = parse("{\"code\":\"1\"}");
	ck_assert_int_eq(jsonx_only_members(o, allowed, msg, sizeof msg), 0);
	json_decref(o);
}
END_TEST

START_TEST(envelopes)
{
	char *s = jsonx_ok(json_pack("{s:i}", "a", 1));
	ck_assert_str_eq(s, "{\"success\":true,\"data\":{\"a\":1}}");
	free(s);
	s = jsonx_error("INVALID_CODE", "wrong code", json_pack("{s:i}", "attemptsRemaining", 2));
	ck_assert_str_eq(s, "{\"success\":false,\"error\":{\"code\":\"INVALID_CODE\","
			    "\"message\":\"wrong code\",\"details\":{\"attemptsRemaining\":2}}}");
	free(s);
	s = jsonx_error("NOT_FOUND", "no such route", NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"details\":{}"));
	free(s);
}
END_TEST

/* Last: it changes jansson's allocator for the rest of the program. */
START_TEST(frees_wiped_once_asked)
{
	json_malloc_t m;
	json_free_t f;
	json_t *v;

	json_get_alloc_funcs(&m, &f);
	ck_assert_ptr_eq((void *)f, (void *)free);
	jsonx_wipe_on_free();
	json_get_alloc_funcs(&m, &f);
	ck_assert_ptr_ne((void *)f, (void *)free);
	/* and JSON still works with it, under ASan and valgrind */
	v = json_pack("{s:s}", "code", "482913");
	ck_assert_str_eq(json_string_value(json_object_get(v, "code")), "482913");
	json_decref(v);
}
END_TEST

UNIT_MAIN("jsonx",
	  rejects_what_the_api_refuses,
	  typed_string_access,
	  unknown_members_are_named,
	  envelopes,
	  frees_wiped_once_asked)
