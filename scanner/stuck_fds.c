/*
 * stuck_fds.c - see stuck_fds.h.
 */
#include "stuck_fds.h"

#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STUCK_MAX 1024 /* more stay open, unlisted: the closer's close_range reaches them in order */

#define CLOSE_QUEUE 4096 /* descriptors waiting for the closer thread */

static int stuck[STUCK_MAX];
static unsigned nstuck;
static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;

static int close_queue[CLOSE_QUEUE]; /* (stuck_lock) a ring */
static unsigned close_head, close_len;
static bool closer_started;
static pthread_cond_t close_wake = PTHREAD_COND_INITIALIZER;

static void keep_locked(int fd)
{
	if (nstuck < STUCK_MAX)
		stuck[nstuck++] = fd;
}

void stuck_fd_keep(int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&stuck_lock);
	keep_locked(fd);
	pthread_mutex_unlock(&stuck_lock);
}

static void *close_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&stuck_lock);
	for (;;) {
		while (!close_len)
			pthread_cond_wait(&close_wake, &stuck_lock);
		int fd = close_queue[close_head];
		close_head = (close_head + 1) % CLOSE_QUEUE;
		close_len--;
		pthread_mutex_unlock(&stuck_lock);
		close(fd);
		pthread_mutex_lock(&stuck_lock);
	}
	return NULL;
}

static bool start_closer_locked(void)
{
	pthread_attr_t attr;
	pthread_t tid;

	if (closer_started)
		return true;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024); /* (a sanitizer build needs more than a plain one) */
	closer_started = pthread_create(&tid, &attr, close_thread, NULL) == 0;
	pthread_attr_destroy(&attr);
	return closer_started;
}

void stuck_fd_close_later(int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&stuck_lock);
	if (close_len < CLOSE_QUEUE && start_closer_locked()) {
		close_queue[(close_head + close_len++) % CLOSE_QUEUE] = fd;
		pthread_cond_signal(&close_wake);
	} else { /* the closer is stuck: to the end */
		keep_locked(fd);
	}
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
	while (close_len && nstuck < STUCK_MAX) { /* the closer thread did not get to them */
		stuck[nstuck++] = close_queue[close_head];
		close_head = (close_head + 1) % CLOSE_QUEUE;
		close_len--;
	}
	pthread_mutex_unlock(&stuck_lock);
	if (!nstuck)
		return;
	qsort(stuck, nstuck, sizeof(stuck[0]), cmp_fd);
	/* clone(2) as fork(2) would, but sharing the descriptor table. */
	pid = syscall(SYS_clone, (unsigned long)(CLONE_FILES | SIGCHLD), NULL, NULL, NULL, NULL);
	if (pid == 0)
		closer(self);
	/* pid < 0: our own exit closes them, and waits as the read did. */
}
