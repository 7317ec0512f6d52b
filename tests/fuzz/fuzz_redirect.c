/*
 * Fuzz target: redirect URL matching.  The input is lines: the redirectUrl
 * a client sent, the parameters to append, then up to four allowed
 * prefixes of a tenant (none given: two fixed ones).  A URL that
 * redirect_allowed() accepts must be one a browser reads as libcurl does
 * (no controls, spaces, backslashes or user names) and must have the
 * origin of an allowed prefix; redirect_with_params() must keep the URL
 * and its fragment around the parameters.
 */
#include <strings.h>

#include "fuzz.h"

#include "redirect.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "https://shop.example.com/done", "http://localhost:3000/" };
	struct fuzz_fields ff;
	const char *url, *params, *prefixes[4];
	size_t n = 0, base;
	struct buf out;
	char origin[300], porigin[300];

	fuzz_split(&ff, data, size, '\n', 6);
	url = ff.f[0];
	params = ff.f[1];
	for (size_t i = 2; i < ff.n; i++)
		prefixes[n++] = ff.f[i];
	if (n == 0) {
		prefixes[0] = fixed[0];
		prefixes[1] = fixed[1];
		n = 2;
	}
	if (redirect_allowed(url, prefixes, n)) {
		int same = 0;
		FUZZ_ASSERT(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0,
			    url, strlen(url));
		for (const char *c = url; *c; c++)
			FUZZ_ASSERT((unsigned char)*c > 0x20 && *c != 0x7f && !strchr("\\\"<>`", *c),
				    url, strlen(url));
		FUZZ_ASSERT(redirect_origin(url, origin, sizeof origin) == 0, url, strlen(url));
		for (size_t i = 0; i < n && !same; i++)
			same = redirect_origin(prefixes[i], porigin, sizeof porigin) == 0 &&
			       strcasecmp(origin, porigin) == 0;
		FUZZ_ASSERT(same, url, strlen(url));
	}
	/* the parameters are URL-safe by contract (the caller builds them) */
	if (strspn(params, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=&_.-~%")
	    != strlen(params))
		params = "verified=true&verificationId=ev_0123456789ABCDEFGHJKMNPQRS";
	buf_init(&out, 8192);
	base = strcspn(url, "#");
	if (redirect_with_params(url, params, &out) == 0) {
		FUZZ_ASSERT(out.len >= strlen(url) + strlen(params), NULL, 0);
		FUZZ_ASSERT(strncmp(out.data, url, base) == 0, out.data, out.len);
		FUZZ_ASSERT(strcmp(out.data + out.len - strlen(url + base), url + base) == 0, out.data,
			    out.len);
		FUZZ_ASSERT(strstr(out.data + base, params) != NULL, out.data, out.len);
	}
	buf_free(&out);
	fuzz_fields_free(&ff);
	return 0;
}
