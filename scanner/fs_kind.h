/*
 * fs_kind.h - what the file system under a file is, as far as the reader
 * cares: whether a read there may block for long in the calling thread.
 */
#ifndef IMGSCAN_FS_KIND_H
#define IMGSCAN_FS_KIND_H

#include <stdbool.h>
#include <sys/stat.h>

/* True unless fd's file system is a known local one (ext4, XFS, btrfs,
 * tmpfs...) or fd is a device (st: fd's fstat): a network or user-space file system (NFS,
 * SMB, Ceph, Lustre, 9p, FUSE) may make a read wait on a server that never
 * answers, and io_uring may issue a read inline, in the submitting thread. */
bool fs_reads_may_stall(int fd, const struct stat *st);

#endif
