/*
 * tsk_wire.c - the pool's end of a worker's socket (see tsk_worker.h and
 * tsk_wire.h): requests out, answers in, every answer made safe to use
 * (the worker runs The Sleuth Kit on hostile images and is not trusted).
 */
#include "tsk_wire.h"
#include "clock.h"
#include "stop.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tsk_worker_socketpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ? -errno : 0;
}

/* One message of len bytes with nfds descriptors (SEGS_PER_MESSAGE at
 * most) attached: 0, -EPIPE when the worker is gone or took less, -errno. */
static int send_with_fds(int sock, void *data, size_t len, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(SEGS_PER_MESSAGE * sizeof(int))];
	} ctl;
	struct iovec iov = {data, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	return n == (ssize_t)len ? 0 : -EPIPE;
}

int tsk_worker_send(int sock, const struct tsk_request *req, int image_fd, uint32_t shared_len, int link_dfd,
		    const char *fault)
{
	static __thread struct wire_request w;
	int fds[2] = {image_fd, link_dfd};
	unsigned nfds = shared_len ? 0 : link_dfd >= 0 ? 2 : 1;

	memset(&w, 0, sizeof(w));
	w.magic = REQ_MAGIC;
	w.req = *req;
	w.shared_len = shared_len;
	w.has_dir = !shared_len && link_dfd >= 0;
#ifdef IMGSCAN_TEST_HOOKS
	snprintf(w.fault, sizeof(w.fault), "%s", fault ? fault : "");
#else
	(void)fault;
#endif
	return send_with_fds(sock, &w, sizeof(w), fds, nfds);
}

int tsk_worker_send_segments(int sock, const int *fds, const uint64_t *sizes, unsigned n)
{
	static __thread struct wire_segments m;

	for (unsigned at = 0; at < n; at += SEGS_PER_MESSAGE) {
		unsigned k = n - at < SEGS_PER_MESSAGE ? n - at : SEGS_PER_MESSAGE;
		int rc;

		memset(&m, 0, sizeof(m));
		m.magic = SEGS_MAGIC;
		m.count = k;
		memcpy(m.size, sizes + at, k * sizeof(*sizes));
		if ((rc = send_with_fds(sock, &m, sizeof(m), fds + at, k)))
			return rc;
	}
	return 0;
}

#define TERMINATE(a) ((a)[sizeof(a) - 1] = '\0')
#define CLAMP(n, max) ((n) = (n) > (max) ? (max) : (n))

static void sanitize_ident(struct ident *id)
{
	if (id->nhits < 0 || id->nhits > IDENT_MAX_HITS)
		id->nhits = id->nhits < 0 ? 0 : IDENT_MAX_HITS;
	if (id->nparts < 0 || id->nparts > IDENT_MAX_PARTS)
		id->nparts = id->nparts < 0 ? 0 : IDENT_MAX_PARTS;
	TERMINATE(id->scheme);
	for (size_t i = 0; i < IDENT_MAX_HITS; i++) {
		struct probe_hit *h = &id->hits[i];
		h->desc = NULL; /* the worker's address, meaningless here */
		if (h->cls > HIT_ENCRYPTED)
			h->cls = HIT_FS;
		TERMINATE(h->name);
		TERMINATE(h->label);
		TERMINATE(h->label2);
		TERMINATE(h->label2_key);
		TERMINATE(h->label_codepage);
		TERMINATE(h->uuid);
		TERMINATE(h->detail);
		TERMINATE(h->tsk_hint);
	}
	for (size_t i = 0; i < IDENT_MAX_PARTS; i++) {
		TERMINATE(id->parts[i].type);
		TERMINATE(id->parts[i].name);
		id->parts[i].bootable = *(volatile uint8_t *)&id->parts[i].bootable != 0; /* any byte: a bool again */
	}
	id->hits_truncated = *(volatile uint8_t *)&id->hits_truncated != 0;
}

static void sanitize_inside(struct inside_result *in)
{
	TERMINATE(in->failure);
	TERMINATE(in->layer);
	TERMINATE(in->content);
	TERMINATE(in->magic);
	TERMINATE(in->mime);
	TERMINATE(in->backing);
	TERMINATE(in->xxh128);
	CLAMP(in->nmembers, INSIDE_MAX_MEMBERS);
	for (size_t i = 0; i < INSIDE_MAX_MEMBERS; i++) {
		TERMINATE(in->members[i].name);
		TERMINATE(in->members[i].what);
	}
	sanitize_ident(&in->id);
}

/* An answer from the worker, made safe to print: strings ended within
 * their fields, counts within their arrays, no pointer of the worker's. */
