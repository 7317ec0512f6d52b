/* See vstatus.h. */
#include "vstatus.h"

#include <string.h>

static const char *const vstatus_names[] = {
	[VS_PENDING] = "PENDING", [VS_VERIFIED] = "VERIFIED", [VS_FAILED] = "FAILED",
	[VS_EXPIRED] = "EXPIRED", [VS_CANCELED] = "CANCELED",
};

#define VS_COUNT (sizeof vstatus_names / sizeof vstatus_names[0])

const char *vstatus_name(enum verification_status s)
{
	return (unsigned)s < VS_COUNT ? vstatus_names[s] : "FAILED";
}

int vstatus_parse(const char *name, enum verification_status *out)
{
	for (unsigned i = 0; i < VS_COUNT; i++)
		if (strcmp(name, vstatus_names[i]) == 0) {
			*out = (enum verification_status)i;
			return 0;
		}
	return -1;
}

enum verification_status vstatus_of(const char *name)
{
	enum verification_status s = VS_FAILED;

	vstatus_parse(name, &s);
	return s;
}
