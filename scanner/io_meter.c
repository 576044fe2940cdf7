/*
 * io_meter.c - time-weighted pipeline counts (see io_meter.h).
 */
#include "io_meter.h"
#include "clock.h"

void io_meter_tick(struct io_meter *m, unsigned inflight, unsigned waiting, unsigned busy, bool starved, bool active)
{
	double now = monotonic_seconds();

	if (m->active) { /* the counts held since the last tick */
		double dt = now - m->last;
		m->inflight_s += dt * m->inflight;
		m->waiting_s += dt * m->waiting;
		m->busy_s += dt * m->busy;
		if (m->starved)
			m->starved_s += dt;
		m->active_s += dt;
	}
	m->last = now;
	m->active = active;
	m->inflight = inflight;
	m->waiting = waiting;
	m->busy = busy;
	m->starved = starved;
}

void io_meter_figures(const struct io_meter *m, struct io_figures *out)
{
	double t = m->active_s;

	out->seconds = t;
	out->reads_in_flight = t > 0 ? m->inflight_s / t : 0;
	out->blocks_waiting = t > 0 ? m->waiting_s / t : 0;
	out->threads_busy = t > 0 ? m->busy_s / t : 0;
	out->starved_seconds = m->starved_s;
}
