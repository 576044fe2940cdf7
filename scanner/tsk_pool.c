/*
 * tsk_pool.c - worker processes for the Sleuth Kit step (see tsk_pool.h).
 * A worker is started with fork + exec of imgscan-worker, the program built
 * beside imgscan (opened once, when the pool is made, and executed through
 * that descriptor: a binary rebuilt or moved during the run is never
 * mixed in), so it begins with a clean process image whatever our threads
 * were doing at fork time.  The
 * pool owns each worker's process, its socket and its private directory for
 * container names; tsk_worker.c owns what goes over the socket.
 */
#include "tsk_pool.h"
#include "sibling.h"
#include "clock.h"
#include "tsk_wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define KILLED_GRACE_S 5.0 /* a killed worker that has not died by then is left */

/* The worker program, in the directory of the running imgscan. */
#ifdef IMGSCAN_TEST_HOOKS
#define WORKER_PROGRAM "imgscan-testhooks-worker"
#else
#define WORKER_PROGRAM "imgscan-worker"
#endif
/* Where the child puts the program's descriptor before executing it. */
#define WORKER_EXE_FD (TSK_WORKER_IMAGE_FD + 1)

struct worker {
	pid_t pid;                     /* 0: not running */
	bool served;                   /* it has answered a request since it started */
	int sock;                      /* our end of its socket */
	bool busy;                     /* (pool lock) */
	/* Its private directory for container names, made at its first
	 * container: held open, and used only through link_dfd (-1: none);
	 * link_name is its name in the pool's tmp_dfd, for the final rmdir
	 * only, after checking it is still the same directory. */
	int link_dfd;
	dev_t link_dev;
	ino_t link_ino;
	char link_name[32];
	/* Its image buffer (TSK_WORKER_IMAGE_FD): made at its first start and
	 * kept across restarts; -1/NULL: none (images go by descriptor). */
	int shm_fd;
	uint8_t *shm;
};

/* A worker to start, handed to the spawner thread (see spawn()). */
struct spawn_req {
	struct worker *w;
	int rc;
	bool done;
};

struct tsk_pool {
	pthread_mutex_t lock;
	pthread_cond_t idle;          /* a worker became free */
	struct worker w[MAX_WORKERS];
	unsigned n;
	unsigned timeout_s;
	rlim_t mem_bytes;
	int exe_fd;                   /* the worker program, open (O_PATH), above WORKER_EXE_FD */
	char stamp[96];               /* the protocol stamp it must answer to (tsk_wire.h) */
	char *argv[4];
	char tmpdir[PATH_MAX / 8];    /* where the workers' directories go */
	int tmp_dfd;                  /* tmpdir, open (-1: unusable: containers fail) */
	unsigned restarts;            /* (lock) */
	/* Workers are forked by one thread that lives as long as the pool, so
	 * their parent-death signal (PR_SET_PDEATHSIG, which follows the
	 * forking thread) fires only when imgscan itself goes. */
	pthread_t spawner;
	pthread_mutex_t spawn_lock;
	pthread_cond_t spawn_cv;
	struct spawn_req *spawn_req;  /* (spawn_lock) the one pending request */
	bool spawn_quit;              /* (spawn_lock) */
	unsigned prestart_target;     /* (spawn_lock) workers to start ahead of need, the first ones */
	bool prestarting;             /* (spawn_lock) the spawner is starting one of them */
	unsigned prestart_next;       /* (spawn_lock) the next worker to look at */
#ifdef IMGSCAN_TEST_HOOKS
	char fault[16];               /* test-only: the fault and the path part that triggers it */
	char fault_match[256];
#endif
};

#ifdef IMGSCAN_TEST_HOOKS
/* Test-only (imgscan-testhooks): IMGSCAN_TEST_TSK_FAULT=crash|hang|alloc|garble:PATH-PART
 * makes the worker fail that way on images whose path contains PATH-PART.
 * Read once, here; the worker applies it. */
