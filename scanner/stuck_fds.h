/*
 * stuck_fds.h - descriptors of files a read of which never returned
 * (--read-timeout), and, once one has, of every file of a network or
 * user-space file system (its server may be the one that stopped).
 * Closing one asks its file system too (a FUSE FLUSH, an NFS CLOSE) and
 * would block as the read did, so they are never closed by imgscan; at
 * the very end, stuck_fds_hand_off() leaves them to a child
 * that shares the descriptor table, and imgscan's own exit closes nothing.
 */
#ifndef IMGSCAN_STUCK_FDS_H
#define IMGSCAN_STUCK_FDS_H

/* Keep fd open to the end (fd < 0: ignored).  Thread-safe. */
void stuck_fd_keep(int fd);
/* Close fd on imgscan's closer thread, not the caller's: a file of a
 * network or user-space file system whose server may stop answering at
 * any moment (its close is a FUSE FLUSH, an NFS CLOSE), closed by the
 * reader or a hashing thread, must not hold them.  A close that never
 * returns holds only that thread (and, as a thread of ours, our exit: the
 * report is written first).  When its queue is full, fd is kept to the
 * end instead.  Thread-safe; fd < 0: ignored. */
void stuck_fd_close_later(int fd);
/* How many are kept. */
unsigned stuck_fds_count(void);
/* Called last, when nothing else is left to do.  If any descriptor is
 * kept, start "imgscan-close": a process sharing our descriptor table
 * (CLONE_FILES) that waits for us to exit, closes every other descriptor
 * at once (stdout's pipe, a catalog's lock), then the stuck ones, which
 * returns when their file systems answer, and exits. */
void stuck_fds_hand_off(void);

#endif
