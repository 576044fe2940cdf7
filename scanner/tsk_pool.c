/*
 * tsk_pool.c - worker processes for the Sleuth Kit step (see tsk_pool.h).
 * A worker is started with fork + exec of /proc/self/exe, so it begins with
 * a clean process image whatever our threads were doing at fork time.
 */
#include "tsk_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
	pid_t pid;     /* 0: not running */
	int to_fd;     /* requests */
	int from_fd;   /* results */
	bool busy;     /* (pool lock) */
};

struct tsk_pool {
	pthread_mutex_t lock;
	pthread_cond_t idle;          /* a worker became free */
	struct worker w[MAX_WORKERS];
	unsigned n;
	unsigned timeout_s;
	rlim_t mem_bytes;
	unsigned restarts;            /* (lock) */
};

int tsk_pool_create(unsigned nworkers, unsigned timeout_s, unsigned mem_mib, struct tsk_pool **out)
{
	struct tsk_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->n = nworkers < 1 ? 1 : nworkers > MAX_WORKERS ? MAX_WORKERS : nworkers;
	p->timeout_s = timeout_s;
	p->mem_bytes = (rlim_t)mem_mib << 20;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	*out = p;
	return 0;
}

/* Start one worker.  Only async-signal-safe calls between fork and exec. */
static int spawn(struct tsk_pool *p, struct worker *w)
{
	int req[2], res[2];
	struct rlimit lim = {p->mem_bytes, p->mem_bytes};
	pid_t pid;

	if (pipe2(req, O_CLOEXEC))
		return -errno;
	if (pipe2(res, O_CLOEXEC)) {
		close(req[0]);
		close(req[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		char *argv[] = {"imgscan", "--tsk-worker", NULL};

		dup2(req[0], 0);
		dup2(res[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2); /* TSK must never print into our output */
#ifndef __SANITIZE_ADDRESS__
		/* ASan reserves terabytes of shadow address space: no limit there. */
		setrlimit(RLIMIT_AS, &lim);
#else
		(void)lim;
#endif
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(req[0]);
	close(res[1]);
	if (pid < 0) {
		close(req[1]);
		close(res[0]);
		return -errno;
	}
	w->pid = pid;
	w->to_fd = req[1];
	w->from_fd = res[0];
	return 0;
}

/* Stop a worker (already dead or not) and collect its status. */
static int reap(struct worker *w, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(w->pid, SIGKILL);
	close(w->to_fd);
	close(w->from_fd);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
	return status;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read the answer before the deadline: 0, -ETIMEDOUT, or -EPIPE (worker gone). */
static int read_answer(int fd, struct tsk_result *res, double deadline)
{
	char *c = (char *)res;
	size_t got = 0;

	while (got < sizeof(*res)) {
		struct pollfd pfd = {fd, POLLIN, 0};
		double left = deadline - now_s();
		int rc;
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			return -ETIMEDOUT;
		n = read(fd, c + got, sizeof(*res) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		got += (size_t)n;
	}
	return res->magic == TSK_RES_MAGIC ? 0 : -EPIPE;
}

static void describe_death(int status, struct tsk_result *res)
{
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

/* One request on one worker; on any failure the worker is replaced. */
static void run_on(struct tsk_pool *p, struct worker *w, const struct tsk_request *req, struct tsk_result *res)
{
	int rc;

	if (!w->pid && (rc = spawn(p, w)) != 0) {
		memset(res, 0, sizeof(*res));
		res->status = TSK_WORKER_ERROR;
		snprintf(res->failure, sizeof(res->failure), "cannot start a worker: %s", strerror(-rc));
		return;
	}
	rc = tsk_pipe_transfer(w->to_fd, (void *)req, sizeof(*req), true) ? -EPIPE
		: read_answer(w->from_fd, res, now_s() + p->timeout_s);
	if (rc == 0)
		return;
	if (rc == -ETIMEDOUT) {
		reap(w, true);
		memset(res, 0, sizeof(*res));
		res->status = TSK_TIMED_OUT;
		snprintf(res->failure, sizeof(res->failure), "timed out after %u s", p->timeout_s);
	} else {
		int status = reap(w, false);
		memset(res, 0, sizeof(*res));
		describe_death(status, res);
	}
	pthread_mutex_lock(&p->lock);
	p->restarts++;
	pthread_mutex_unlock(&p->lock);
}

void tsk_pool_run(struct tsk_pool *p, const struct tsk_request *req, struct tsk_result *res)
{
	struct worker *w = NULL;

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

	run_on(p, w, req, res);
	if (res->status == TSK_OUT_OF_MEMORY) {
		/* The worker survived a failed allocation; its heap may not have. */
		snprintf(res->failure, sizeof(res->failure), "out of memory (address-space limit %llu MiB)",
			 (unsigned long long)(p->mem_bytes >> 20));
		reap(w, true);
		pthread_mutex_lock(&p->lock);
		p->restarts++;
		pthread_mutex_unlock(&p->lock);
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
			reap(&p->w[i], false); /* closing its input ends the worker's loop */
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	free(p);
}
