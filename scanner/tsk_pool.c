/*
 * tsk_pool.c - worker processes for the Sleuth Kit step (see tsk_pool.h).
 * A worker is started with fork + exec of /proc/self/exe, so it begins with
 * a clean process image whatever our threads were doing at fork time.  The
 * pool owns each worker's process, its socket and its private directory for
 * container names; tsk_worker.c owns what goes over the socket.
 */
#include "tsk_pool.h"
#include "tsk_worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64

struct worker {
	pid_t pid;                     /* 0: not running */
	int sock;                      /* our end of its socket */
	bool busy;                     /* (pool lock) */
	char link_dir[PATH_MAX / 4];   /* its private directory, made at its first container; "" if none */
};

struct tsk_pool {
	pthread_mutex_t lock;
	pthread_cond_t idle;          /* a worker became free */
	struct worker w[MAX_WORKERS];
	unsigned n;
	unsigned timeout_s;
	rlim_t mem_bytes;
	char tmpdir[PATH_MAX / 8];    /* where the workers' directories go */
	unsigned restarts;            /* (lock) */
#ifdef IMGSCAN_TEST_HOOKS
	char fault[16];               /* test-only: the fault and the path part that triggers it */
	char fault_match[256];
#endif
};

#ifdef IMGSCAN_TEST_HOOKS
/* Test-only (imgscan-testhooks): IMGSCAN_TEST_TSK_FAULT=crash|hang|alloc:PATH-PART
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

int tsk_pool_create(unsigned nworkers, unsigned timeout_s, unsigned mem_mib, struct tsk_pool **out)
{
	struct tsk_pool *p = calloc(1, sizeof(*p));
	const char *tmp = getenv("TMPDIR");

	if (!p)
		return -ENOMEM;
	p->n = nworkers < 1 ? 1 : nworkers > MAX_WORKERS ? MAX_WORKERS : nworkers;
	p->timeout_s = timeout_s;
	p->mem_bytes = (rlim_t)mem_mib << 20;
	if (!tmp || !*tmp || strlen(tmp) >= sizeof(p->tmpdir))
		tmp = "/tmp";
	snprintf(p->tmpdir, sizeof(p->tmpdir), "%s", tmp);
#ifdef IMGSCAN_TEST_HOOKS
	load_test_fault(p);
#endif
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	*out = p;
	return 0;
}

/* The worker's private directory (mode 0700, a fresh name): where it makes
 * the links that name containers for their libraries.  Made at the
 * worker's first container; without one, only containers fail, so a
 * failure here is not fatal. */
static void make_link_dir(const struct tsk_pool *p, struct worker *w)
{
	snprintf(w->link_dir, sizeof(w->link_dir), "%s/imgscan-tsk-XXXXXX", p->tmpdir);
	if (!mkdtemp(w->link_dir))
		w->link_dir[0] = '\0';
}

