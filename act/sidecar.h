/*
 * sidecar.h - the files that go with an image: checksum sidecars named
 * after it (disc.img.md5, .sha1, .sha256, .sha512, .xxh128...: renamed with
 * it, and the name inside rewritten when it names the image) and cue
 * sheets in its directory whose FILE line names it (rewritten).  A rewrite
 * replaces the file atomically in its directory, keeping its mode.
 */
#ifndef IMGSCAN_SIDECAR_H
#define IMGSCAN_SIDECAR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The largest sidecar or cue sheet read: they are a few lines. */
#define SIDECAR_MAX_BYTES (1u << 20)

/* The suffixes of checksum sidecars (".md5", ...), NULL-terminated. */
extern const char *const sidecar_suffixes[];

/* Is name one rename may rewrite: a cue sheet (*.cue, any case) or a
 * checksum sidecar (a name ending in one of sidecar_suffixes)? */
bool rewritable_name(const char *name);

/* A file in the directory whose content names the image. */
struct rewrite {
	char *name;                /* in the image's directory */
	struct stat st;            /* as read */
	char *old_text, *new_text;
	size_t old_len, new_len;
};

/* text with every reference to old (a cue sheet's FILE "old" line, a
 * checksum line "<hex>  old", "<hex> *old" or "ALG (old) = <hex>")
 * naming new instead.  Returns the new text (malloc'd, *outlen bytes), or
 * NULL when nothing names old (or memory ran out: *outlen is then 1). */
char *cue_renamed(const char *text, size_t len, const char *old, const char *neu, size_t *outlen);
char *sums_renamed(const char *text, size_t len, const char *old, const char *neu, size_t *outlen);

/* Read name in dirfd (a regular file, not followed, at most
 * SIDECAR_MAX_BYTES) into *text (malloc'd, NUL after *len bytes), with its
 * stat.  Returns 0 or -errno (EFBIG: too large; EINVAL: not a regular file). */
int read_small_file(int dirfd, const char *name, char **text, size_t *len, struct stat *st);

/* The cue sheets in dirfd (*.cue, any case) that name old, rewritten to
 * name neu.  Returns the number found (*out, malloc'd) or -errno. */
int cue_sheets_naming(int dirfd, const char *old, const char *neu, struct rewrite **out);
void rewrites_free(struct rewrite *r, int n);

/* Replace name in dirfd, a regular file that must still be the one seen
 * (device, inode), by content: a temporary file beside it (its mode kept),
 * fsynced, exchanged with it (RENAME_EXCHANGE), checked (what came out
 * must be the file seen, else it goes back), the old one removed, the
 * directory fsynced.  Returns 0, 1 (it changed: not replaced; why set) or
 * -errno.  mtime: the new file's mtime (an undo puts the old one back),
 * NULL for now.  *now: the new file's stat. */
int replace_content(int dirfd, const char *name, const struct stat *seen, const char *content, size_t len,
		    const struct timespec *mtime, struct stat *now, char *why, size_t whylen);

#endif
