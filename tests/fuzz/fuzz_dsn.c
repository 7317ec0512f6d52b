/*
 * Fuzz target: the bounce reader.  The input is a whole message, as an
 * MTA pipes it to `mailproofctl bounce`.  Whatever it is, dsn_parse()
 * must fill a result that the rest of mailproof can store as it is: a
 * known kind; a status that is empty or an RFC 3463 code of class 2, 4
 * or 5 matching the kind; a diagnostic and a recipient of printable
 * ASCII, NUL-terminated within their arrays.  The seeds are the corpus of
 * tests/data/bounces/.
 */
#include <ctype.h>

#include "fuzz.h"

#include "dsn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	return 0;
}

static int valid_status(const char *s)
{
	int parts = 0, digits = 0;

	if (s[0] == '\0')
		return 1;
	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	for (s++; *s; s++) {
		if (*s == '.') {
			if (parts && digits == 0)
				return 0;
			parts++;
			digits = 0;
		} else if (isdigit((unsigned char)*s) && ++digits <= 3) {
			continue;
		} else {
			return 0;
		}
	}
	return parts == 2 && digits > 0;
}

static int printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn d;

	dsn_parse((const char *)data, size, &d);
	FUZZ_ASSERT(d.kind >= DSN_UNKNOWN && d.kind <= DSN_AUTOREPLY, data, size);
	FUZZ_ASSERT(valid_status(d.status), d.status, strnlen(d.status, sizeof d.status));
	FUZZ_ASSERT(printable(d.diagnostic, sizeof d.diagnostic), data, size);
	FUZZ_ASSERT(printable(d.recipient, sizeof d.recipient), data, size);
	if (d.kind == DSN_FAILED || d.kind == DSN_DELAYED) {
		FUZZ_ASSERT(d.status[0] == (d.kind == DSN_FAILED ? '5' : '4') ||
			    (d.status[0] && !d.guessed), d.status, strlen(d.status));
	}
	return 0;
}
