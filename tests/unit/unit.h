/* The one main() of every unit test program: runs the listed Check tests. */
#ifndef MAILPROOF_UNIT_H
#define MAILPROOF_UNIT_H

#include <check.h>
#include <sodium.h>
#include <stddef.h>

static inline int unit_run(const char *name, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* One process: tests that set the environment see their own changes. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#define UNIT_MAIN(name, ...)                                                   \
	int main(void)                                                         \
	{                                                                      \
		const TTest *const tests[] = { __VA_ARGS__ };                  \
		return unit_run(name, tests, sizeof tests / sizeof tests[0]); \
	}

#endif
