/*
 * tsk_worker.c - the Sleuth Kit worker process and the socket protocol
 * between it and the pool (see tsk_worker.h).  Both ends run the same binary,
 * so the messages are the structs themselves, checked by size and magic.
 */
#include "tsk_worker.h"
#include "stop.h"
#include "page_cache.h"

#include <tsk/libtsk.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAGIC 0x54534b32u /* "TSK2": a descriptor travels with each request */
#define RES_MAGIC 0x54534b52u

struct wire_request {
	uint32_t magic;
	struct tsk_request req;
	char link_dir[PATH_MAX / 4];  /* private directory for container names, "" if none */
#ifdef IMGSCAN_TEST_HOOKS
	char fault[16];               /* "crash", "hang", "alloc", "" */
#endif
};

int tsk_worker_socketpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ? -errno : 0;
}

/* ---- pool side ---- */

int tsk_worker_send(int sock, const struct tsk_request *req, int image_fd, const char *link_dir,
		    const char *fault)
{
	static __thread struct wire_request w;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {&w, sizeof(w)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	memset(&w, 0, sizeof(w));
	w.magic = REQ_MAGIC;
	w.req = *req;
	snprintf(w.link_dir, sizeof(w.link_dir), "%s", link_dir ? link_dir : "");
#ifdef IMGSCAN_TEST_HOOKS
	snprintf(w.fault, sizeof(w.fault), "%s", fault ? fault : "");
#else
	(void)fault;
#endif
	memset(&ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &image_fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	return n == (ssize_t)sizeof(w) ? 0 : -EPIPE;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int tsk_worker_receive(int sock, struct tsk_result *res, double deadline)
{
	for (;;) {
		struct pollfd pfd = {sock, POLLIN, 0};
		double left = deadline - now_s();
		ssize_t n;
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		if (stop_requested())
			return -ECANCELED; /* a stopping run does not wait for TSK */
		/* In slices, so a stop is seen within 0.1 s. */
		rc = poll(&pfd, 1, left > 0.1 ? 100 : (int)(left * 1000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			continue; /* the deadline check above decides */
		n = recv(sock, res, sizeof(*res), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		/* One message is one whole answer: anything else is a broken worker. */
		if (n != (ssize_t)sizeof(*res) || res->magic != RES_MAGIC)
			return -EPIPE;
		return 0;
	}
}

/* ---- worker side ---- */

/* The next request and its descriptor (-1 when none arrived: the worker's
 * descriptor limit, or a sender without one).  1: a request; 0: the pool
 * closed the socket; -EPROTO: not one of our messages. */
static int recv_request(int sock, struct wire_request *w, int *fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {w, sizeof(*w)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n == 0 || errno == ECONNRESET ? 0 : -errno;
	/* Every descriptor that came is ours to close: keep the first. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && i < nfd; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (n != (ssize_t)sizeof(*w) || (msg.msg_flags & MSG_TRUNC) || w->magic != REQ_MAGIC) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	w->req.path[sizeof(w->req.path) - 1] = '\0';
	w->link_dir[sizeof(w->link_dir) - 1] = '\0';
	return 1;
}

static int send_answer(int sock, struct tsk_result *res)
{
	ssize_t n;

	res->magic = RES_MAGIC;
	do
		n = send(sock, res, sizeof(*res), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*res) ? 0 : -EPIPE;
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
	int fd = *(const int *)ctx;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
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
	struct tsk_source src = {read_neutral, &rd, NULL};
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

/*
 * libewf, libvmdk and libvhdi open files by name.  Give them a name that is
 * a symbolic link to /proc/self/fd/N: opening it re-opens the inode behind
 * the received descriptor (the file the scanner opened and checked), with no
 * lookup of the image's own name.  The link lives in the worker's private
 * directory, named as the library needs (see tsk_container_file_name()).
 * 0 with path filled, or -errno.
 */
static int link_container(const struct wire_request *w, int fd, char *path, size_t path_len)
{
	struct page_cache_reader rd;
	char name[256], target[32];
	int rc;

	if (!w->link_dir[0])
		return -ENOENT;
	page_cache_reader_init(&rd, fd);
	rc = tsk_container_file_name(&w->req, read_neutral, &rd, name, sizeof(name));
	page_cache_reader_release(&rd);
	if (rc)
		return rc;
	if ((size_t)snprintf(path, path_len, "%s/%s", w->link_dir, name) >= path_len)
		return -ENAMETOOLONG;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	unlink(path); /* left by a worker killed mid-request */
	return symlink(target, path) ? -errno : 0;
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
static void identify_container(const struct wire_request *w, int fd, struct tsk_result *res)
{
	struct tsk_source src = {NULL, NULL, NULL};
	char path[PATH_MAX];
	int rc = link_container(w, fd, path, sizeof(path));

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
	tsk_glue_identify(&w->req, &src, res);
	unlink(path);
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

/* One request: answer in res.  cold: none of the image was cached before
 * (it is dropped whole afterwards, see release_image()). */
static void serve(const struct wire_request *w, int fd, bool cold, struct tsk_result *res)
{
	if (fd < 0) {
		start_answer(res);
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure),
			 "the worker received no image descriptor (its descriptor limit?)");
		return;
	}
#ifdef IMGSCAN_TEST_HOOKS
	if (w->fault[0] && inject_fault(w->fault, res))
		return;
#endif
	if (!strcmp(w->req.container, "raw"))
		identify_raw(w, fd, cold, res);
	else
		identify_container(w, fd, res);
}

/* After the answer, so that the pool need not wait for it: drop a cold
 * image whole (this may wait for readahead in flight), close the
 * descriptor.  The pool's next request, or its closing the socket at the
 * end of the run, waits for this. */
static void release_image(int fd, bool cold)
{
	if (fd < 0)
		return;
	if (cold)
		page_cache_drop_all(fd);
	close(fd);
}

int tsk_worker_main(int sock)
{
	static struct wire_request w;
	static struct tsk_result res;
	int fd, rc;

	while ((rc = recv_request(sock, &w, &fd)) == 1) {
		/* Pages of the image cached before us: 0 lets us read through
		 * the cache and drop it all afterwards; -errno (cannot tell)
		 * does not. */
		bool cold = fd >= 0 && page_cache_pages(fd, 0, w.req.size) == 0;

		serve(&w, fd, cold, &res);
		rc = send_answer(sock, &res);
		release_image(fd, cold);
		if (rc)
			return 2;
	}
	return rc == 0 ? 0 : 2;
}
