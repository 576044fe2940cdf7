/*
 * sibling.c - a program beside our own executable (see sibling.h).
 */
#include "sibling.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int sibling_path(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *execfn;
	char *slash;

	if (n > 0) {
		self[n] = '\0';
	} else { /* no /proc (a chroot, a minimal container): the name we were started by */
		execfn = (const char *)getauxval(AT_EXECFN);
		if (!execfn || strlen(execfn) >= sizeof(self))
			return -ENOENT;
		snprintf(self, sizeof(self), "%s", execfn);
	}
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	slash[1] = '\0';
	if ((size_t)snprintf(out, len, "%s%s", self, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}