static void load_test_fault(struct tsk_pool *p)
{
	const char *f = getenv("IMGSCAN_TEST_TSK_FAULT");
	const char *colon = f ? strchr(f, ':') : NULL;

	if (!colon || (size_t)(colon - f) >= sizeof(p->fault))
		return;
	memcpy(p->fault, f, (size_t)(colon - f));
	p->fault[colon - f] = '\0';
	snprintf(p->fault_match, sizeof(p->fault_match), "%s", colon + 1);
}

static const char *test_fault(const struct tsk_pool *p, const struct tsk_request *req)
{
	return p->fault[0] && strstr(req->path, p->fault_match) ? p->fault : NULL;
}
#else
static const char *test_fault(const struct tsk_pool *p, const struct tsk_request *req)
{
	(void)p;
	(void)req;
	return NULL;
}
#endif

static void *spawner_main(void *arg);

/* Open the worker program beside our own executable: 0 or -errno. */
static int open_worker_program(struct tsk_pool *p)
{
	char path[PATH_MAX + sizeof(WORKER_PROGRAM) + 1];
	int fd, rc = sibling_path(WORKER_PROGRAM, path, sizeof(path));

	if (rc)
		return rc;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Above the descriptors the child sets up (0 to WORKER_EXE_FD), so
	 * none of them lands on it before it is moved. */
	p->exe_fd = fcntl(fd, F_DUPFD_CLOEXEC, WORKER_EXE_FD + 1);
	close(fd);
	if (p->exe_fd < 0)
		return -errno;
	tsk_wire_stamp(p->stamp, sizeof(p->stamp));
	p->argv[0] = WORKER_PROGRAM;
	p->argv[1] = "--tsk-worker";
	p->argv[2] = p->stamp;
	p->argv[3] = NULL;
	return 0;
}

int tsk_pool_create(unsigned nworkers, unsigned timeout_s, unsigned mem_mib, struct tsk_pool **out)
{
	struct tsk_pool *p = calloc(1, sizeof(*p));
	const char *tmp = getenv("TMPDIR");
	int rc;

	if (!p)
		return -ENOMEM;
	p->n = nworkers < 1 ? 1 : nworkers > MAX_WORKERS ? MAX_WORKERS : nworkers;
	p->timeout_s = timeout_s;
	p->mem_bytes = (rlim_t)mem_mib << 20;
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		p->w[i].link_dfd = p->w[i].shm_fd = -1;
	rc = open_worker_program(p);
	if (rc) {
		free(p);
		return rc;
	}
	if (!tmp || !*tmp || strlen(tmp) >= sizeof(p->tmpdir))
		tmp = "/tmp";
	snprintf(p->tmpdir, sizeof(p->tmpdir), "%s", tmp);
	/* $TMPDIR itself is the caller's choice: looked up once, here. */
	p->tmp_dfd = open(p->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#ifdef IMGSCAN_TEST_HOOKS
	load_test_fault(p);
#endif
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_mutex_init(&p->spawn_lock, NULL);
	pthread_cond_init(&p->spawn_cv, NULL);
	rc = pthread_create(&p->spawner, NULL, spawner_main, p);
	if (rc) {
		pthread_mutex_destroy(&p->spawn_lock);
		pthread_cond_destroy(&p->spawn_cv);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->idle);
		if (p->tmp_dfd >= 0)
			close(p->tmp_dfd);
		close(p->exe_fd);
		free(p);
		return -rc;
	}
	*out = p;
	return 0;
}

/*
 * The worker's private directory (mode 0700, a fresh name): where it makes
 * the links that name containers for their libraries.  Made at the
 * worker's first container; without one, only containers fail, so a
 * failure here is not fatal.  $TMPDIR may be writable by others (and not
 * sticky): the directory is made through our open descriptor of $TMPDIR,
 * opened at once without following a symlink, and kept only if it is
 * still what mkdtemp made (a directory of ours, 0700, the same inode as
 * right after mkdtemp).  From then on it is used only through that
 * descriptor, here and in the worker, never by its name.
 */
