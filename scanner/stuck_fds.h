/*
 * stuck_fds.h - descriptors of files a read of which never returned
 * (--read-timeout).  Closing one asks its file system too (a FUSE FLUSH, an
 * NFS CLOSE) and would block as the read did, so they are never closed by
 * imgscan; at the very end, stuck_fds_hand_off() leaves them to a child
 * that shares the descriptor table, and imgscan's own exit closes nothing.
 */
#ifndef IMGSCAN_STUCK_FDS_H
#define IMGSCAN_STUCK_FDS_H

/* Keep fd open to the end (fd < 0: ignored).  Thread-safe. */
void stuck_fd_keep(int fd);
/* Close fd in a child that shares our descriptor table: the close (a FUSE
 * FLUSH, which a signal does not interrupt; an NFS CLOSE) asks a server
 * that may be gone, and would block the caller, and our exit, for ever; it
 * blocks only that child.  For files on network and user-space file
 * systems (fs_kind.h).  Thread-safe; fd < 0: ignored. */
void stuck_fd_close_in_child(int fd);
/* How many are kept. */
unsigned stuck_fds_count(void);
/* Called last, when nothing else is left to do.  If any descriptor is
 * kept, or a child of stuck_fd_close_in_child() is still in its close,
 * start "imgscan-close": a process sharing our descriptor table
 * (CLONE_FILES) that waits for us to exit, closes every other descriptor
 * at once (stdout's pipe, a catalog's lock), then the stuck ones, which
 * returns when their file systems answer, and exits. */
void stuck_fds_hand_off(void);

#endif
