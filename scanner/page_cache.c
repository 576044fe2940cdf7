/*
 * page_cache.c - cachestat(2) wrapper (see page_cache.h).  The structures
 * are spelled out here: Debian 12's kernel headers predate the call.
 */
#include "page_cache.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct cs_range {
	uint64_t off;
	uint64_t len;
};

struct cs_stat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static atomic_bool unsupported;

int page_cache_resident(int fd, uint64_t off, size_t len)
{
	struct cs_range r = {off, len};
	struct cs_stat st;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t first, last;

	if (atomic_load_explicit(&unsupported, memory_order_relaxed))
		return -ENOSYS;
	if (syscall(__NR_cachestat, fd, &r, &st, 0) != 0) {
		if (errno == ENOSYS || errno == EPERM) /* old kernel, or a seccomp filter */
			atomic_store(&unsupported, true);
		return -errno;
	}
	if (!len)
		return 1;
	first = off / (uint64_t)page;
	last = (off + len - 1) / (uint64_t)page;
	return st.nr_cache >= last - first + 1;
}
