/*
 * rename_check.h - is the file still the one the report describes, and is
 * it where rename may act?  The directory is opened once, walking from "/"
 * one component at a time with O_NOFOLLOW, after its real path was found
 * under one of the scan's roots: every later look and the rename itself go
 * through that descriptor, so no symlink planted in the path (or in place
 * of the directory) is ever followed, and the check and the rename are in
 * the same directory (hence on the same file system).
 */
#ifndef IMGSCAN_RENAME_CHECK_H
#define IMGSCAN_RENAME_CHECK_H

#include "rename_plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Split abs into its directory (malloc'd) and its last component (a pointer
 * into abs).  Returns 0, or -1 when abs has no directory or name. */
int split_path(const char *abs, char **dir, const char **name);

/* Open the directory dir (absolute) if its real path is under one of
 * roots, or if dir/name is itself a root (a file given as the scan's PATH).
 * Returns the descriptor, or -1 with why set (a skip), or -2 with why set
 * (an error: out of memory). */
int open_dir_under_roots(const char *dir, const char *name, char *const *roots, size_t nroots, char *why,
			 size_t len);
/* Is dir (absolute, no "." or ".." component, as written: nothing is
 * resolved) under one of roots, or dir/name one of them (name NULL: any
 * file directly in dir)? */
bool place_under_roots(const char *dir, const char *name, char *const *roots, size_t nroots);
/* Open an absolute directory without following any symlink in it.
 * Returns the descriptor or -errno. */
int open_dir_nofollow(const char *dir);

/* Is name in dirfd (not followed) a regular file with want's device,
 * inode, size and mtime?  Returns 0 (yes, *got filled), 1 (no: why says
 * what differs) or -errno (lstat failed; ENOENT: it is gone). */
int check_stamp(int dirfd, const char *name, const struct file_stamp *want, struct stat *got, char *why,
		size_t len);
/* Re-read name (O_NOFOLLOW, O_NOATIME where allowed) and compare its
 * XXH128 with xxh128 (lowercase hex as xxhsum -H2 prints it); the open
 * file must still have want's stamp.  Returns 0 (equal), 1 (no: why) or
 * -errno. */
int check_digest(int dirfd, const char *name, const struct file_stamp *want, const char *xxh128, char *why,
		 size_t len);
/* The stamp of st. */
void stamp_of(const struct stat *st, struct file_stamp *out);

#endif
