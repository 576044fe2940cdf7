/*
 * bounded_call.h - the calls made on an image's file after its reads
 * (the change check's fstat, identification's reads), for files
 * on network and user-space file systems (fs_kind.h), where a server that
 * dies after the last read makes them wait for ever and --read-timeout,
 * which bounds the engine's reads, does not reach.  Each is made on a
 * thread of its own and waited for at most the bound; one that does not
 * return in time is left to finish, if ever, with what it owns, and the
 * caller gets -ETIMEDOUT and goes on.  Such a thread holds up our exit
 * only where the kernel cannot end it: an NFS request of a killed task
 * ends, and so does a FUSE request still queued; one a FUSE daemon has
 * taken and never answers keeps the thread, and so our exit, waiting (as
 * the pread engine's stuck threads do: README, "Failing storage").  A
 * close, whose FUSE FLUSH no signal ends, is stuck_fds.h's.
 */
#ifndef IMGSCAN_BOUNDED_CALL_H
#define IMGSCAN_BOUNDED_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* bound_s 0: the call is made here, waited for without end. */
int bounded_fstat(int fd, struct stat *st, unsigned bound_s);
/* page_cache_pread() of len bytes at off (cache-neutral): the bytes read
 * or -errno. */
long bounded_pread(int fd, void *buf, size_t len, uint64_t off, unsigned bound_s);

#endif
