/*
 * html_totals.c - the totals over every report of the page, and the four
 * charts: images by kind, bytes by kind, findings by code and severity,
 * image sizes.  Counted by page_data.c from the image objects themselves,
 * so several reports add up.
 */
#include "html_page.h"
#include "html_chart.h"
#include "html_escape.h"

#include <stdlib.h>
#include <string.h>

static void card(struct outfile *o, const char *name, const char *value, const char *cls)
{
	out_printf(o, "<div class=\"card %s\"><div class=\"num\">", cls ? cls : "");
	out_text(o, value);
	out_raw(o, "</div><div class=\"what\">");
	out_text(o, name);
	out_raw(o, "</div></div>\n");
}

static void card_n(struct outfile *o, const char *name, uint64_t n, const char *cls)
{
	char v[32];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)n);
	card(o, name, v, n ? cls : NULL);
}

static int by_count(const void *a, const void *b)
{
	const struct bar *x = a, *y = b;

	return (x->value < y->value) - (x->value > y->value);
}

static void kind_charts(struct outfile *o, const struct page_data *d)
{
	struct bar bars[PAGE_KINDS];
	size_t n = 0;

	for (int i = 0; i < PAGE_KINDS; i++)
		if (d->kinds[i].name[0])
			bars[n++] = (struct bar){d->kinds[i].name, (double)d->kinds[i].images, "kind", NULL};
	qsort(bars, n, sizeof(bars[0]), by_count);
	chart_bars(o, "Images by kind", bars, n, false);
	n = 0;
	for (int i = 0; i < PAGE_KINDS; i++)
		if (d->kinds[i].name[0])
			bars[n++] = (struct bar){d->kinds[i].name, d->kinds[i].bytes, "bytes", NULL};
	qsort(bars, n, sizeof(bars[0]), by_count);
	chart_bars(o, "Bytes by kind", bars, n, true);
}

static const char *const severity_class[SEVERITIES + 1] = {
	"sev-critical", "sev-high", "sev-medium", "sev-low", "sev-info", "sev-other",
};

/* Most severe first, then the most frequent. */
static int by_severity(const void *a, const void *b)
{
	const struct code_tally *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity - y->severity;
	return (x->n < y->n) - (x->n > y->n);
}

static void finding_chart(struct outfile *o, const struct page_data *d)
{
	struct code_tally codes[PAGE_CODES];
	struct bar bars[PAGE_CODES];
	size_t n = 0;

	for (int i = 0; i < PAGE_CODES; i++)
		if (d->codes[i].code[0])
			codes[n++] = d->codes[i];
	qsort(codes, n, sizeof(codes[0]), by_severity);
	for (size_t i = 0; i < n; i++) {
		bars[i] = (struct bar){codes[i].code, (double)codes[i].n, severity_class[codes[i].severity],
				       codes[i].severity < SEVERITIES ? severity_names[codes[i].severity] : "(unknown severity)"};
	}
	chart_bars(o, "Findings by code and severity", bars, n, false);
}

static void size_chart(struct outfile *o, const struct page_data *d)
{
	struct bar bars[PAGE_SIZE_BUCKETS];
	int first = PAGE_SIZE_BUCKETS, last = -1;
	size_t n = 0;

	for (int i = 0; i < PAGE_SIZE_BUCKETS; i++)
		if (d->size_buckets[i])
			first = i < first ? i : first, last = i;
	for (int i = first; i <= last; i++) /* the empty buckets between stay: it is a histogram */
		bars[n++] = (struct bar){size_bucket_names[i], (double)d->size_buckets[i], "size", NULL};
	chart_bars(o, "Image sizes", bars, n, false);
}

void page_totals(struct outfile *o, const struct page_data *d)
{
	char bytes[40];

	human_bytes((double)d->bytes, bytes, sizeof(bytes));
	out_raw(o, "<section id=\"totals\"><h2>Totals</h2>\n<div class=\"cards\">\n");
	card_n(o, "images", d->images, NULL);
	card(o, "in all", bytes, NULL);
	card_n(o, "findings", d->findings, NULL);
	for (int s = 0; s < SEVERITIES; s++)
		if (d->by_severity[s])
			card_n(o, severity_names[s], d->by_severity[s], severity_class[s]);
	card_n(o, "misnamed", d->misnamed, "sev-medium");
	card_n(o, "images with errors", d->images_with_errors, "sev-high");
	card_n(o, "walk errors", d->walk_errors, "sev-high");
	out_raw(o, "<div class=\"card\"><div class=\"num\" id=\"dup-count\">&#8211;</div>"
		   "<div class=\"what\">duplicate groups</div></div>\n");
	out_raw(o, "</div></section>\n<section id=\"charts\"><h2>Charts</h2>\n<div class=\"charts\">\n");
	kind_charts(o, d);
	finding_chart(o, d);
	size_chart(o, d);
	out_raw(o, "</div></section>\n");
}
