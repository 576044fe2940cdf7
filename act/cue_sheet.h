/*
 * cue_sheet.h - the one thing `imgscan convert` needs from a cue sheet: the
 * BIN file of its single data track and that track's mode.  Anything this
 * tool cannot turn into one ISO image faithfully (an audio track, more than
 * one track or file, a mode other than MODE1/2352 and MODE2/2352, a track
 * that does not start at the file's first byte) is refused with a message
 * naming the line, not guessed at.
 */
#ifndef IMGSCAN_CUE_SHEET_H
#define IMGSCAN_CUE_SHEET_H

#include "cd_sector.h"

#include <limits.h>

/* Cue sheets are a few lines; a bigger file is not one. */
#define CUE_MAX_BYTES (64u << 10)

struct cue_track {
	char file[PATH_MAX];  /* the FILE name as written (quotes removed), relative to the sheet */
	enum cd_mode mode;
	unsigned track_no;    /* as the TRACK line numbers it */
};

/* Parse the sheet's text (len bytes, not NUL-terminated).  Returns 0 with
 * *t filled, or -1 with why (a sentence naming the line) in why. */
int cue_parse(const char *text, size_t len, struct cue_track *t, char *why, size_t why_len);

#endif