static void make_link_dir(const struct tsk_pool *p, struct worker *w)
{
	char path[64];
	struct stat made, st;
	int dfd;

	if (p->tmp_dfd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/imgscan-tsk-XXXXXX", p->tmp_dfd);
	if (!mkdtemp(path))
		return;
	snprintf(w->link_name, sizeof(w->link_name), "%s", strrchr(path, '/') + 1);
	if (fstatat(p->tmp_dfd, w->link_name, &made, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(made.st_mode))
		return; /* replaced already: whatever is there now is not ours to remove */
	dfd = openat(p->tmp_dfd, w->link_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	if (fstat(dfd, &st) || st.st_dev != made.st_dev || st.st_ino != made.st_ino || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != 0700) {
		close(dfd);
		return;
	}
	w->link_dfd = dfd;
	w->link_dev = st.st_dev;
	w->link_ino = st.st_ino;
}

/* Remove whatever a killed worker left in its directory, through the
 * directory's own descriptor, then the directory itself, by name, only if
 * that name is still the same directory (otherwise it is left alone). */
static void remove_link_dir(const struct tsk_pool *p, struct worker *w)
{
	int dup_fd;
	DIR *d;
	struct dirent *e;
	struct stat st;

	if (w->link_dfd < 0)
		return;
	dup_fd = fcntl(w->link_dfd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd >= 0 && (d = fdopendir(dup_fd)) != NULL) {
		rewinddir(d);
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(w->link_dfd, e->d_name, 0);
		closedir(d);
	} else if (dup_fd >= 0) {
		close(dup_fd);
	}
	if (!fstatat(p->tmp_dfd, w->link_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode) &&
	    st.st_dev == w->link_dev && st.st_ino == w->link_ino)
		unlinkat(p->tmp_dfd, w->link_name, AT_REMOVEDIR);
	close(w->link_dfd);
	w->link_dfd = -1;
	w->link_name[0] = '\0';
}

/* Every descriptor from first up: close_range(2), or one by one where
 * the kernel lacks it.  Async-signal-safe. */
static void close_from(int first)
{
	struct rlimit nofile;

	if (syscall(SYS_close_range, (unsigned)first, ~0u, 0u) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &nofile) || nofile.rlim_cur > (1u << 20))
		nofile.rlim_cur = 1u << 20;
	for (rlim_t fd = (rlim_t)first; fd < nofile.rlim_cur; fd++)
		close((int)fd);
}

/* Make fd `to` a copy of `from` that survives exec (dup2 onto itself
 * would keep close-on-exec).  Async-signal-safe. */
static int dup_keep(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/*
 * The child between fork and exec: only async-signal-safe calls.  It dies
 * with imgscan (parent-death signal, then a check that the parent did not
 * go before it was set), starts with no signal blocked (the pool's threads
 * block SIGINT/SIGTERM/SIGUSR1 for stop.c), ignores SIGINT, SIGTERM, SIGHUP
 * and SIGUSR1 (sent to a whole process group, they are for imgscan: the pool
 * kills its workers itself), and
 * keeps only its socket (fd 0), /dev/null (1, 2) and its image buffer (3,
 * when it has one): nothing else of ours or of our caller's crosses the
 * exec.
 */
static void exec_worker(const struct tsk_pool *p, int sock, int shm_fd, pid_t parent, const struct rlimit *lim)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigset_t none;
	int devnull;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	/* A signal to the whole process group (^C, timeout(1), a service
	 * manager's stop) is for imgscan to act on, not for its workers: the
	 * pool kills them itself, with SIGKILL. */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGUSR1, &ign, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup_keep(sock, TSK_WORKER_SOCKET_FD))
		_exit(127);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* TSK must never print into our output */
	if (devnull < 0 || dup_keep(devnull, 1) || dup_keep(devnull, 2))
		_exit(127);
	if (shm_fd < 0)
		close(TSK_WORKER_IMAGE_FD); /* whatever is there is not its buffer */
	else if (dup_keep(shm_fd, TSK_WORKER_IMAGE_FD))
		_exit(127);
	/* The program's descriptor closes itself at the exec (FD_CLOEXEC
	 * stays set: dup3 with O_CLOEXEC), once the kernel holds the file. */
	if (dup3(p->exe_fd, WORKER_EXE_FD, O_CLOEXEC) < 0)
		_exit(127);
	close_from(WORKER_EXE_FD + 1);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	/* ASan and TSan reserve terabytes of shadow address space: no
	 * limit there (TSan's worker dies of SIGSEGV under one). */
	setrlimit(RLIMIT_AS, lim);
#else
	(void)lim;
#endif
	fexecve(WORKER_EXE_FD, p->argv, environ);
	_exit(127);
}

/*
 * The worker's image buffer: a memfd of TSK_SHARED_MAX bytes, mapped here
 * for writing, then sealed (no other writable mapping, no resizing), so the
 * worker, running TSK on hostile images, can only read it; we only ever
 * write it.  Made once per worker slot; without it (an old kernel without
 * F_SEAL_FUTURE_WRITE, no memory) images go by descriptor.
 */
static void make_image_buffer(struct worker *w)
{
	int made = memfd_create("imgscan-tsk-image", MFD_CLOEXEC | MFD_ALLOW_SEALING), fd;
	void *m;

	if (made < 0)
		return;
	/* Above the descriptors the child sets up before moving it to
	 * TSK_WORKER_IMAGE_FD (0 to WORKER_EXE_FD), so none of them lands on it. */
	fd = fcntl(made, F_DUPFD_CLOEXEC, WORKER_EXE_FD + 1);
	close(made);
	if (fd < 0)
		return;
	if (ftruncate(fd, TSK_SHARED_MAX) ||
	    (m = mmap(NULL, TSK_SHARED_MAX, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		close(fd);
		return;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)) {
		munmap(m, TSK_SHARED_MAX);
		close(fd);
		return;
	}
	w->shm_fd = fd;
	w->shm = m;
}

/* Start one worker: called on the spawner thread only. */
static int spawn_here(struct tsk_pool *p, struct worker *w)
{
	int sv[2], rc;
	struct rlimit lim = {p->mem_bytes, p->mem_bytes};
	pid_t parent = getpid(), pid;

	if ((rc = tsk_worker_socketpair(sv)) != 0)
		return rc;
	if (w->shm_fd < 0)
		make_image_buffer(w);
	pid = fork();
	if (pid == 0)
		exec_worker(p, sv[1], w->shm_fd, parent, &lim);
	rc = pid < 0 ? -errno : 0;
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		return rc;
	}
	w->pid = pid;
	w->served = false;
	w->sock = sv[0];
	return 0;
}

/* Start worker index ahead of need, if it is neither running nor in use
 * (each is started ahead once at most: one that fails to start is left to
 * the first request, which says why).  Called on the spawner thread,
 * without the spawn lock.  The worker is held (busy) meanwhile, so no
 * request picks it half started. */
static void prestart_one(struct tsk_pool *p, unsigned index)
{
	struct worker *w = NULL;

	pthread_mutex_lock(&p->lock);
	if (!p->w[index].busy && !p->w[index].pid)
		w = &p->w[index];
	if (w)
		w->busy = true;
	pthread_mutex_unlock(&p->lock);
	if (!w)
		return;
	spawn_here(p, w);
	pthread_mutex_lock(&p->lock);
	w->busy = false;
	pthread_cond_signal(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

/* The spawner thread: forks the workers asked for, one at a time, until
 * the pool goes. */
static void *spawner_main(void *arg)
{
	struct tsk_pool *p = arg;

	pthread_mutex_lock(&p->spawn_lock);
	for (;;) {
		struct spawn_req *r;
		unsigned index;

		while (!p->spawn_req && p->prestart_next >= p->prestart_target && !p->spawn_quit)
			pthread_cond_wait(&p->spawn_cv, &p->spawn_lock);
		if (!p->spawn_req && p->spawn_quit)
			break;
		if (!p->spawn_req) { /* prestart; a request waiting always goes first */
			index = p->prestart_next++;
			p->prestarting = true;
			pthread_mutex_unlock(&p->spawn_lock);
			prestart_one(p, index);
			pthread_mutex_lock(&p->spawn_lock);
			p->prestarting = false;
			pthread_cond_broadcast(&p->spawn_cv); /* tsk_pool_destroy() may wait for it */
			continue;
		}
		r = p->spawn_req;
		pthread_mutex_unlock(&p->spawn_lock);
		r->rc = spawn_here(p, r->w);
		pthread_mutex_lock(&p->spawn_lock);
		r->done = true;
		p->spawn_req = NULL;
		pthread_cond_broadcast(&p->spawn_cv);
	}
	pthread_mutex_unlock(&p->spawn_lock);
	return NULL;
}

/* Start one worker, on the spawner thread: 0 or -errno. */
static int spawn(struct tsk_pool *p, struct worker *w)
{
	struct spawn_req r = {w, 0, false};

	pthread_mutex_lock(&p->spawn_lock);
	while (p->spawn_req)
		pthread_cond_wait(&p->spawn_cv, &p->spawn_lock);
	p->spawn_req = &r;
	pthread_cond_broadcast(&p->spawn_cv);
	while (!r.done)
		pthread_cond_wait(&p->spawn_cv, &p->spawn_lock);
	pthread_mutex_unlock(&p->spawn_lock);
	return r.rc;
}

/* waitpid(pid) polled for up to seconds (once at least): its last
 * answer, pid when reaped, 0 when still running (errno kept otherwise). */
static pid_t wait_child(pid_t pid, double seconds, int *status)
{
	double deadline = monotonic_seconds() + seconds;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR) || monotonic_seconds() >= deadline)
			return r;
		if (r == 0)
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	}
}