static void sanitize_acq(struct ewf_acquisition *q)
{
	TERMINATE(q->error);
	TERMINATE(q->format);
	TERMINATE(q->compression);
	TERMINATE(q->case_number);
	TERMINATE(q->evidence_number);
	TERMINATE(q->examiner);
	TERMINATE(q->description);
	TERMINATE(q->notes);
	TERMINATE(q->acquiry_date);
	TERMINATE(q->system_date);
	TERMINATE(q->acquiry_os);
	TERMINATE(q->acquiry_software);
	TERMINATE(q->acquiry_software_version);
	TERMINATE(q->model);
	TERMINATE(q->serial_number);
	TERMINATE(q->stored_md5);
	TERMINATE(q->stored_sha1);
	TERMINATE(q->md5);
	TERMINATE(q->sha1);
	TERMINATE(q->sha256);
	TERMINATE(q->xxh128);
	if (q->status < EWF_ACQ_NONE || q->status > EWF_ACQ_READ_FAILED)
		q->status = EWF_ACQ_OPEN_FAILED;
	if (q->md5_match < EWF_HASH_NOT_STORED || q->md5_match > EWF_HASH_NOT_COMPUTED)
		q->md5_match = EWF_HASH_NOT_COMPUTED;
	if (q->sha1_match < EWF_HASH_NOT_STORED || q->sha1_match > EWF_HASH_NOT_COMPUTED)
		q->sha1_match = EWF_HASH_NOT_COMPUTED;
}

static void sanitize_result(struct tsk_result *res)
{
	sanitize_inside(&res->inside);
	sanitize_acq(&res->acq);
	TERMINATE(res->failure);
	TERMINATE(res->img_type);
	TERMINATE(res->vs_type);
	CLAMP(res->nfs, TSK_MAX_FS);
	CLAMP(res->nparts, TSK_MAX_PARTS);
	CLAMP(res->nerrors, TSK_MAX_ERRORS);
	for (size_t i = 0; i < TSK_MAX_FS; i++) {
		TERMINATE(res->fs[i].type);
		TERMINATE(res->fs[i].how);
	}
	for (size_t i = 0; i < TSK_MAX_PARTS; i++)
		TERMINATE(res->parts[i].desc);
	for (size_t i = 0; i < TSK_MAX_ERRORS; i++)
		TERMINATE(res->errors[i]);
}


/* The next len bytes of the message into dst: false when it is too short. */
static bool take(const uint8_t *msg, size_t n, size_t *at, void *dst, size_t len)
{
	if (n - *at < len)
		return false;
	memcpy(dst, msg + *at, len);
	*at += len;
	return true;
}

/* The packed answer msg[0, n) into res (every part not sent zeroed):
 * 0, or -EPIPE for anything but one whole answer. */
static int unpack_answer(const uint8_t *msg, size_t n, struct tsk_result *res)
{
	uint32_t extras;
	size_t at = 0;

	memset(res, 0, sizeof(*res));
	if (!take(msg, n, &at, res, ANSWER_HEAD) || res->magic != RES_MAGIC || res->nparts > TSK_MAX_PARTS ||
	    !take(msg, n, &at, res->parts, res->nparts * sizeof(res->parts[0])) ||
	    !take(msg, n, &at, &res->nfs, sizeof(res->nfs)) || res->nfs > TSK_MAX_FS ||
	    !take(msg, n, &at, res->fs, res->nfs * sizeof(res->fs[0])) ||
	    !take(msg, n, &at, &res->nerrors, sizeof(res->nerrors)) || res->nerrors > TSK_MAX_ERRORS ||
	    !take(msg, n, &at, res->errors, res->nerrors * sizeof(res->errors[0])))
		return -EPIPE;
	if (!take(msg, n, &at, &extras, sizeof(extras)) || (extras & ~(ANSWER_INSIDE | ANSWER_ACQ)))
		return -EPIPE;
	if ((extras & ANSWER_INSIDE) && (!take(msg, n, &at, &res->inside, sizeof(res->inside)) || !res->inside.status))
		return -EPIPE;
	if ((extras & ANSWER_ACQ) && (!take(msg, n, &at, &res->acq, sizeof(res->acq)) || !res->acq.status))
		return -EPIPE;
	return at == n ? 0 : -EPIPE;
}

int tsk_worker_receive(int sock, struct tsk_result *res, double deadline)
{
	/* Room for the largest answer, and a byte more to see a longer one. */
	static __thread union {
		struct tsk_result align;
		uint8_t bytes[sizeof(struct tsk_result) + 16];
	} wire;

	for (;;) {
		struct pollfd pfd = {sock, POLLIN, 0};
		double left = deadline - monotonic_seconds();
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
		n = recv(sock, wire.bytes, sizeof(wire.bytes), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		/* One message is one whole answer: anything else is a broken worker. */
		if (n < 0 || (size_t)n > sizeof(wire.bytes) || unpack_answer(wire.bytes, (size_t)n, res))
			return -EPIPE;
		sanitize_result(res);
		return 0;
	}
}

