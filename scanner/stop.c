/*
 * stop.c - the thread that waits for SIGINT/SIGTERM (see stop.h).
 */
#include "stop.h"
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

static _Atomic int stop_signal;
static _Atomic(struct engine *) wake_engine;
static _Atomic bool ending;   /* stop_signals_end() sent the SIGUSR1 */
static pthread_t waiter;
static bool waiting;

/* SIGUSR1 is ours: stop_signals_end() sends it to end the waiter. */
static void wait_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
}

/* Die of sig the way an unhandled signal kills: the run could not stop
 * cleanly (a second signal, or one before the scan started, when nothing
 * would look at the flag: blocked opening a FIFO, writing to a stalled
 * reader). */
static void die_of(int sig)
{
	sigset_t one;

	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
}

static void *wait_for_signal(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	wait_set(&set);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGUSR1) {
			if (atomic_load(&ending))
				return NULL;
			continue; /* someone else's SIGUSR1: not ours to act on */
		}
		struct engine *e = atomic_load(&wake_engine);
		if (atomic_load(&stop_signal) || !e)
			die_of(sig);
		atomic_store(&stop_signal, sig);
		e->ops->wake(e);
	}
}

int stop_signals_start(void)
{
	sigset_t set;
	int rc;

	wait_set(&set);
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc)
		return -rc;
	rc = pthread_create(&waiter, NULL, wait_for_signal, NULL);
	if (rc)
		return -rc;
	waiting = true;
	return 0;
}

void stop_signals_attach(struct engine *e)
{
	atomic_store(&wake_engine, e);
}

int stop_requested(void)
{
	return atomic_load(&stop_signal);
}

void stop_signals_end(void)
{
	atomic_store(&wake_engine, NULL);
	if (!waiting)
		return;
	atomic_store(&ending, true);
	pthread_kill(waiter, SIGUSR1);
	pthread_join(waiter, NULL);
	waiting = false;
}
