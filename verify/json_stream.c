/*
 * json_stream.c - one JSON value at a time from a FILE (see json_stream.h).
 * Only the boundaries of values are found here (strings, with their
 * escapes, and bracket depth); what a kept value means is cJSON's to parse.
 */
#include "json_stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void js_init(struct jstream *s, FILE *f, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->line = 1;
	s->peeked = JS_NONE;
	s->err = err;
	s->errlen = errlen;
	if (errlen)
		err[0] = '\0';
}

void js_free(struct jstream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

int js_fail(struct jstream *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!s->errlen || s->err[0])
		return -1;
	n = snprintf(s->err, s->errlen, "line %lu: ", s->line);
	if (n < 0 || (size_t)n >= s->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int js_read_error(const struct jstream *s)
{
	return ferror(s->f) ? (errno ? errno : EIO) : 0;
}

int js_peek(struct jstream *s)
{
	if (s->peeked == JS_NONE)
		s->peeked = getc_unlocked(s->f);
	return s->peeked;
}

int js_next(struct jstream *s)
{
	int c = js_peek(s);

	if (c != EOF)
		s->peeked = JS_NONE;
	if (c == '\n')
		s->line++;
	return c;
}

int js_skip_ws(struct jstream *s)
{
	int c;

	while ((c = js_peek(s)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		js_next(s);
	return c;
}

int js_expect(struct jstream *s, int c, const char *what)
{
	int got = js_skip_ws(s);

	if (got == c) {
		js_next(s);
		return 0;
	}
	if (got == EOF)
		return js_fail(s, "the report ends where %s should be (cut short?)", what);
	return js_fail(s, "expected %s, found '%c'", what, got >= 0x20 && got < 0x7f ? got : '?');
}

/* Append c to the kept value.  Returns 0, or -1 past JS_MAX_VALUE or on
 * ENOMEM. */
static int put(struct jstream *s, int c)
{
	if (s->len + 1 >= s->cap) {
		size_t want = s->cap ? 2 * s->cap : 4096;
		char *grown;

		if (s->len + 1 >= JS_MAX_VALUE)
			return js_fail(s, "a value larger than %u MiB: not an imgscan report", JS_MAX_VALUE >> 20);
		if (want > JS_MAX_VALUE)
			want = JS_MAX_VALUE;
		if (!(grown = realloc(s->buf, want)))
			return js_fail(s, "out of memory");
		s->buf = grown;
		s->cap = want;
	}
	s->buf[s->len++] = (char)c;
	s->buf[s->len] = '\0';
	return 0;
}

static bool is_delimiter(int c)
{
	return c == EOF || c == ',' || c == '}' || c == ']' || c == ':' || c == ' ' || c == '\t' || c == '\r' ||
	       c == '\n';
}

/* A number, true, false or null: everything up to the next delimiter. */
static int scalar(struct jstream *s, bool keep)
{
	int c;

	while (!is_delimiter(c = js_peek(s))) {
		js_next(s);
		if (keep && put(s, c))
			return -1;
	}
	return 0;
}

/* A string, object or array, from its first byte (not yet consumed) to its
 * last; depth is counted, and brackets inside strings do not count. */
static int compound(struct jstream *s, bool keep)
{
	unsigned long start = s->line;
	bool in_string = false, escaped = false;
	unsigned uhex = 0, uval = 0; /* inside \uXXXX: digits to come, value so far */
	size_t depth = 0;
	int c;

	for (;;) {
		if ((c = js_next(s)) == EOF)
			return js_fail(s, "the report ends inside a value that starts on line %lu (cut short?)", start);
		if (keep && put(s, c))
			return -1;
		if (in_string) {
			/* cJSON would stop a string at a NUL, cutting a path short. */
			if (c < 0x20)
				return js_fail(s, "a control character inside a string (not JSON)");
			if (uhex) {
				uval = uval << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
				if (--uhex == 0 && uval == 0)
					return js_fail(s, "\\u0000 inside a string: no path or name holds a NUL");
				continue;
			}
			if (escaped) {
				escaped = false;
				if (c == 'u')
					uhex = 4, uval = 0;
			} else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			else
				continue;
			if (!in_string && depth == 0)
				return 0; /* a string value ends */
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return js_fail(s, "'%c' closes nothing", c);
			if (--depth == 0)
				return 0;
		}
	}
}

int js_value(struct jstream *s, bool keep)
{
	int c = js_skip_ws(s);

	s->len = 0;
	if (s->buf)
		s->buf[0] = '\0';
	if (c == EOF) {
		int err = js_read_error(s);
		if (err)
			return js_fail(s, "cannot read the report: %s", strerror(err));
		return js_fail(s, "the report ends where a value should be (cut short?)");
	}
	if (c == '}' || c == ']' || c == ',' || c == ':')
		return js_fail(s, "'%c' where a value should be", c);
	if (c == '{' || c == '[' || c == '"')
		return compound(s, keep);
	return scalar(s, keep);
}

cJSON *js_parse(struct jstream *s, const char *what)
{
	const char *end = NULL;
	cJSON *v;

	if (!s->len) {
		js_fail(s, "an empty %s", what);
		return NULL;
	}
	v = cJSON_ParseWithLengthOpts(s->buf, s->len, &end, false);
	if (!v || end != s->buf + s->len) {
		cJSON_Delete(v);
		js_fail(s, "the %s that ends here is not valid JSON", what);
		return NULL;
	}
	return v;
}
