/*
 * stuck_fds.c - see stuck_fds.h.
 */
#include "stuck_fds.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STUCK_MAX 1024 /* more are left to the closer's close_range, in order */
#define CLOSERS_MAX 256  /* children still closing; more: the descriptor is kept */

static int stuck[STUCK_MAX];
static unsigned nstuck;
static pid_t closers[CLOSERS_MAX]; /* (stuck_lock) children of stuck_fd_close_in_child() */
static unsigned nclosers;
static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;

void stuck_fd_keep(int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&stuck_lock);
	if (nstuck < STUCK_MAX)
		stuck[nstuck++] = fd;
	pthread_mutex_unlock(&stuck_lock);
}

/* Reap the closers that are done (stuck_lock held). */
static void reap_closers_locked(void)
{
	for (unsigned i = 0; i < nclosers;) {
		pid_t r = waitpid(closers[i], NULL, WNOHANG);
		if (r == closers[i] || (r < 0 && errno == ECHILD))
			closers[i] = closers[--nclosers];
		else
			i++;
	}
}

void stuck_fd_close_in_child(int fd)
{
	long pid = -1;

	if (fd < 0)
		return;
	pthread_mutex_lock(&stuck_lock);
	reap_closers_locked();
	if (nclosers < CLOSERS_MAX) /* clone(2) as fork(2) would, sharing the descriptor table */
		pid = syscall(SYS_clone, (unsigned long)(CLONE_FILES | SIGCHLD), NULL, NULL, NULL, NULL);
	if (pid == 0) {
		close(fd); /* async-signal-safe: we are a fork of a threaded process */
		_exit(0);
	}
	if (pid > 0)
		closers[nclosers++] = (pid_t)pid;
	else if (nstuck < STUCK_MAX) /* no child: closed at the very end */
		stuck[nstuck++] = fd;
	pthread_mutex_unlock(&stuck_lock);
}

unsigned stuck_fds_count(void)
{
	unsigned n;

	pthread_mutex_lock(&stuck_lock);
	n = nstuck;
	pthread_mutex_unlock(&stuck_lock);
	return n;
}

static int cmp_fd(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The child: async-signal-safe calls only (it is a fork of a threaded
 * process).  Every descriptor but the stuck ones first, so that a reader
 * of our stdout sees its end and a catalog lock is free at once. */
static void closer(pid_t parent)
{
	struct timespec nap = {0, 10 * 1000 * 1000};
	unsigned from = 0;

	prctl(PR_SET_NAME, "imgscan-close");
	while (getppid() == parent)
		nanosleep(&nap, NULL);
	for (unsigned i = 0; i < nstuck; i++) {
		if ((unsigned)stuck[i] > from)
			close_range(from, (unsigned)stuck[i] - 1, 0);
		from = (unsigned)stuck[i] + 1;
	}
	close_range(from, ~0U, 0);
	for (unsigned i = 0; i < nstuck; i++)
		close(stuck[i]);
	_exit(0);
}

void stuck_fds_hand_off(void)
{
	pid_t self = getpid();
	long pid;

	pthread_mutex_lock(&stuck_lock);
	reap_closers_locked();
	bool closing = nclosers > 0;
	pthread_mutex_unlock(&stuck_lock);
	if (!nstuck && !closing) /* (a closer still in its close holds our table, stdout too) */
		return;
	qsort(stuck, nstuck, sizeof(stuck[0]), cmp_fd);
	/* clone(2) as fork(2) would, but sharing the descriptor table. */
	pid = syscall(SYS_clone, (unsigned long)(CLONE_FILES | SIGCHLD), NULL, NULL, NULL, NULL);
	if (pid == 0)
		closer(self);
	/* pid < 0: our own exit closes them, and waits as the read did. */
}
