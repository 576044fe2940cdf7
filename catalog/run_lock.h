/*
 * run_lock.h - one run at a time per catalog: an advisory lock (flock) on
 * the catalog's own lock file, FILE.lock.  The kernel drops it when the
 * holder exits, however it exits, so a crash never leaves a stale lock.
 * The holder writes who it is into the file (pid, start time, host) so a
 * refused run can say who holds it.  The file is never removed: removing
 * it would let two runs lock two different files of the same name.
 */
#ifndef IMGSCAN_RUN_LOCK_H
#define IMGSCAN_RUN_LOCK_H

#include <stdbool.h>
#include <stddef.h>

struct run_lock {
	int fd;            /* -1 when not held */
	char path[4200];
};

/* Take the lock of the catalog at catalog_path.  wait: block until it is
 * free.  Returns 0; -EWOULDBLOCK when another run holds it (holder filled:
 * "pid 123, started 2026-11-24T02:00:00Z on host"); another -errno when
 * the lock file cannot be used (-EINVAL: not a regular file, or it has
 * another name, a hard link; -ENOSYS: an existing one cannot be reopened
 * through /proc). */
int run_lock_take(const char *catalog_path, bool wait, struct run_lock *l, char *holder, size_t holder_len);
void run_lock_release(struct run_lock *l);

#endif
