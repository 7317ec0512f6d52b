/* Unit tests of the capped growable buffer. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "buf.h"

START_TEST(append_grows_and_terminates)
{
	struct buf b;
	buf_init(&b, 1000);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(buf_puts(&b, "abcdefg"), 0);
	ck_assert_uint_eq(b.len, 700);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(strncmp(b.data + 693, "abcdefg", 7), 0);
	buf_free(&b);
}
END_TEST

START_TEST(cap_is_never_passed)
{
	struct buf b;
	buf_init(&b, 10);
	ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_int_eq(buf_puts(&b, "x"), -1);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "0123456789");
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	buf_reset(&b);
	ck_assert_int_eq(buf_printf(&b, "%s-%d", "ab", 42), 0);
	ck_assert_str_eq(b.data, "ab-42");
	ck_assert_int_eq(buf_printf(&b, "%s", "123456"), -1);
	ck_assert_str_eq(b.data, "ab-42");
	buf_free(&b);
}
END_TEST

START_TEST(huge_append_fails_cleanly)
{
	struct buf b;
	buf_init(&b, 64);
	ck_assert_int_eq(buf_append(&b, "x", (size_t)-1), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(steal_hands_over_ownership)
{
	struct buf b;
	char *s;
	buf_init(&b, 64);
	s = buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
	buf_puts(&b, "hello");
	s = buf_steal(&b);
	ck_assert_str_eq(s, "hello");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	free(s);
	buf_free(&b);
}
END_TEST

UNIT_MAIN("buf",
	  append_grows_and_terminates,
	  cap_is_never_passed,
	  huge_append_fails_cleanly,
	  steal_hands_over_ownership)
