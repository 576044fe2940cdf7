/*
 * tsk_worker.c - the Sleuth Kit worker process (see tsk_worker.h): runs in
 * imgscan-worker, the only program that links The Sleuth Kit, libarchive,
 * libmagic and the virtual-disk libraries, so that imgscan itself starts
 * without loading them.  The messages are the structs themselves
 * (tsk_wire.h), checked by size and magic.
 */
#include "tsk_wire.h"
#include "clock.h"
#include "page_cache.h"
#include "../formats/inside.h"
#include "../formats/vdisk.h"
#include "worker_media.h"

#include <tsk/libtsk.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- worker side ---- */

unsigned tsk_worker_take_fds(struct msghdr *msg, int *keep, unsigned max)
{
	unsigned kept = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && i < nfd; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (kept < max)
				keep[kept++] = got;
			else
				close(got);
		}
	}
	return kept;
}

/* The next request and its descriptors: the image's (*fd) and, when the
 * request says one comes, the private directory's (*dfd); -1 for one that
 * did not arrive (the worker's descriptor limit, or a sender without one).
 * A request whose image is in the image buffer (w->shared_len) comes with
 * no descriptor.  1: a request; 0: the pool closed the socket; -EPROTO:
 * not one of our messages. */
static int recv_request(int sock, struct wire_request *w, int *fd, int *dfd)
{
	int got_fds[2] = {-1, -1};
	unsigned ngot = 0;

	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {w, sizeof(*w)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;

	*fd = *dfd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n == 0 || errno == ECONNRESET ? 0 : -errno;
	ngot = tsk_worker_take_fds(&msg, got_fds, 2);
	if (n != (ssize_t)sizeof(*w) || (msg.msg_flags & MSG_TRUNC) || w->magic != REQ_MAGIC ||
	    w->shared_len > TSK_SHARED_MAX || (w->shared_len && (w->shared_len != w->req.size || ngot))) {
		for (unsigned i = 0; i < ngot; i++)
			close(got_fds[i]);
		return -EPROTO;
	}
	*fd = got_fds[0];
	if (w->has_dir)
		*dfd = got_fds[1];
	else if (got_fds[1] >= 0)
		close(got_fds[1]);
	w->req.path[sizeof(w->req.path) - 1] = '\0';
	w->req.container[sizeof(w->req.container) - 1] = '\0';
	w->req.op[sizeof(w->req.op) - 1] = '\0';
	return 1;
}

/* The answer, packed (see unpack_answer()). */
static int send_answer(int sock, struct tsk_result *res)
{
	uint32_t nparts = res->nparts < TSK_MAX_PARTS ? res->nparts : TSK_MAX_PARTS;
	uint32_t nfs = res->nfs < TSK_MAX_FS ? res->nfs : TSK_MAX_FS;
	uint32_t nerrors = res->nerrors < TSK_MAX_ERRORS ? res->nerrors : TSK_MAX_ERRORS;
	uint32_t extras = (res->inside.status ? ANSWER_INSIDE : 0) | (res->acq.status ? ANSWER_ACQ : 0);
	struct iovec iov[] = {
		{res, ANSWER_HEAD},
		{res->parts, nparts * sizeof(res->parts[0])},
		{&res->nfs, sizeof(res->nfs)},
		{res->fs, nfs * sizeof(res->fs[0])},
		{&res->nerrors, sizeof(res->nerrors)},
		{res->errors, nerrors * sizeof(res->errors[0])},
		{&extras, sizeof(extras)},
		{&res->inside, res->inside.status ? sizeof(res->inside) : 0},
		{&res->acq, res->acq.status ? sizeof(res->acq) : 0},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = sizeof(iov) / sizeof(iov[0])};
	size_t want = 0;
	ssize_t n;

	res->magic = RES_MAGIC;
	res->nparts = nparts;
	res->nfs = nfs;
	res->nerrors = nerrors;
	for (size_t i = 0; i < sizeof(iov) / sizeof(iov[0]); i++)
		want += iov[i].iov_len;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)want ? 0 : -EPIPE;
}