/* A worker killed inside a call its file system never answers (a FUSE
 * request the daemon took) cannot die until it does: waited for a while,
 * then left (a zombie of ours when it ends), never for ever. */
static int reap_killed(pid_t pid)
{
	int status = SIGKILL;

	return wait_child(pid, KILLED_GRACE_S, &status) == pid ? status : SIGKILL; /* (how it will end, if ever) */
}

/*
 * Stop a worker (already dead or not), collect its status, remove its
 * directory.  Its socket is closed first (an idle worker then ends its
 * loop); it gets up to grace_s seconds to exit by itself, then SIGKILL
 * (harmless to a zombie): never an unbounded wait for a live worker.
 * *killed (may be NULL): it was still running when it was killed.
 */
static int reap(struct tsk_pool *p, struct worker *w, double grace_s, bool *killed)
{
	int status = 0;
	pid_t r;

	if (killed)
		*killed = false;
	close(w->sock);
	r = wait_child(w->pid, grace_s, &status);
	if (r < 0 && errno == ECHILD) {
		/* Reaped behind our back (SIGCHLD ignored): the pid may be someone
		 * else's now, never signal it; how it ended is unknown. */
		status = W_EXITCODE(255, 0);
	} else if (r != w->pid) {
		if (killed)
			*killed = r == 0;
		kill(w->pid, SIGKILL);
		status = reap_killed(w->pid);
	}
	w->pid = 0;
	remove_link_dir(p, w);
	return status;
}

