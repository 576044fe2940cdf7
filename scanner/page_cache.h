/*
 * page_cache.h - is a range of a file already in the page cache?  Asked with
 * cachestat(2) (Linux 6.5+), without mapping the file.  And reads that leave
 * the page cache as they found it.
 *
 * The pipeline uses the answer twice: a resident block is copied by the
 * hashing thread that hashes it (the copy is the whole cost of a warm read,
 * and doing it on the hashing core leaves the bytes hot in its cache), and
 * only blocks that we brought into the cache are dropped from it after
 * hashing, so a scan neither pollutes the cache nor evicts what others use.
 *
 * The small reads beside the stream (identification's partition heads; The
 * Sleuth Kit's, in its worker, of an image partly cached) go through
 * page_cache_pread(), for the same promise: a range already cached is read
 * from the cache; any other range is read with O_DIRECT, so nothing new
 * stays cached.  (The worker reads a cold image through the cache and
 * drops it whole afterwards: page_cache_drop_all().)
 */
#ifndef IMGSCAN_PAGE_CACHE_H
#define IMGSCAN_PAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many pages [off, off+len) touches (0 for an empty range). */
uint64_t page_cache_span(uint64_t off, uint64_t len);

/* 1: every page of [off, off+len) is cached; 0: not; -ENOSYS: cannot tell. */
int page_cache_resident(int fd, uint64_t off, size_t len);

/* How many pages of [off, off+len) are cached (len 0: to the end of the
 * file), or -errno (-ENOSYS: cannot tell). */
long page_cache_pages(int fd, uint64_t off, uint64_t len);

/*
 * Cache-neutral positional reads of one open file.  Owns what it opens and
 * allocates (the O_DIRECT descriptor, the bounce buffer); borrows fd.
 * Not thread-safe: one reader per thread.
 */
struct page_cache_reader {
	int fd;            /* buffered descriptor of the file (borrowed) */
	int dfd;           /* O_DIRECT re-open of fd's file (owned); -1: not opened yet */
	bool no_direct;    /* the file system refused O_DIRECT: buffered, then dropped */
	bool random_set;   /* POSIX_FADV_RANDOM given on fd (no readahead to undo) */
	uint8_t *bounce;   /* page-aligned buffer for O_DIRECT reads (owned) */
	size_t bounce_len;
};

void page_cache_reader_init(struct page_cache_reader *r, int fd);

/*
 * Read up to len bytes at off into buf, leaving the page cache as it was:
 * a fully resident range is pread from the cache; otherwise the aligned
 * superset of the range is read with O_DIRECT (through /proc/self/fd of fd:
 * the same file, never a path lookup) into a bounce buffer; where the file
 * system refuses O_DIRECT, the range is read buffered and the pages that
 * were not resident before are dropped again (POSIX_FADV_DONTNEED).
 * Returns the bytes read (short only at the end of the file) or -errno.
 */
long page_cache_pread(struct page_cache_reader *r, void *buf, size_t len, uint64_t off);

/* pread until len bytes or the end of the file (EINTR retried): the bytes
 * read, short only at the end of the file, or -errno. */
long pread_full(int fd, void *buf, size_t len, uint64_t off);

/* Close what the reader opened; fd stays open.  Safe to call twice. */
void page_cache_reader_release(struct page_cache_reader *r);

/* Open the file that fd has open again, as a new open file description
 * with its own flags (O_DIRECT, or default readahead): through
 * /proc/self/fd/N, which re-opens the same inode (a "magic link"), so no
 * name is looked up again.  O_NOATIME where the kernel allows it, as the
 * scanner's own open.  Returns the new descriptor (close-on-exec) or -errno. */
int page_cache_reopen(int fd, int flags);

/* Drop the whole file from the page cache, for a caller that read a file
 * none of which was cached before.  Readahead still in flight (its pages
 * locked until the read lands) survives a drop: drop again until none is
 * left, for at most about a second (seen: 4 MiB of readahead landing up to
 * 60 ms later while other images were read). */
void page_cache_drop_all(int fd);

#endif
