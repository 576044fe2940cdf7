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

static void *wait_for_signal(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	wait_set(&set);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGUSR1)
			return NULL;
		if (!atomic_load(&stop_signal))
			atomic_store(&stop_signal, sig);
		struct engine *e = atomic_load(&wake_engine);
		if (e)
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
	pthread_kill(waiter, SIGUSR1);
	pthread_join(waiter, NULL);
	waiting = false;
}