/* Why the worker died.  Out of memory is not guessed from messages: a
 * worker that hit its address-space limit inside libtsk either answered
 * TSK_OUT_OF_MEMORY (TSK's allocator failed) or was killed by a signal
 * (C++ allocations abort on failure; the kernel's OOM killer sends SIGKILL).
 * killed: it was alive after its broken answer, and we killed it. */
static void describe_death(int status, bool killed, struct tsk_result *res)
{
	memset(res, 0, sizeof(*res));
	if (killed) {
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "worker broke the protocol (killed)");
	} else if (WIFSIGNALED(status)) {
		const char *name = sigabbrev_np(WTERMSIG(status));
		res->status = TSK_CRASHED;
		snprintf(res->failure, sizeof(res->failure), "crashed: SIG%s", name ? name : "?");
		if (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGABRT)
			snprintf(res->failure + strlen(res->failure), sizeof(res->failure) - strlen(res->failure),
				 " (may be out of memory)");
	} else {
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "worker exited with status %d%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 WIFEXITED(status) && WEXITSTATUS(status) == 126
				 ? " (" WORKER_PROGRAM " is from another build of imgscan: rebuild both)"
				 : WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (it could not be started)" : "");
	}
}

static void count_restart(struct tsk_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->restarts++;
	pthread_mutex_unlock(&p->lock);
}

