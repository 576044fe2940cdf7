/*
 * open_noatime.h - every read-only open of something in the archive (an
 * image, a directory of the walk, a file rename or convert reads) keeps its
 * access time where the kernel lets us: the archive's access times are
 * evidence too.
 */
#ifndef IMGSCAN_OPEN_NOATIME_H
#define IMGSCAN_OPEN_NOATIME_H

#include <stdbool.h>

/* openat(dirfd, name, flags | O_NOATIME), or, where the kernel refuses
 * that (EPERM: only the file's owner or CAP_FOWNER may keep the access
 * time), openat(dirfd, name, flags).  *kept (may be NULL): whether
 * O_NOATIME held.  Returns the descriptor or -errno. */
int openat_noatime(int dirfd, const char *name, int flags, bool *kept);

#endif
