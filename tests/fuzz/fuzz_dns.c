/*
 * Fuzz target: the DNS answer parser, which reads datagrams from the
 * network (deliverability_mx() accepts any with the right id).  The first
 * byte picks the question's type (MX, A, AAAA); the rest is the answer.
 * The parser must read nothing outside the datagram and say one of its
 * three things, consistently.
 */
#include <arpa/nameser.h>

#include "fuzz.h"

#include "deliverability.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { ns_t_mx, ns_t_a, ns_t_aaaa };
	unsigned char *ans;
	int type, nx = -1, null_mx = -1, got;

	if (size < 1 || size > 65536)
		return 0;
	type = types[data[0] % 3];
	/* a copy of exactly the datagram's size, so that any read past it is caught */
	if ((ans = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(ans, data + 1, size - 1);
	got = deliverability_dns_answer(ans, (int)(size - 1), type, &nx, &null_mx);
	FUZZ_ASSERT(got >= -1 && got <= 1, NULL, 0);
	FUZZ_ASSERT((nx == 0 || nx == 1) && (null_mx == 0 || null_mx == 1), NULL, 0);
	FUZZ_ASSERT(!nx || got == 0, NULL, 0);
	FUZZ_ASSERT(!null_mx || type == ns_t_mx, NULL, 0);
	free(ans);
	return 0;
}