/* The worker program exited before serving: another build's (126), or it
 * could not be executed (127). */
static bool failed_to_start(int status)
{
	return WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127);
}

static void fail(struct tsk_result *res, enum tsk_status status, const char *what, int err)
{
	memset(res, 0, sizeof(*res));
	res->status = status;
	snprintf(res->failure, sizeof(res->failure), "%s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
}

/* Send one request, starting the worker first when it is not running.  A
 * worker that died while idle (the send finds its socket closed: it
 * received nothing) is not blamed on this image: it is replaced and the
 * request sent once more.  0, or -errno with res filled. */
static int send_request(struct tsk_pool *p, struct worker *w, const struct tsk_request *req, int image_fd,
			const uint8_t *image, const struct tsk_segments *segs, struct tsk_result *res)
{
	bool share = image && req->size <= TSK_SHARED_MAX && !strcmp(req->op, "tsk") && !strcmp(req->container, "raw");
	int rc = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		uint32_t shared_len = 0;

		if (!w->pid && (rc = spawn(p, w)) != 0) {
			fail(res, TSK_WORKER_ERROR, "cannot start a worker", -rc);
			return rc;
		}
		if (strcmp(req->container, "raw") && w->link_dfd < 0)
			make_link_dir(p, w);
		/* The worker is idle: its buffer is ours to fill. */
		if (share && w->shm) {
			memcpy(w->shm, image, (size_t)req->size);
			shared_len = (uint32_t)req->size;
		}
		rc = tsk_worker_send(w->sock, req, image_fd, shared_len, w->link_dfd, test_fault(p, req));
		if (rc == 0 && segs)
			rc = tsk_worker_send_segments(w->sock, segs->fd, segs->size, segs->n);
		if (rc != -EPIPE)
			break;
		if (!w->served) { /* gone before it served at all: why, if it said (not a restart) */
			int status = reap(p, w, 0.5, NULL);
			if (failed_to_start(status)) {
				describe_death(status, false, res);
				return -EPIPE;
			}
			continue;
		}
		reap(p, w, 0, NULL);
		count_restart(p);
	}
	if (rc == -EPIPE)
		fail(res, TSK_WORKER_ERROR, "cannot send the request: the new worker is gone too", 0);
	else if (rc) /* nothing was sent: the worker is fine */
		fail(res, TSK_WORKER_ERROR, "cannot send the request", -rc);
	return rc;
}

/* One request on one worker; on any failure the worker is replaced. */
static void run_on(struct tsk_pool *p, struct worker *w, const struct tsk_request *req, int image_fd,
		   const uint8_t *image, const struct tsk_segments *segs, struct tsk_result *res)
{
	bool killed;
	int rc, status;

	if (send_request(p, w, req, image_fd, image, segs, res))
		return;
	rc = tsk_worker_receive(w->sock, res, monotonic_seconds() + p->timeout_s + req->extra_seconds);
	if (rc == 0) {
		w->served = true;
		return;
	}
	if (rc == -ECANCELED) { /* the run is stopping: not the worker's fault */
		reap(p, w, 0, NULL);
		fail(res, TSK_STOPPED, "stopped: the scan was stopped", 0);
		return;
	}
	if (rc == -ETIMEDOUT) {
		reap(p, w, 0, NULL);
		memset(res, 0, sizeof(*res));
		res->status = TSK_TIMED_OUT;
		snprintf(res->failure, sizeof(res->failure), "timed out after %u s", p->timeout_s + req->extra_seconds);
	} else {
		/* It closed its end (it is gone, or going: a moment to collect
		 * how it died) or sent something broken (killed). */
		status = reap(p, w, 0.5, &killed);
		describe_death(status, killed, res);
		if (!w->served && failed_to_start(status))
			return; /* it never ran: not a restart */
	}
	count_restart(p);
}