/* A fresh answer: "done" (which may still carry errors). */
static void start_answer(struct tsk_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = TSK_DONE;
}

/* TSK's reads of an image that was partly cached: cache-neutral. */
static long read_neutral(void *ctx, uint64_t off, void *buf, size_t len)
{
	return page_cache_pread(ctx, buf, len, off);
}

/* TSK's reads of an image that was not cached at all: plain pread, with the
 * kernel's readahead (the whole file is dropped afterwards). */
static long read_plain(void *ctx, uint64_t off, void *buf, size_t len)
{
	return pread_full(*(const int *)ctx, buf, len, off);
}

/*
 * A raw image, read only through the received descriptor.  TSK reads in
 * 64 KiB pieces, one after the other (a FAT32 open reads every other piece
 * over half the disk).  One O_DIRECT read per piece costs time: 30 ms for a
 * cold 64 MiB FAT32 disk here, against 13 ms with the kernel's readahead.
 * So an image none of which was cached (the usual case: the stream read it
 * with O_DIRECT) is read through the page cache, on a fresh open file
 * description with default readahead, and dropped whole afterwards (see
 * release_image()); an image partly or fully cached is read
 * cache-neutrally, piece by piece, so what others had cached stays and
 * nothing else does.
 */
static void identify_raw(const struct wire_request *w, int fd, bool cold, struct tsk_result *res)
{
	struct page_cache_reader rd;
	struct tsk_source src = {.read = read_neutral, .ctx = &rd};
	int plain = cold ? page_cache_reopen(fd, 0) : -1;

	page_cache_reader_init(&rd, fd);
	if (plain >= 0) {
		src.read = read_plain;
		src.ctx = &plain;
	}
	tsk_glue_identify(&w->req, &src, res);
	page_cache_reader_release(&rd);
	if (plain >= 0)
		close(plain);
}

static void identify_bytes(const struct wire_request *w, const uint8_t *image, struct tsk_result *res)
{
	/* A raw image the pool put in the image buffer (see
	 * tsk_worker_send()): TSK reads it from memory. */
	struct tsk_buffer m = {image, w->shared_len};
	struct tsk_source src = {.read = tsk_read_buffer, .ctx = &m};

	tsk_glue_identify(&w->req, &src, res);
}

/*
 * libewf, libvmdk and libvhdi open files by name.  Give them a name that is
 * a symbolic link to /proc/self/fd/N: opening it re-opens the inode behind
 * the received descriptor (the file the scanner opened and checked), with no
 * lookup of the image's own name.  The link lives in the worker's private
 * directory, open on dfd, named as the library needs (see
 * tsk_container_file_name()), and the library gets it as
 * /proc/self/fd/<dfd>/<name>: the directory's path in $TMPDIR, which
 * others may be able to rename, is never looked up.  0 with path and name
 * filled, or -errno.
 */
static int link_container(const struct wire_request *w, int fd, int dfd, char *path, size_t path_len,
			  char *name, size_t name_len)
{
	struct page_cache_reader rd;
	char target[32];
	int rc;

	if (dfd < 0)
		return -ENOENT;
	page_cache_reader_init(&rd, fd);
	rc = tsk_container_file_name(&w->req, read_neutral, &rd, name, name_len);
	page_cache_reader_release(&rd);
	if (rc)
		return rc;
	if ((size_t)snprintf(path, path_len, "/proc/self/fd/%d/%s", dfd, name) >= path_len)
		return -ENAMETOOLONG;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	unlinkat(dfd, name, 0); /* left by a worker killed mid-request */
	return symlinkat(target, dfd, name) ? -errno : 0;
}

