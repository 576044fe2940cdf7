/*
 * pathenc.h - Linux paths are bytes.  JSON strings are Unicode.  A path that
 * is valid UTF-8 goes into JSON as it is (cJSON escapes control characters
 * such as a newline, losslessly); one that is not gets a readable form with
 * U+FFFD for each bad byte plus the exact bytes in base64; readers of a
 * report get the bytes back with base64_decode.
 */
#ifndef IMGSCAN_PATHENC_H
#define IMGSCAN_PATHENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

bool utf8_valid(const char *s, size_t n);
/* Malloc'd copy with every invalid byte replaced by U+FFFD; NULL on ENOMEM. */
char *utf8_lossy(const char *s, size_t n);
/* s as it may be shown on a terminal, one line staying one line: control
 * characters (C0, DEL, and C1 encoded in UTF-8), bytes that are not UTF-8,
 * and backslashes as \xNN, \n and \\; the rest (printable UTF-8) as it
 * is.  Malloc'd; NULL on ENOMEM.  Names, labels and paths from disk are
 * data: never written raw to stderr. */
char *term_escaped(const char *s);
/* Writes s to f as term_escaped() shows it ("(out of memory)" when it
 * cannot): for messages that may quote a name from disk or a string read
 * from a report. */
void term_fputs(const char *s, FILE *f);
/* One line on stderr: before and after as they are, text escaped, as in
 * term_say("imgscan merge: ", err, "; nothing was written\n"). */
void term_say(const char *before, const char *text, const char *after);
/* Malloc'd standard base64 (RFC 4648, with padding); NULL on ENOMEM. */
char *base64_encode(const unsigned char *p, size_t n);
/* Decode len characters of standard base64, strictly as base64_encode
 * writes it (padding required, no whitespace, unused bits zero), into a
 * malloc'd buffer with a NUL after the *n bytes.  Returns NULL with errno
 * EINVAL when the text is not such base64, ENOMEM when memory ran out. */
unsigned char *base64_decode(const char *text, size_t len, size_t *n);

#endif