void tsk_pool_prestart(struct tsk_pool *p, unsigned workers)
{
	pthread_mutex_lock(&p->spawn_lock);
	if (workers > p->n)
		workers = p->n;
	if (workers > p->prestart_target) {
		p->prestart_target = workers;
		pthread_cond_broadcast(&p->spawn_cv);
	}
	pthread_mutex_unlock(&p->spawn_lock);
}

static void run_request(struct tsk_pool *p, const struct tsk_request *req, int image_fd, const uint8_t *image,
			const struct tsk_segments *segs, struct tsk_result *res)
{
	struct worker *w = NULL;

	if (image_fd < 0) {
		fail(res, TSK_WORKER_ERROR, "no open image to give the worker", 0);
		return;
	}
	pthread_mutex_lock(&p->lock);
	while (!w) {
		for (unsigned i = 0; i < p->n && !w; i++)
			if (!p->w[i].busy)
				w = &p->w[i];
		if (!w)
			pthread_cond_wait(&p->idle, &p->lock);
	}
	w->busy = true;
	pthread_mutex_unlock(&p->lock);

	run_on(p, w, req, image_fd, image, segs, res);
	if (res->status == TSK_OUT_OF_MEMORY) {
		/* An allocation failed in the worker (its allocator said ENOMEM):
		 * it survived, its heap may not have. */
		snprintf(res->failure, sizeof(res->failure), "out of memory (address-space limit %llu MiB)",
			 (unsigned long long)(p->mem_bytes >> 20));
		reap(p, w, 0, NULL);
		count_restart(p);
	}

	pthread_mutex_lock(&p->lock);
	w->busy = false;
	pthread_cond_signal(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

void tsk_pool_run(struct tsk_pool *p, const struct tsk_request *req, int image_fd, const uint8_t *image,
		  struct tsk_result *res)
{
	run_request(p, req, image_fd, image, NULL, res);
}

void tsk_pool_run_segments(struct tsk_pool *p, const struct tsk_request *req, const struct tsk_segments *segs,
			   struct tsk_result *res)
{
	if (segs->n < 2 || req->nsegments != segs->n) {
		fail(res, TSK_WORKER_ERROR, "media needs two segments or more", 0);
		return;
	}
	run_request(p, req, segs->fd[0], NULL, segs, res);
}

unsigned tsk_pool_restarts(struct tsk_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->restarts;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* How long an idle worker gets, at the end, to finish dropping its last
 * image from the page cache after its socket is closed. */
#define DESTROY_GRACE_S 10.0

void tsk_pool_destroy(struct tsk_pool *p)
{
	if (!p)
		return;
	/* No worker starts behind our back from here on. */
	pthread_mutex_lock(&p->spawn_lock);
	p->prestart_target = 0;
	while (p->prestarting)
		pthread_cond_wait(&p->spawn_cv, &p->spawn_lock);
	pthread_mutex_unlock(&p->spawn_lock);
	/* Closing its socket ends the worker's loop; the kill is for one that
	 * does not end. */
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].pid)
			close(p->w[i].sock), p->w[i].sock = -1;
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].pid)
			reap(p, &p->w[i], DESTROY_GRACE_S, NULL);
	pthread_mutex_lock(&p->spawn_lock);
	p->spawn_quit = true;
	pthread_cond_broadcast(&p->spawn_cv);
	pthread_mutex_unlock(&p->spawn_lock);
	pthread_join(p->spawner, NULL);
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (p->w[i].shm_fd >= 0) {
			munmap(p->w[i].shm, TSK_SHARED_MAX);
			close(p->w[i].shm_fd);
		}
	if (p->tmp_dfd >= 0)
		close(p->tmp_dfd);
	close(p->exe_fd);
	pthread_mutex_destroy(&p->spawn_lock);
	pthread_cond_destroy(&p->spawn_cv);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	free(p);
}
