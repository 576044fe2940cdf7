/*
 * stop.c - the thread that waits for SIGINT/SIGTERM (see stop.h).
 */
#include "stop.h"
#include "engine.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

static _Atomic int stop_signal;
static struct engine *wake_engine;   /* (engine_lock) */
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;
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

/* `timeout` (without --foreground) and a shell's job control send one
 * signal to the process and again to its group: the same signal within a
 * second is that echo, not a second ^C asking to quit at once. */
#define ECHO_SECONDS 1.0

static void *wait_for_signal(void *arg)
{
	double first_at = 0;
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
		/* Under the lock: once attach(NULL) returns, no wake is in progress
		 * and the engine may be destroyed. */
		pthread_mutex_lock(&engine_lock);
		if (atomic_load(&stop_signal) == sig && monotonic_seconds() - first_at < ECHO_SECONDS) {
			pthread_mutex_unlock(&engine_lock);
			continue;
		}
		if (atomic_load(&stop_signal) || !wake_engine) {
			pthread_mutex_unlock(&engine_lock);
			die_of(sig);
			continue;
		}
		atomic_store(&stop_signal, sig);
		first_at = monotonic_seconds();
		wake_engine->ops->wake(wake_engine);
		pthread_mutex_unlock(&engine_lock);
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
	pthread_mutex_lock(&engine_lock);
	wake_engine = e;
	pthread_mutex_unlock(&engine_lock);
}

int stop_requested(void)
{
	return atomic_load(&stop_signal);
}

void stop_signals_end(void)
{
	stop_signals_attach(NULL);
	if (!waiting)
		return;
	atomic_store(&ending, true);
	pthread_kill(waiter, SIGUSR1);
	pthread_join(waiter, NULL);
	waiting = false;
}
