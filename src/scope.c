/* See scope.h. */
#include "scope.h"

#include <stdio.h>
#include <string.h>

static const char *const scope_names[] = {
	"verifications:write", "verifications:check", "verifications:read",
	"verifications:deliver", NULL
};

const char *scope_name(unsigned bit)
{
	return bit == SCOPE_WRITE ? scope_names[0] : bit == SCOPE_CHECK ? scope_names[1] :
	       bit == SCOPE_DELIVER ? scope_names[3] : scope_names[2];
}

int scope_parse(const char *list, unsigned *out)
{
	const char *p = list;

	*out = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int found = 0;
		for (int i = 0; scope_names[i]; i++)
			if (strlen(scope_names[i]) == n && strncmp(p, scope_names[i], n) == 0) {
				*out |= 1u << i;
				found = 1;
			}
		if (!found)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return *out ? 0 : -1;
}

int scope_format(unsigned bits, char *out, size_t outlen)
{
	size_t len = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; scope_names[i]; i++) {
		int n;

		if (!(bits & 1u << i))
			continue;
		n = snprintf(out + len, outlen - len, "%s%s", len ? "," : "", scope_names[i]);
		if (n < 0 || (size_t)n >= outlen - len)
			return -1;
		len += (size_t)n;
	}
	return 0;
}
