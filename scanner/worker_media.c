/*
 * worker_media.c - media of several files in the worker (see
 * worker_media.h).
 */
#include "worker_media.h"
#include "page_cache.h"
#include "../formats/ewf_acq.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void worker_media_free(struct worker_media *m)
{
	for (unsigned i = 0; i < m->n; i++)
		close(m->fd[i]);
	free(m->fd);
	free(m->start);
	free(m->size);
	memset(m, 0, sizeof(*m));
}

/* One message of descriptors into m (at most want more).  0, or -EPROTO. */
static int recv_some(int sock, unsigned want, struct worker_media *m)
{
	static struct wire_segments seg;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(SEGS_PER_MESSAGE * sizeof(int))];
	} ctl;
	struct iovec iov = {&seg, sizeof(seg)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	unsigned got, first = m->n;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -EPROTO;
	got = tsk_worker_take_fds(&msg, m->fd + first, want < SEGS_PER_MESSAGE ? want : SEGS_PER_MESSAGE);
	m->n = first + got;
	if (n != (ssize_t)sizeof(seg) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || seg.magic != SEGS_MAGIC ||
	    seg.count != got)
		return -EPROTO;
	for (unsigned i = 0; i < got; i++)
		m->size[first + i] = seg.size[i];
	return 0;
}

int worker_media_recv(int sock, unsigned n, struct worker_media *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = calloc(n, sizeof(*m->fd));
	m->start = calloc(n, sizeof(*m->start));
	m->size = calloc(n, sizeof(*m->size));
	if (!m->fd || !m->start || !m->size) {
		worker_media_free(m);
		return -EPROTO;
	}
	while (m->n < n)
		if (recv_some(sock, n - m->n, m)) {
			worker_media_free(m);
			return -EPROTO;
		}
	for (unsigned i = 1; i < n; i++)
		m->start[i] = m->start[i - 1] + m->size[i - 1];
	return 1;
}

/* TSK's reads: the segments' bytes one after the other, each read
 * cache-neutrally (page_cache.h). */
static long read_media(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct worker_media *m = ctx;
	struct page_cache_reader r;
	size_t done = 0;

	for (unsigned i = 0; i < m->n && done < len; i++) {
		uint64_t at = off + done, end = m->start[i] + m->size[i];
		size_t want;
		long got;

		if (at >= end)
			continue;
		want = end - at < len - done ? (size_t)(end - at) : len - done;
		page_cache_reader_init(&r, m->fd[i]);
		got = page_cache_pread(&r, (uint8_t *)buf + done, want, at - m->start[i]);
		page_cache_reader_release(&r);
		if (got < 0)
			return done ? (long)done : got;
		done += (size_t)got;
		if ((size_t)got < want)
			break;
	}
	return (long)done;
}

/* libewf's name for segment number num (1-based): E01..E99, EAA..EZZ,
 * FAA... */
static void ewf_ext(unsigned num, char out[4])
{
	if (num < 100) {
		snprintf(out, 4, "E%02u", num);
		return;
	}
	num -= 100;
	out[0] = (char)('E' + num / 676);
	out[1] = (char)('A' + num / 26 % 26);
	out[2] = (char)('A' + num % 26);
	out[3] = '\0';
}

/* Each segment as a link in the private directory named media.E01 ...,
 * to /proc/self/fd/N (the file the scanner opened, no lookup of its own
 * name); names[i] the paths to give the libraries.  0, or -errno. */
static int link_segments(const struct worker_media *m, int dfd, char (*names)[PATH_MAX])
{
	char target[32], leaf[16], ext[4];

	if (dfd < 0)
		return -ENOENT;
	for (unsigned i = 0; i < m->n; i++) {
		ewf_ext(i + 1, ext);
		snprintf(leaf, sizeof(leaf), "media.%s", ext);
		snprintf(target, sizeof(target), "/proc/self/fd/%d", m->fd[i]);
		snprintf(names[i], PATH_MAX, "/proc/self/fd/%d/%s", dfd, leaf);
		unlinkat(dfd, leaf, 0); /* left by a worker killed mid-request */
		if (symlinkat(target, dfd, leaf))
			return -errno;
	}
	return 0;
}

static void unlink_segments(const struct worker_media *m, int dfd)
{
	char leaf[16], ext[4];

	for (unsigned i = 0; dfd >= 0 && i < m->n; i++) {
		ewf_ext(i + 1, ext);
		snprintf(leaf, sizeof(leaf), "media.%s", ext);
		unlinkat(dfd, leaf, 0);
	}
}

void worker_ewf_check(const struct wire_request *w, const char *const *paths, int n, struct ewf_acquisition *out)
{
	if (ewf_acq_check(paths, n, w->req.want_sha256, out)) {
		memset(out, 0, sizeof(*out));
		out->status = EWF_ACQ_OPEN_FAILED;
		snprintf(out->error, sizeof(out->error), "out of memory");
	}
}

static void serve_ewf(const struct wire_request *w, const struct worker_media *m, int dfd, struct tsk_result *res)
{
	struct ewf_acquisition acq = {0};
	char (*names)[PATH_MAX] = calloc(m->n, PATH_MAX);
	const char **paths = calloc(m->n, sizeof(*paths));
	struct tsk_source src = {0};
	int rc = names && paths ? link_segments(m, dfd, names) : -ENOMEM;

	if (rc) {
		snprintf(res->img_type, sizeof(res->img_type), "ewf");
		snprintf(res->errors[res->nerrors++], sizeof(res->errors[0]),
			 "image: cannot name the EWF segments for libewf: %s", strerror(-rc));
	} else {
		for (unsigned i = 0; i < m->n; i++)
			paths[i] = names[i];
		src.container_path = paths[0];
		src.container_paths = paths;
		src.ncontainer_paths = (int)m->n;
		/* The check first: The Sleuth Kit on what the media holds (hostile
		 * file systems) must not cost the acquisition's answer. */
		if (w->req.ewf_check)
			worker_ewf_check(w, paths, (int)m->n, &acq);
		if (!w->req.ewf_only)
			tsk_glue_identify(&w->req, &src, res);
		res->acq = acq;
	}
	unlink_segments(m, dfd);
	free(names);
	free(paths);
}

void worker_media_serve(const struct wire_request *w, const struct worker_media *m, int dfd, struct tsk_result *res)
{
	struct tsk_source src = {.read = read_media, .ctx = (void *)m};

	memset(res, 0, sizeof(*res));
	res->status = TSK_DONE;
	if (!strcmp(w->req.container, "ewf"))
		serve_ewf(w, m, dfd, res);
	else
		tsk_glue_identify(&w->req, &src, res);
}
