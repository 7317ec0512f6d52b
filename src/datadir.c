#include "datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/mailproof"
#endif

static int has_schema(const char *dir)
{
	char path[PATH_MAX];

	return snprintf(path, sizeof path, "%s/sql/lifecycle.sql", dir) < (int)sizeof path &&
	       access(path, R_OK) == 0;
}

void datadir_find(char *out, size_t len)
{
	static const char *const beside[] = { "/../share/mailproof", "", "/.." };
	char exe[PATH_MAX], dir[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (size_t i = 0; slash && i < sizeof beside / sizeof beside[0]; i++) {
			if (snprintf(dir, sizeof dir, "%s%s", exe, beside[i]) >= (int)sizeof dir ||
			    !has_schema(dir))
				continue;
			/* "build/.." would read oddly in logs and doctor's lines */
			if (realpath(dir, exe) != NULL && strlen(exe) < len)
				snprintf(out, len, "%s", exe);
			else
				snprintf(out, len, "%s", dir);
			return;
		}
	}
	snprintf(out, len, "%s", PKGDATADIR);
}