/* The libraries' messages name the link: name the image instead. */
static void name_the_image(char *msg, size_t size, const char *link, const char *image)
{
	char *at = strstr(msg, link);
	char rest[sizeof(((struct tsk_result *)0)->errors[0])];

	if (!at || size > sizeof(rest))
		return;
	snprintf(rest, sizeof(rest), "%s", at + strlen(link));
	snprintf(at, size - (size_t)(at - msg), "%s%s", image, rest);
}

/* Containers are read by their libraries, through the page cache, which we
 * cannot steer: a cold one is dropped whole afterwards (see
 * release_image()); of one partly cached, what the library read stays. */
static void identify_container(const struct wire_request *w, int fd, int dfd, struct tsk_result *res)
{
	struct tsk_source src = {0};
	struct ewf_acquisition acq = {0};
	char path[PATH_MAX], name[256];
	int rc = link_container(w, fd, dfd, path, sizeof(path), name, sizeof(name));

	if (rc) {
		start_answer(res);
		snprintf(res->img_type, sizeof(res->img_type), "%s", w->req.container);
		snprintf(res->errors[res->nerrors++], sizeof(res->errors[0]),
			 "image: cannot name the %s container for its library: %s", w->req.container,
			 rc == -ENOTSUP ? "its data is in other files, and only the image's own descriptor is read"
					: strerror(-rc));
		return;
	}
	src.container_path = path;
	/* The check first: The Sleuth Kit on what the image holds must not
	 * cost the acquisition's answer. */
	if (w->req.ewf_check && !strcmp(w->req.container, "ewf"))
		worker_ewf_check(w, (const char *const[]){path}, 1, &acq);
	if (!w->req.ewf_only)
		tsk_glue_identify(&w->req, &src, res);
	else
		start_answer(res);
	res->acq = acq;
	unlinkat(dfd, name, 0);
	for (uint32_t i = 0; i < res->nerrors && i < TSK_MAX_ERRORS; i++)
		name_the_image(res->errors[i], sizeof(res->errors[i]), path, w->req.path);
}

#ifdef IMGSCAN_TEST_HOOKS
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* Sanitized workers run without an address-space limit (see tsk_pool.c):
 * stop at 1 GiB, the default limit, as if it held. */
#define SANITIZED_BLOCKS_MAX 16u
#else
#define SANITIZED_BLOCKS_MAX UINT_MAX
#endif

/* Test-only faults, so the fence around the worker can be tested.  "alloc"
 * really exhausts the address-space limit, then reports the failure the way
 * TSK's allocator does (by error number).  Returns true when it answered. */
static bool inject_fault(const char *fault, struct tsk_result *res)
{
	void *held = NULL;

	if (!strcmp(fault, "crash")) {
		/* Past any handler a sanitizer installed: die of the signal. */
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigaction(SIGSEGV, &dfl, NULL);
		raise(SIGSEGV);
	}
	if (!strcmp(fault, "hang"))
		for (;;)
			pause();
	if (!strcmp(fault, "garble")) { /* a broken answer from a worker that lives on */
		uint32_t junk = 0;
		send(TSK_WORKER_SOCKET_FD, &junk, sizeof(junk), MSG_NOSIGNAL);
		for (;;)
			pause();
	}
	if (strcmp(fault, "alloc"))
		return false;
	/* A chain of 64 MiB blocks, each pointing to the previous; address
	 * space is what the limit counts, so they need not be touched. */
	for (unsigned n = 0;; n++) {
		void **p = malloc(64u << 20);
		if (!p || n == SANITIZED_BLOCKS_MAX) {
			free(p);
			break;
		}
		*p = held;
		held = p;
	}
	while (held) {
		void *prev = *(void **)held;
		free(held);
		held = prev;
	}
	start_answer(res);
	tsk_error_reset();
	tsk_error_set_errno(TSK_ERR_AUX_MALLOC);
	tsk_error_set_errstr("tsk_malloc: %s (test fault)", strerror(ENOMEM));
	tsk_result_add_error(res, "image");
	return true;
}
#endif

