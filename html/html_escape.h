/*
 * html_escape.h - every string that reaches the page from a report (paths,
 * labels, messages: bytes from disks) goes out through here, as data: text
 * HTML-escaped for an element or an attribute, JSON made safe to sit in a
 * <script type="application/json"> block.  Nothing from a report is ever
 * written raw.
 */
#ifndef IMGSCAN_HTML_ESCAPE_H
#define IMGSCAN_HTML_ESCAPE_H

#include "../report/outfile.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* Markup of our own (no data in it): written as it is. */
void out_raw(struct outfile *o, const char *s);
/* printf to the page; the arguments must be our own text or numbers,
 * never report strings (those go through out_text). */
void out_printf(struct outfile *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as text: & < > " ' escaped, so it is safe in an element and in a
 * quoted attribute.  NULL writes nothing. */
void out_text(struct outfile *o, const char *s);
/* The string member key of obj as text, the way a path or a label is
 * shown: the readable form, and when the report marks it lossy (key_lossy,
 * key_b64) a visible "not UTF-8" marker with the exact bytes in base64. */
void out_text_lossy(struct outfile *o, const cJSON *obj, const char *key);
/* cJSON's compact text of item, with <, >, & and U+2028/2029 written as
 * \u escapes: the text can end no script element and open no markup,
 * and JSON.parse gives back the same value.  Returns 0, or -ENOMEM. */
int json_for_script(FILE *f, const cJSON *item);
/* bytes as "1.4 GB" (decimal units, as the rest of imgscan says them). */
void human_bytes(double bytes, char *buf, size_t len);

#endif
