/* Unit tests of route matching. */
#include "unit.h"
#include <string.h>

#include "router.h"

static void h(struct request *rq, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	(void)rq;
	(void)args;
}

static const struct route table[] = {
	{ "GET", "/healthz", 0, 0, h },
	{ "POST", "/v1/verifications/email", 1, 1, h },
	{ "POST", "/v1/verifications/email/verify", 2, 1, h },
	{ "GET", "/v1/verifications/email/{id}", 4, 0, h },
	{ "POST", "/v1/verifications/email/{id}/verify", 2, 1, h },
	{ "POST", "/v1/verifications/email/{id}/cancel", 1, 0, h },
};
#define N (sizeof table / sizeof table[0])

static enum router_result m(const char *method, const char *path, const struct route **rt,
			    char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], char *allow)
{
	return router_match(table, N, method, path, rt, args, allow, 64);
}

START_TEST(exact_and_placeholder_routes)
{
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], allow[64];
	const struct route *rt = NULL;

	ck_assert_int_eq(m("GET", "/healthz", &rt, args, allow), ROUTER_MATCH);
	ck_assert_ptr_eq(rt, &table[0]);
	ck_assert_int_eq(m("GET", "/v1/verifications/email/ev_ABC", &rt, args, allow), ROUTER_MATCH);
	ck_assert_ptr_eq(rt, &table[3]);
	ck_assert_str_eq(args[0], "ev_ABC");
	ck_assert_int_eq(m("POST", "/v1/verifications/email/ev_X/verify", &rt, args, allow),
			 ROUTER_MATCH);
	ck_assert_ptr_eq(rt, &table[4]);
	ck_assert_str_eq(args[0], "ev_X");
	/* the literal route wins over the placeholder for POST .../verify */
	ck_assert_int_eq(m("POST", "/v1/verifications/email/verify", &rt, args, allow), ROUTER_MATCH);
	ck_assert_ptr_eq(rt, &table[2]);
}
END_TEST

START_TEST(head_matches_get)
{
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], allow[64];
	const struct route *rt = NULL;

	ck_assert_int_eq(m("HEAD", "/healthz", &rt, args, allow), ROUTER_MATCH);
	ck_assert_ptr_eq(rt, &table[0]);
}
END_TEST

START_TEST(unknown_paths_are_not_found)
{
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], allow[64];
	const struct route *rt = NULL;
	const char *paths[] = { "", "/", "/healthz/", "/healthzz", "/v1/verifications/email/",
				"/v1/verifications/email//verify", "/v1/verifications/email/a/b",
				"/v1/verifications/email/x/verify/" };

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		ck_assert_msg(m("GET", paths[i], &rt, args, allow) == ROUTER_NOT_FOUND, "%s", paths[i]);
}
END_TEST

START_TEST(wrong_method_lists_allowed)
{
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], allow[64];
	const struct route *rt = NULL;

	ck_assert_int_eq(m("DELETE", "/healthz", &rt, args, allow), ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET, HEAD");
	ck_assert_int_eq(m("PUT", "/v1/verifications/email/ev_1", &rt, args, allow),
			 ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET, HEAD");
	ck_assert_int_eq(m("GET", "/v1/verifications/email/ev_1/cancel", &rt, args, allow),
			 ROUTER_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "POST");
}
END_TEST

START_TEST(overlong_segment_does_not_match)
{
	char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], allow[64], path[600];
	const struct route *rt = NULL;

	memcpy(path, "/v1/verifications/email/", 24);
	memset(path + 24, 'A', 500);
	path[524] = '\0';
	ck_assert_int_eq(m("GET", path, &rt, args, allow), ROUTER_NOT_FOUND);
}
END_TEST

UNIT_MAIN("router",
	  exact_and_placeholder_routes,
	  head_matches_get,
	  unknown_paths_are_not_found,
	  wrong_method_lists_allowed,
	  overlong_segment_does_not_match)
