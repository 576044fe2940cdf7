/*
 * page_cache.c - cachestat(2) wrapper and cache-neutral reads (see
 * page_cache.h).  The structures are spelled out here: Debian 12's kernel
 * headers predate the call.
 */
#include "page_cache.h"
#include "open_noatime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

/* O_DIRECT alignment: a page covers every logical block size in use
 * (512 and 4096 bytes). */
#define DIRECT_ALIGN 4096u
/* The buffered fallback asks residency page by page, this many at a time. */
#define FALLBACK_PAGES 64u

struct cs_range {
	uint64_t off;
	uint64_t len;
};

struct cs_stat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static atomic_bool unsupported;

long page_cache_pages(int fd, uint64_t off, uint64_t len)
{
	struct cs_range r = {off, len};
	struct cs_stat st;

	if (atomic_load_explicit(&unsupported, memory_order_relaxed))
		return -ENOSYS;
	if (syscall(__NR_cachestat, fd, &r, &st, 0) != 0) {
		if (errno == ENOSYS || errno == EPERM) /* old kernel, or a seccomp filter */
			atomic_store(&unsupported, true);
		return -errno;
	}
	return st.nr_cache > LONG_MAX ? LONG_MAX : (long)st.nr_cache;
}

uint64_t page_cache_span(uint64_t off, uint64_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	return len ? (off + len - 1) / page - off / page + 1 : 0;
}

int page_cache_resident(int fd, uint64_t off, size_t len)
{
	long cached = page_cache_pages(fd, off, len ? len : 1);

	if (!len)
		return cached < 0 ? (int)cached : 1;
	if (cached < 0)
		return (int)cached;
	return (uint64_t)cached >= page_cache_span(off, len);
}

void page_cache_reader_init(struct page_cache_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->dfd = -1;
}

void page_cache_reader_release(struct page_cache_reader *r)
{
	if (r->dfd >= 0)
		close(r->dfd);
	r->dfd = -1;
	free(r->bounce);
	r->bounce = NULL;
	r->bounce_len = 0;
}

long pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

/* Buffered reads on fd must not read ahead: what readahead brought in
 * would stay cached.  (The pipeline asks the same of its buffered mode.) */
static void no_readahead(struct page_cache_reader *r)
{
	if (!r->random_set)
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_RANDOM);
	r->random_set = true;
}

int page_cache_reopen(int fd, int flags)
{
	char name[32];

	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	return openat_noatime(AT_FDCWD, name, flags | O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, NULL);
}

void page_cache_drop_all(int fd)
{
	long waited_ms = 0;

	for (long pause_ms = 1;; pause_ms = pause_ms < 64 ? pause_ms * 2 : 64) {
		struct timespec ts = {0, pause_ms * 1000000};

		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (page_cache_pages(fd, 0, 0) <= 0 || waited_ms >= 1000)
			return;
		nanosleep(&ts, NULL);
		waited_ms += pause_ms;
	}
}

/* The O_DIRECT descriptor: 0, -EINVAL when the file system refuses
 * O_DIRECT, or another -errno. */
static int open_direct(struct page_cache_reader *r)
{
	int fd;

	if (r->dfd >= 0)
		return 0;
	fd = page_cache_reopen(r->fd, O_DIRECT);
	if (fd < 0)
		return fd;
	r->dfd = fd;
	return 0;
}

static int grow_bounce(struct page_cache_reader *r, size_t len)
{
	void *p;

	if (r->bounce_len >= len)
		return 0;
	if (posix_memalign(&p, DIRECT_ALIGN, len))
		return -ENOMEM;
	free(r->bounce);
	r->bounce = p;
	r->bounce_len = len;
	return 0;
}

/* The aligned superset of the range with O_DIRECT, copied out of the bounce
 * buffer: bytes, or -errno (-EINVAL: O_DIRECT refused at read time). */
static long read_direct(struct page_cache_reader *r, void *buf, size_t len, uint64_t off)
{
	uint64_t start = off & ~(uint64_t)(DIRECT_ALIGN - 1);
	size_t lead = (size_t)(off - start);
	size_t span = (lead + len + DIRECT_ALIGN - 1) & ~(size_t)(DIRECT_ALIGN - 1);
	long n;
	int rc;

	if (span < len) /* wrapped */
		return -EOVERFLOW;
	if ((rc = grow_bounce(r, span)) != 0)
		return rc;
	n = pread_full(r->dfd, r->bounce, span, start);
	if (n < 0)
		return n;
	n = (size_t)n > lead ? n - (long)lead : 0; /* the end of the file shortens it */
	if ((size_t)n > len)
		n = (long)len;
	memcpy(buf, r->bounce + lead, (size_t)n);
	return n;
}

/* Which of up to FALLBACK_PAGES pages from first_page are resident: a bit
 * per page; all bits set when residency cannot be asked (nothing dropped:
 * better a page left cached than someone else's page evicted). */
static uint64_t resident_pages(int fd, uint64_t first_page, unsigned npages)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < npages; i++) {
		int rc = page_cache_resident(fd, (first_page + i) * DIRECT_ALIGN, DIRECT_ALIGN);
		if (rc != 0)
			mask |= 1ull << i;
	}
	return mask;
}

/* Drop the pages that were not resident before our read. */
static void drop_new_pages(int fd, uint64_t first_page, unsigned npages, uint64_t was_resident)
{
	for (unsigned i = 0; i < npages; i++) {
		unsigned run = 0;

		while (i + run < npages && !(was_resident >> (i + run) & 1))
			run++;
		if (run)
			posix_fadvise(fd, (off_t)((first_page + i) * DIRECT_ALIGN), (off_t)run * DIRECT_ALIGN,
				      POSIX_FADV_DONTNEED);
		i += run;
	}
}

/* Where O_DIRECT is refused: buffered, a chunk at a time, dropping after
 * each chunk what the chunk brought in. */
static long read_buffered_dropping(struct page_cache_reader *r, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	no_readahead(r);
	while (got < len) {
		uint64_t pos = off + got, first = pos / DIRECT_ALIGN;
		size_t chunk = FALLBACK_PAGES * DIRECT_ALIGN - (size_t)(pos % DIRECT_ALIGN);
		unsigned npages;
		uint64_t was;
		long n;

		if (chunk > len - got)
			chunk = len - got;
		npages = (unsigned)((pos + chunk - 1) / DIRECT_ALIGN - first + 1);
		was = resident_pages(r->fd, first, npages);
		n = pread_full(r->fd, (char *)buf + got, chunk, pos);
		drop_new_pages(r->fd, first, npages, was);
		if (n < 0)
			return got ? (long)got : n;
		got += (size_t)n;
		if ((size_t)n < chunk)
			break;
	}
	return (long)got;
}

long page_cache_pread(struct page_cache_reader *r, void *buf, size_t len, uint64_t off)
{
	long n;
	int rc;

	if (!len)
		return 0;
	if (page_cache_resident(r->fd, off, len) == 1) {
		no_readahead(r);
		return pread_full(r->fd, buf, len, off);
	}
	if (!r->no_direct) {
		rc = open_direct(r);
		if (rc == 0) {
			n = read_direct(r, buf, len, off);
			if (n != -EINVAL)
				return n;
		} else if (rc != -EINVAL) {
			return rc;
		}
		r->no_direct = true; /* refused at open or at read: this file system */
	}
	return read_buffered_dropping(r, buf, len, off);
}