/* One request: answer in res.  image: the image buffer (NULL: none),
 * which holds the image when w->shared_len says so (no descriptor comes
 * then).  cold: none of the image was cached before (it is dropped whole
 * afterwards, see release_image()). */
static void serve(const struct wire_request *w, const uint8_t *image, int fd, int dfd, bool cold,
		  struct tsk_result *res)
{
	if (fd < 0 && !w->shared_len) {
		start_answer(res);
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure),
			 "the worker received no image descriptor (its descriptor limit?)");
		return;
	}
	if (w->shared_len && !image) {
		start_answer(res);
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "the worker could not map its image buffer");
		return;
	}
#ifdef IMGSCAN_TEST_HOOKS
	if (w->fault[0] && inject_fault(w->fault, res))
		return;
#endif
	if (!strcmp(w->req.op, "inside")) {
		start_answer(res);
		vdisk_set_name_dir(dfd); /* where libvmdk's extent gets its name (link_container()'s way) */
		inside_look(&w->req, fd, res);
		vdisk_set_name_dir(-1);
	} else if (w->shared_len)
		identify_bytes(w, image, res);
	else if (!strcmp(w->req.container, "raw"))
		identify_raw(w, fd, cold, res);
	else
		identify_container(w, fd, dfd, res);
}

/* After the answer, so that the pool need not wait for it: drop a cold
 * image whole (this may wait for readahead in flight), close the
 * descriptor.  The pool's next request, or its closing the socket at the
 * end of the run, waits for this. */
static void release_image(int fd, int dfd, bool cold)
{
	if (dfd >= 0)
		close(dfd);
	if (fd < 0)
		return;
	if (cold)
		page_cache_drop_all(fd);
	close(fd);
}

/* The image buffer the pool left on TSK_WORKER_IMAGE_FD, mapped read-only
 * (it is sealed against any other mapping), its descriptor closed: NULL
 * when there is none. */
static const uint8_t *map_image_buffer(void)
{
	int seals = fcntl(TSK_WORKER_IMAGE_FD, F_GET_SEALS);
	void *p = MAP_FAILED;
	struct stat st;

	if (seals < 0)
		return NULL; /* closed, or not a memfd: nothing of ours */
	if ((seals & F_SEAL_FUTURE_WRITE) && !fstat(TSK_WORKER_IMAGE_FD, &st) && st.st_size == TSK_SHARED_MAX)
		p = mmap(NULL, TSK_SHARED_MAX, PROT_READ, MAP_SHARED, TSK_WORKER_IMAGE_FD, 0);
	close(TSK_WORKER_IMAGE_FD);
	return p == MAP_FAILED ? NULL : p;
}

int tsk_worker_main(int sock)
{
	static struct wire_request w;
	static struct tsk_result res;
	const uint8_t *image = map_image_buffer();
	int fd, dfd, rc;

	/* Archive member names in UTF-8 (libarchive converts by the locale). */
	setlocale(LC_CTYPE, "C.UTF-8");

	while ((rc = recv_request(sock, &w, &fd, &dfd)) == 1) {
		struct worker_media media = {0};
		/* Pages of the image cached before us: 0 lets us read through
		 * the cache and drop it all afterwards; -errno (cannot tell)
		 * does not.  Media is read cache-neutrally. */
		bool cold = fd >= 0 && w.req.nsegments < 2 && page_cache_pages(fd, 0, w.req.size) == 0;

		if (w.req.nsegments > 1 && worker_media_recv(sock, w.req.nsegments, &media) != 1) {
			release_image(fd, dfd, false);
			return 2;
		}
		if (media.n)
			worker_media_serve(&w, &media, dfd, &res);
		else
			serve(&w, image, fd, dfd, cold, &res);
		rc = send_answer(sock, &res);
		worker_media_free(&media);
		release_image(fd, dfd, cold);
		if (rc)
			return 2;
	}
	return rc == 0 ? 0 : 2;
}
