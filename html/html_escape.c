/*
 * html_escape.c - text and JSON from reports, made safe for the page (see
 * html_escape.h).  Five characters matter in HTML text and quoted
 * attributes (& < > " '); inside a script block only "</script" and
 * "<!--" could end or change it, which escaping every < > & as \u003c...
 * rules out, and U+2028/2029, which older JavaScript took for line ends.
 */
#include "html_escape.h"
#include "../report/pathenc.h"
#include "../report/tally.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void out_raw(struct outfile *o, const char *s)
{
	outfile_write(o, s, strlen(s));
}

void out_printf(struct outfile *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		outfile_write(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static const char *html_entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

/* s, valid UTF-8, as text. */
static void text_utf8(struct outfile *o, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *ent = html_entity(*s);
		if (!ent)
			continue;
		outfile_write(o, run, (size_t)(s - run));
		out_raw(o, ent);
		run = s + 1;
	}
	outfile_write(o, run, (size_t)(s - run));
}

void out_text(struct outfile *o, const char *s)
{
	char *readable;

	if (!s)
		return;
	if (utf8_valid(s, strlen(s)))
		return text_utf8(o, s);
	/* a name from the command line: readable, never bytes the page's
	 * charset would take apart */
	readable = utf8_lossy(s, strlen(s));
	text_utf8(o, readable ? readable : "?");
	free(readable);
}

void out_text_lossy(struct outfile *o, const cJSON *obj, const char *key)
{
	char k[64];

	out_text(o, json_str(obj, key));
	snprintf(k, sizeof(k), "%s_lossy", key);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, k)))
		return;
	snprintf(k, sizeof(k), "%s_b64", key);
	out_raw(o, " <span class=\"lossy\" title=\"These bytes are not UTF-8: shown with U+FFFD for each bad byte; "
		   "the exact bytes follow in base64\">not UTF-8</span> <code class=\"b64\">base64: ");
	out_text(o, json_str(obj, k));
	out_raw(o, "</code>");
}

/* The \u escape for the character at s (length *len), or NULL. */
static const char *script_escape(const unsigned char *s, size_t *len)
{
	*len = 1;
	if (s[0] == '<')
		return "\\u003c";
	if (s[0] == '>')
		return "\\u003e";
	if (s[0] == '&')
		return "\\u0026";
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
		*len = 3;
		return s[2] == 0xa8 ? "\\u2028" : "\\u2029";
	}
	return NULL;
}

int json_for_script(FILE *f, const cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	const unsigned char *s, *run;
	size_t len;

	if (!text)
		return -ENOMEM;
	for (s = run = (const unsigned char *)text; *s; s++) {
		const char *esc = script_escape(s, &len);
		if (!esc)
			continue;
		fwrite(run, 1, (size_t)(s - run), f);
		fputs(esc, f);
		s += len - 1;
		run = s + 1;
	}
	fwrite(run, 1, (size_t)(s - run), f);
	free(text);
	return 0;
}

void human_bytes(double bytes, char *buf, size_t len)
{
	static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
	unsigned u = 0;

	while (bytes >= 1000 && u + 1 < sizeof(units) / sizeof(units[0]))
		bytes /= 1000, u++;
	if (u == 0)
		snprintf(buf, len, "%.0f %s", bytes, units[0]);
	else
		snprintf(buf, len, "%.*f %s", bytes < 10 ? 2 : bytes < 100 ? 1 : 0, bytes, units[u]);
}
