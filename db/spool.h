/*
 * spool.h - a report to load, as a stream the loader owns.  A regular file
 * is read where it is; a pipe or a FIFO (`scan --format jsonl | load -`)
 * is first read to its end, as it arrives, into an unnamed temporary file,
 * so that the database transaction that writes it is opened only when the
 * whole report is there: a scan of hours then holds no database lock and
 * leaves no session idle in a transaction.
 */
#ifndef IMGSCAN_SPOOL_H
#define IMGSCAN_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* path "-" is stdin.  Returns the stream (the caller fcloses it), or NULL
 * with err set.  *spooled: it was copied into a temporary file. */
FILE *spool_open(const char *path, bool *spooled, char *err, size_t errlen);

#endif
