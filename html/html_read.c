/*
 * html_read.c - each report streamed into the page's data (see
 * html_read.h).  "-" reads stdin, once.
 */
#include "html_read.h"

#include <stdio.h>
#include <string.h>

static int on_image(void *ctx, const cJSON *img, size_t n, char *err, size_t errlen)
{
	(void)n;
	return page_data_image(ctx, img, err, errlen);
}

static int on_skipped(void *ctx, const cJSON *entry, size_t n, char *err, size_t errlen)
{
	(void)n;
	return page_data_skipped(ctx, entry, err, errlen);
}

int html_read_reports(struct page_data *d, char *err, size_t errlen)
{
	const struct report_visitor v = {.image = on_image, .skipped = on_skipped, .ctx = d};
	char msg[1000];
	bool stdin_used = false;

	for (size_t i = 0; i < d->nreports; i++) {
		struct page_report *r = &d->reports[i];
		if (!strcmp(r->file, "-")) {
			if (stdin_used)
				return snprintf(err, errlen, "-: stdin can be read only once"), -1;
			stdin_used = true;
		}
		d->current = i;
		msg[0] = 0;
		if (report_visit(r->file, &r->head, &v, msg, sizeof(msg)))
			return snprintf(err, errlen, "%s: %s", r->file, msg), -1;
	}
	return 0;
}
