/*
 * stop.h - SIGINT and SIGTERM ask the run to stop.  Nothing runs in a signal
 * handler: the signals are blocked in every thread and one thread waits for
 * them with sigwait(), records which came and wakes the reader through the
 * engine, which then fails what is in flight, waits for its reads, and lets
 * the report be written whole with "partial": true.
 *
 * A second SIGINT/SIGTERM, or one that comes while no scan is running (no
 * engine attached: setup, such as opening a FIFO with no reader yet), kills
 * the process at once, as an unhandled signal would.  SIGUSR1 is used
 * internally and otherwise ignored.
 *
 * stop_signals_start() must be called before any other thread is created
 * (threads inherit the blocked mask; so do the Sleuth Kit workers, which
 * the terminal's ^C therefore does not kill behind our back).
 */
#ifndef IMGSCAN_STOP_H
#define IMGSCAN_STOP_H

struct engine;

/* Returns 0 or -errno. */
int stop_signals_start(void);
/* The engine to wake when a signal comes (NULL: none; once this returns,
 * the previous engine is no longer touched and may be destroyed). */
void stop_signals_attach(struct engine *e);
/* The signal that asked us to stop, or 0. */
int stop_requested(void);
/* Stop the waiting thread; the signals stay blocked (we are exiting). */
void stop_signals_end(void);

#endif
