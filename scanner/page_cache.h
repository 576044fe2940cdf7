/*
 * page_cache.h - is a range of a file already in the page cache?  Asked with
 * cachestat(2) (Linux 6.5+), without mapping the file.
 *
 * The pipeline uses the answer twice: a resident block is copied by the
 * hashing thread that hashes it (the copy is the whole cost of a warm read,
 * and doing it on the hashing core leaves the bytes hot in its cache), and
 * only blocks that we brought into the cache are dropped from it after
 * hashing, so a scan neither pollutes the cache nor evicts what others use.
 */
#ifndef IMGSCAN_PAGE_CACHE_H
#define IMGSCAN_PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* 1: every page of [off, off+len) is cached; 0: not; -ENOSYS: cannot tell. */
int page_cache_resident(int fd, uint64_t off, size_t len);

#endif
