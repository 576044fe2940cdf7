/*
 * open_noatime.c - opens that keep the access time where allowed (see
 * open_noatime.h).
 */
#include "open_noatime.h"

#include <errno.h>
#include <fcntl.h>

int openat_noatime(int dirfd, const char *name, int flags, bool *kept)
{
	int fd = openat(dirfd, name, flags | O_NOATIME);

	if (kept)
		*kept = fd >= 0;
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd < 0 ? -errno : fd;
}
