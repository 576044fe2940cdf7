/*
 * adapt.c - hill climbing on the disk's own rate (see adapt.h).
 */
#include "adapt.h"

#include <string.h>

#define FIRST_WAIT 4      /* windows at the start values before any trial */
#define MAX_BACKOFF 64    /* windows between trials of a knob, at most */
#define GAIN_DOWN 1.05    /* a step down must be this much faster to stay */
#define LOSS_UP 0.98      /* a step up may be this much slower and stay */
#define TRIAL_WINDOWS 2   /* a trial is judged on its mean over this many windows */
#define RESET_WINDOWS 8   /* windows in a row not limited by the disk: back to the ceilings */

/* The search from the start: no trial, no yardstick, every knob's first
 * trial after FIRST_WAIT windows, downwards. */
static void fresh_search(struct adapt *ad)
{
	ad->trying = -1;
	ad->base = 0;
	for (int k = 0; k < ADAPT_KNOBS; k++) {
		ad->wait[k] = FIRST_WAIT + (unsigned)k; /* not both in one window */
		ad->backoff[k] = FIRST_WAIT;
		ad->down[k] = true;
	}
}

void adapt_init(struct adapt *ad, unsigned depth, bool depth_fixed, unsigned images, bool images_fixed)
{
	memset(ad, 0, sizeof(*ad));
	ad->value[ADAPT_DEPTH] = ad->max[ADAPT_DEPTH] = depth;
	ad->min[ADAPT_DEPTH] = depth < 4 ? depth : 4;
	ad->fixed[ADAPT_DEPTH] = depth_fixed;
	ad->value[ADAPT_IMAGES] = ad->max[ADAPT_IMAGES] = images;
	ad->min[ADAPT_IMAGES] = 1;
	ad->fixed[ADAPT_IMAGES] = images_fixed;
	fresh_search(ad);
}

static unsigned step(const struct adapt *ad, int k, bool down)
{
	unsigned v = ad->value[k];

	if (down)
		return v / 2 > ad->min[k] ? v / 2 : ad->min[k];
	return v * 2 < ad->max[k] ? v * 2 : ad->max[k];
}

/* The trial of knob k is over: keep its value or undo it. */
static void judge(struct adapt *ad, double rate)
{
	int k = ad->trying;
	bool went_down = ad->value[k] < ad->before;
	bool keep = went_down ? rate > ad->base * GAIN_DOWN : rate >= ad->base * LOSS_UP;

	ad->trying = -1;
	if (keep) {
		ad->changes++;
		ad->base = rate;
		ad->wait[k] = 1; /* it paid: the next step soon, the same way */
		ad->backoff[k] = FIRST_WAIT;
		return;
	}
	ad->value[k] = ad->before;
	ad->base = 0; /* measured again at the restored value */
	ad->wait[k] = ad->backoff[k];
	ad->backoff[k] = ad->backoff[k] * 2 < MAX_BACKOFF ? ad->backoff[k] * 2 : MAX_BACKOFF;
	ad->down[k] = !ad->down[k];
}

/* Start a trial of the knob whose turn it is, if its wait is over. */
static bool start_trial(struct adapt *ad)
{
	for (int n = 0; n < ADAPT_KNOBS; n++) {
		int k = (int)((ad->next + (unsigned)n) % ADAPT_KNOBS);
		unsigned v;

		if (ad->fixed[k] || ad->wait[k])
			continue;
		v = step(ad, k, ad->down[k]);
		if (v == ad->value[k]) { /* at a bound: the other way next time */
			ad->down[k] = !ad->down[k];
			v = step(ad, k, ad->down[k]);
			if (v == ad->value[k])
				continue;
		}
		ad->next = (unsigned)k + 1;
		ad->trying = k;
		ad->before = ad->value[k];
		ad->value[k] = v;
		ad->trial_sum = 0;
		ad->trial_windows = 0;
		ad->trials++;
		return true;
	}
	return false;
}

bool adapt_not_limited(struct adapt *ad)
{
	bool changed = false;

	if (++ad->unlimited < RESET_WINDOWS)
		return false;
	ad->unlimited = 0;
	for (int k = 0; k < ADAPT_KNOBS; k++)
		if (!ad->fixed[k] && ad->value[k] != ad->max[k]) {
			ad->value[k] = ad->max[k];
			changed = true;
		}
	fresh_search(ad);
	return changed;
}

bool adapt_window(struct adapt *ad, double rate)
{
	ad->unlimited = 0;
	if (ad->trying >= 0) {
		int k = ad->trying;
		unsigned trial = ad->value[k];

		ad->trial_sum += rate;
		if (++ad->trial_windows < TRIAL_WINDOWS)
			return false;
		judge(ad, ad->trial_sum / ad->trial_windows);
		return ad->value[k] != trial; /* undone */
	}
	for (int k = 0; k < ADAPT_KNOBS; k++)
		if (ad->wait[k])
			ad->wait[k]--;
	/* Two windows' worth: one window alone is too noisy a yardstick. */
	ad->base = ad->base ? (ad->base + rate) / 2 : rate;
	return start_trial(ad);
}

bool adapt_abandon(struct adapt *ad)
{
	int k = ad->trying;

	if (k < 0)
		return false;
	ad->trying = -1;
	ad->value[k] = ad->before;
	ad->base = 0;
	ad->wait[k] = ad->backoff[k];
	return true;
}

unsigned adapt_settled(const struct adapt *ad, enum adapt_knob k)
{
	return ad->trying == (int)k ? ad->before : ad->value[k];
}
