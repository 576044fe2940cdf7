/*
 * cue_sheet.c - a cue sheet's FILE, TRACK and INDEX lines, read for one
 * data track.  Keywords are case-insensitive; names may be quoted (with
 * spaces) or bare; CR LF line ends are taken; lines this tool has no use
 * for (REM, TITLE, PERFORMER, FLAGS, PREGAP, POSTGAP...) are skipped.
 */
#include "cue_sheet.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CUE_MAX_LINE 1024
#define CUE_MAX_WORDS 4

struct cue_state {
	struct cue_track *t;
	unsigned line;
	int files, tracks;
	bool index1_seen;
	char *why;
	size_t why_len;
};

/* Split line into at most CUE_MAX_WORDS words (a "quoted" word keeps its
 * spaces).  Returns the number of words, or -1 for an unclosed quote. */
static int split_words(char *line, char *words[CUE_MAX_WORDS])
{
	int n = 0;
	char *p = line;

	while (n < CUE_MAX_WORDS) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			words[n++] = ++p;
			p = strchr(p, '"');
			if (!p)
				return -1;
		} else {
			words[n++] = p;
			p += strcspn(p, " \t");
			if (!*p)
				break;
		}
		*p++ = '\0';
	}
	return n;
}

static int refuse(struct cue_state *st, const char *what)
{
	snprintf(st->why, st->why_len, "line %u: %s", st->line, what);
	return -1;
}

static int on_file(struct cue_state *st, char **w, int n)
{
	if (n < 3)
		return refuse(st, "FILE needs a name and a type");
	if (++st->files > 1)
		return refuse(st, "a second FILE: sheets of several files (one per track) hold more than one track");
	if (strcasecmp(w[2], "BINARY")) {
		char msg[128];
		snprintf(msg, sizeof(msg), "FILE of type %.20s: only BINARY files hold raw data sectors "
			 "(MOTOROLA is byte-swapped, WAVE/MP3/AIFF are audio)", w[2]);
		return refuse(st, msg);
	}
	if (!w[1][0] || strlen(w[1]) >= sizeof(st->t->file))
		return refuse(st, "FILE names no file, or one too long");
	snprintf(st->t->file, sizeof(st->t->file), "%s", w[1]);
	return 0;
}

static int on_track(struct cue_state *st, char **w, int n)
{
	char msg[200];
	unsigned no;

	if (n < 3 || sscanf(w[1], "%u", &no) != 1)
		return refuse(st, "TRACK needs a number and a type");
	if (!st->files)
		return refuse(st, "TRACK before any FILE");
	if (!strcasecmp(w[2], "AUDIO"))
		snprintf(msg, sizeof(msg), "TRACK %02u AUDIO is an audio track: it holds no ISO 9660 data", no);
	else if (++st->tracks > 1)
		snprintf(msg, sizeof(msg), "TRACK %02u %.20s: a second track (a mixed-mode or multi-session disc); "
			 "only a single data track converts to one ISO image", no, w[2]);
	else if (!strcasecmp(w[2], "MODE1/2352") || !strcasecmp(w[2], "MODE2/2352")) {
		st->t->mode = !strcasecmp(w[2], "MODE1/2352") ? CD_MODE1 : CD_MODE2_FORM1;
		st->t->track_no = no;
		return 0;
	} else if (!strcasecmp(w[2], "MODE1/2048"))
		snprintf(msg, sizeof(msg), "TRACK %02u MODE1/2048: the file has 2048-byte sectors already: "
			 "it is an ISO image, nothing to convert", no);
	else
		snprintf(msg, sizeof(msg), "TRACK %02u %.20s: not a mode this tool extracts "
			 "(MODE1/2352 and MODE2/2352 Form 1 only)", no, w[2]);
	return refuse(st, msg);
}

static int on_index(struct cue_state *st, char **w, int n)
{
	unsigned no, m, s, f;

	if (n < 3 || sscanf(w[1], "%u", &no) != 1 || sscanf(w[2], "%u:%u:%u", &m, &s, &f) != 3)
		return refuse(st, "INDEX needs a number and MM:SS:FF");
	if (!st->tracks)
		return refuse(st, "INDEX before any TRACK");
	if (no == 1) {
		st->index1_seen = true;
		if (m || s || f)
			return refuse(st, "the track's INDEX 01 is not 00:00:00: its data does not start at the "
				      "file's first sector (a pregap in the file is not extracted)");
	}
	return 0;
}

static int on_line(struct cue_state *st, char *line)
{
	char *w[CUE_MAX_WORDS];
	int n = split_words(line, w);

	if (n < 0)
		return refuse(st, "a quote is not closed");
	if (n == 0)
		return 0;
	if (!strcasecmp(w[0], "FILE"))
		return on_file(st, w, n);
	if (!strcasecmp(w[0], "TRACK"))
		return on_track(st, w, n);
	if (!strcasecmp(w[0], "INDEX"))
		return on_index(st, w, n);
	return 0;
}

int cue_parse(const char *text, size_t len, struct cue_track *t, char *why, size_t why_len)
{
	struct cue_state st = {.t = t, .why = why, .why_len = why_len};
	char line[CUE_MAX_LINE];
	size_t at = 0;

	memset(t, 0, sizeof(*t));
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		at = 3; /* a UTF-8 byte-order mark */
	while (at < len) {
		const char *end = memchr(text + at, '\n', len - at);
		size_t n = (end ? (size_t)(end - text) : len) - at;
		st.line++;
		if (n >= sizeof(line) || memchr(text + at, '\0', n))
			return refuse(&st, "not a cue sheet line (too long, or a NUL byte)");
		memcpy(line, text + at, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (on_line(&st, line))
			return -1;
		at += n + 1;
	}
	if (!st.files || !st.tracks) {
		snprintf(why, why_len, "no %s line: not a cue sheet of a data track", st.files ? "TRACK" : "FILE");
		return -1;
	}
	if (!st.index1_seen) {
		snprintf(why, why_len, "TRACK %02u has no INDEX 01", t->track_no);
		return -1;
	}
	return 0;
}
