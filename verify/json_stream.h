/*
 * json_stream.h - reads a JSON text from a FILE one value at a time, so a
 * report of any size is read without holding it whole: the caller walks the
 * top-level object key by key and takes each array element (or each JSON
 * line) as one value, which it parses with cJSON.  Values it does not need
 * are skipped without being kept.
 *
 * The input is not trusted: every value kept is capped (JS_MAX_VALUE), the
 * bracket depth is counted, not recursed on (cJSON parses what is kept,
 * with its own nesting limit), and every failure is an error message with
 * the line it happened on, never a crash.
 */
#ifndef IMGSCAN_JSON_STREAM_H
#define IMGSCAN_JSON_STREAM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#define JS_MAX_VALUE (64u << 20) /* bytes of one kept value: an image object is a few KiB */

struct jstream {
	FILE *f;
	unsigned long line;      /* 1-based line of the next byte */
	int peeked;              /* the next byte when already read, JS_NONE when not */
	char *buf;               /* the value kept last, NUL-terminated */
	size_t len, cap;
	char *err;               /* the caller's buffer for the message of the first failure */
	size_t errlen;
};

#define JS_NONE (-2)

void js_init(struct jstream *s, FILE *f, char *err, size_t errlen);
void js_free(struct jstream *s);
/* The next byte, not consumed; EOF at the end (or on a read error: see
 * js_read_error). */
int js_peek(struct jstream *s);
/* Consume one byte and return it (EOF at the end). */
int js_next(struct jstream *s);
/* Skip white space; return the next byte, not consumed, or EOF. */
int js_skip_ws(struct jstream *s);
/* Skip white space and consume c.  Returns 0, or -1 with the error set
 * ("line N: expected ',' or '}' after a member of the report object"). */
int js_expect(struct jstream *s, int c, const char *what);
/* Consume one value (after white space): an object, array, string or
 * scalar.  keep: it is left in buf/len.  Returns 0, or -1 with the error
 * set (the input ends inside it, it is larger than JS_MAX_VALUE, or it is
 * no value at all). */
int js_value(struct jstream *s, bool keep);
/* Parse the kept value.  Returns it (the caller frees it), or NULL with
 * the error set (what: "image object"). */
cJSON *js_parse(struct jstream *s, const char *what);
/* Set the error ("line N: " and the message, unless one is set already).
 * Returns -1. */
int js_fail(struct jstream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The errno of a failed read of the input, or 0. */
int js_read_error(const struct jstream *s);

#endif
