/*
 * worker_media.h - the worker's side of evidence media stored as several
 * files (a split raw or EWF set): the segments' descriptors, received after
 * the request (tsk_wire.h), read one after the other as one image by The
 * Sleuth Kit, or, for EWF, named for libewf and checked against the hashes
 * stored at acquisition (formats/ewf_acq.h).  Worker process only.
 */
#ifndef IMGSCAN_WORKER_MEDIA_H
#define IMGSCAN_WORKER_MEDIA_H

#include "tsk_wire.h"

struct worker_media {
	int *fd;                   /* owned: every segment's descriptor, in order */
	uint64_t *start, *size;    /* each one's bytes in the media */
	unsigned n;
};

/* Receive n segments' descriptors and sizes.  1 when all came, -EPROTO
 * for anything else (m is then empty). */
int worker_media_recv(int sock, unsigned n, struct worker_media *m);
void worker_media_free(struct worker_media *m);

/* Identify media: a raw set through its concatenated bytes, an EWF set
 * through libewf (and checked when w->req.ewf_check).  dfd: the private
 * directory for the names libewf needs. */
void worker_media_serve(const struct wire_request *w, const struct worker_media *m, int dfd, struct tsk_result *res);

/* An EWF image (its segment files linked as paths): check its
 * acquisition into out (time-consuming: the whole media is read). */
void worker_ewf_check(const struct wire_request *w, const char *const *paths, int n, struct ewf_acquisition *out);

#endif
