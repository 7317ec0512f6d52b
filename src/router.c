/* See router.h. */
#include "router.h"

#include <string.h>

/* Matches path against pattern segment by segment, filling args. */
static int pattern_match(const char *pat, const char *path, char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX])
{
	int nargs = 0;

	while (*pat && *path) {
		if (*pat == '{') {
			const char *pe = strchr(pat, '}');
			size_t n = strcspn(path, "/");
			if (pe == NULL || n == 0 || n >= ROUTER_ARG_MAX || nargs >= ROUTER_MAX_ARGS)
				return 0;
			memcpy(args[nargs], path, n);
			args[nargs++][n] = '\0';
			pat = pe + 1;
			path += n;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	return *pat == '\0' && *path == '\0';
}

static int method_matches(const char *want, const char *got)
{
	return strcmp(want, got) == 0 || (strcmp(want, "GET") == 0 && strcmp(got, "HEAD") == 0);
}

enum router_result router_match(const struct route *table, size_t n, const char *method,
				const char *path, const struct route **out,
				char args[ROUTER_MAX_ARGS][ROUTER_ARG_MAX], char *allow,
				size_t allowlen)
{
	char scratch[ROUTER_MAX_ARGS][ROUTER_ARG_MAX];
	int path_known = 0;
	size_t used = 0;

	if (allowlen)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!pattern_match(table[i].pattern, path, scratch))
			continue;
		if (method_matches(table[i].method, method)) {
			*out = &table[i];
			memcpy(args, scratch, sizeof scratch);
			return ROUTER_MATCH;
		}
		path_known = 1;
		if (strstr(allow, table[i].method) == NULL) {
			size_t ml = strlen(table[i].method);
			const char *extra = strcmp(table[i].method, "GET") == 0 ? ", HEAD" : "";
			if (used + ml + strlen(extra) + 3 < allowlen) {
				if (used) {
					memcpy(allow + used, ", ", 2);
					used += 2;
				}
				memcpy(allow + used, table[i].method, ml);
				used += ml;
				memcpy(allow + used, extra, strlen(extra));
				used += strlen(extra);
				allow[used] = '\0';
			}
		}
	}
	return path_known ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}