/* Remove the directory and whatever a killed worker left in it. */
static void remove_link_dir(struct worker *w)
{
	DIR *d;
	struct dirent *e;

	if (!w->link_dir[0])
		return;
	if ((d = opendir(w->link_dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(w->link_dir);
	w->link_dir[0] = '\0';
}

/* Start one worker.  Only async-signal-safe calls between fork and exec. */
static int spawn(struct tsk_pool *p, struct worker *w)
{
	int sv[2], rc;
	struct rlimit lim = {p->mem_bytes, p->mem_bytes};
	pid_t pid;

	if ((rc = tsk_worker_socketpair(sv)) != 0)
		return rc;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		char *argv[] = {"imgscan", "--tsk-worker", NULL};

		dup2(sv[1], TSK_WORKER_SOCKET_FD);
		if (devnull >= 0) { /* TSK must never print into our output */
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
		/* ASan and TSan reserve terabytes of shadow address space: no
		 * limit there (TSan's worker dies of SIGSEGV under one). */
		setrlimit(RLIMIT_AS, &lim);
#else
		(void)lim;
#endif
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	rc = pid < 0 ? -errno : 0;
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		return rc;
	}
	w->pid = pid;
	w->sock = sv[0];
	return 0;
}

/* Stop a worker (already dead or not), collect its status, remove its
 * directory. */
static int reap(struct worker *w, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(w->pid, SIGKILL);
	close(w->sock);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
	remove_link_dir(w);
	return status;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Why the worker died.  Out of memory is not guessed from messages: a
 * worker that hit its address-space limit inside libtsk either answered
 * TSK_OUT_OF_MEMORY (TSK's allocator failed) or was killed by a signal
 * (C++ allocations abort on failure; the kernel's OOM killer sends SIGKILL). */
static void describe_death(int status, struct tsk_result *res)
{
	memset(res, 0, sizeof(*res));
	if (WIFSIGNALED(status)) {
		const char *name = sigabbrev_np(WTERMSIG(status));
		res->status = TSK_CRASHED;
		snprintf(res->failure, sizeof(res->failure), "crashed: SIG%s", name ? name : "?");
		if (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGABRT)
			snprintf(res->failure + strlen(res->failure), sizeof(res->failure) - strlen(res->failure),
				 " (may be out of memory)");
	} else {
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "worker exited with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

static void count_restart(struct tsk_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->restarts++;
	pthread_mutex_unlock(&p->lock);
}

/* One request on one worker; on any failure the worker is replaced. */
static void run_on(struct tsk_pool *p, struct worker *w, const struct tsk_request *req, int image_fd,
		   struct tsk_result *res)
{
	int rc;

	if (!w->pid && (rc = spawn(p, w)) != 0) {
		memset(res, 0, sizeof(*res));
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "cannot start a worker: %s", strerror(-rc));
		return;
	}
	if (strcmp(req->container, "raw") && !w->link_dir[0])
		make_link_dir(p, w);
	rc = tsk_worker_send(w->sock, req, image_fd, w->link_dir, test_fault(p, req));
	if (rc && rc != -EPIPE) { /* nothing was sent: the worker is fine */
		memset(res, 0, sizeof(*res));
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "cannot send the request: %s", strerror(-rc));
		return;
	}
	if (rc == 0)
		rc = tsk_worker_receive(w->sock, res, now_s() + p->timeout_s);
	if (rc == 0)
		return;
	if (rc == -ECANCELED) { /* the run is stopping: not the worker's fault */
		reap(w, true);
		memset(res, 0, sizeof(*res));
		res->status = TSK_STOPPED;
		snprintf(res->failure, sizeof(res->failure), "stopped: the scan was stopped");
		return;
	}
	if (rc == -ETIMEDOUT) {
		reap(w, true);
		memset(res, 0, sizeof(*res));
		res->status = TSK_TIMED_OUT;
		snprintf(res->failure, sizeof(res->failure), "timed out after %u s", p->timeout_s);
	} else {
		describe_death(reap(w, false), res); /* it closed its end: it is gone, or going */
	}
	count_restart(p);
}

void tsk_pool_run(struct tsk_pool *p, const struct tsk_request *req, int image_fd, struct tsk_result *res)
{
	struct worker *w = NULL;

	if (image_fd < 0) {
		memset(res, 0, sizeof(*res));
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "no open image to give the worker");
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

	run_on(p, w, req, image_fd, res);
	if (res->status == TSK_OUT_OF_MEMORY) {
		/* An allocation failed in the worker (its allocator said ENOMEM):
		 * it survived, its heap may not have. */
		snprintf(res->failure, sizeof(res->failure), "out of memory (address-space limit %llu MiB)",
			 (unsigned long long)(p->mem_bytes >> 20));
		reap(w, true);
		count_restart(p);
	}

	pthread_mutex_lock(&p->lock);
	w->busy = false;
	pthread_cond_signal(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

unsigned tsk_pool_restarts(struct tsk_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->restarts;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void tsk_pool_destroy(struct tsk_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].pid)
			reap(&p->w[i], false); /* closing its socket ends the worker's loop */
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	free(p);
}
