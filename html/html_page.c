/*
 * html_page.c - the page's skeleton (see html_page.h): head with its
 * policy and style, the top written as HTML, the places the script fills,
 * the data block (the spooled rows copied in), the script.
 */
#include "html_page.h"
#include "html_escape.h"
#include "../config/version.h"
#include "../report/pathenc.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char imgscan_html_css[];
extern const char imgscan_html_js[];

/* No fetch of any kind: a page that opens the same from a USB stick in
 * ten years.  And a second wall should a string ever escape as markup: the
 * only script allowed to run is the page's own, named by its SHA-256 (an
 * injected <script> or onerror= would be refused, where 'unsafe-inline'
 * would let it run). */
static const char page_policy[] =
	"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-%s'; img-src data:; "
	"base-uri 'none'; form-action 'none'";

/* The text of the page's script element: what its hash is over. */
static char *script_text(void)
{
	size_t n = strlen(imgscan_html_js);
	char *text = malloc(n + 2);

	if (text)
		text[0] = '\n', memcpy(text + 1, imgscan_html_js, n + 1);
	return text;
}

/* base64 of the SHA-256 of text, for the policy; NULL when it fails. */
static char *script_hash(const char *text)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!text || !EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL))
		return NULL;
	return base64_encode(md, len);
}

static int write_head(struct outfile *o, const struct page_data *d, const char *script)
{
	char *hash = script_hash(script);

	if (!hash)
		return -ENOMEM;
	out_raw(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
	out_raw(o, "<meta http-equiv=\"Content-Security-Policy\" content=\"");
	out_printf(o, page_policy, hash);
	out_raw(o, "\">\n");
	free(hash);
	out_raw(o, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	out_raw(o, "<meta name=\"generator\" content=\"imgscan html " IMGSCAN_VERSION "\">\n");
	out_printf(o, "<title>Disk images: %llu images, %llu findings</title>\n<style>\n",
		   (unsigned long long)d->images, (unsigned long long)d->findings);
	out_raw(o, imgscan_html_css);
	out_raw(o, "</style>\n</head>\n<body>\n");
	return 0;
}

static void write_title(struct outfile *o, const struct page_data *d)
{
	char made[40];
	time_t now = time(NULL);
	struct tm tm;

	strftime(made, sizeof(made), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
	out_raw(o, "<header class=\"top\"><h1>Disk image report</h1>\n<p class=\"sub\">");
	out_printf(o, "%llu images from %zu report%s &middot; page made by imgscan html " IMGSCAN_VERSION " on %s</p>\n",
		   (unsigned long long)d->images, d->nreports, d->nreports == 1 ? "" : "s", made);
	out_raw(o, "<nav><a href=\"#scanned\">What was scanned</a> <a href=\"#totals\">Totals</a> "
		   "<a href=\"#charts\">Charts</a> <a href=\"#findings\">Findings</a> <a href=\"#duplicates\">Duplicates</a> "
		   "<a href=\"#errors\">Errors</a> <a href=\"#images\">All images</a></nav></header>\n<main>\n");
}

/* The sections the script draws. */
static void write_tables(struct outfile *o)
{
	static const char noscript[] =
		"<noscript><p class=\"note\">This table is drawn by the page's own script (nothing is fetched): "
		"allow JavaScript for this file to see it.</p></noscript>";

	out_raw(o, "<section id=\"findings\"><h2>Findings <span class=\"count\" id=\"findings-count\"></span></h2>\n"
		   "<p class=\"note\">Most severe first. Each finding is about one image: what it is, what is wrong with "
		   "it and, for a misnamed image, the name it should have.</p>\n");
	out_raw(o, noscript);
	out_raw(o, "<div id=\"findings-table\"></div></section>\n");
	out_raw(o, "<section id=\"duplicates\"><h2>Duplicates <span class=\"count\" id=\"duplicates-count\"></span></h2>\n"
		   "<p class=\"note\">Images with the same content (equal XXH128 and size), stored under two or more "
		   "names; empty files and images that could not be read whole are not grouped.</p>\n");
	out_raw(o, noscript);
	out_raw(o, "<div id=\"duplicates-table\"></div></section>\n");
	out_raw(o, "<section id=\"errors\"><h2>Errors <span class=\"count\" id=\"errors-count\"></span></h2>\n"
		   "<p class=\"note\">Images that could not be read or examined completely, and entries the walk could "
		   "not examine.</p>\n");
	out_raw(o, noscript);
	out_raw(o, "<div id=\"errors-table\"></div></section>\n");
	out_raw(o, "<section id=\"images\"><h2>All images <span class=\"count\" id=\"images-count\"></span></h2>\n"
		   "<p class=\"note\">Click a column's title to sort by it, a row's &#9656; to see everything the "
		   "report says of that image.</p>\n");
	out_raw(o, noscript);
	out_raw(o, "<div id=\"images-filters\" class=\"filters\"></div><div id=\"images-table\"></div></section>\n");
	out_raw(o, "<pre id=\"selftest\" hidden></pre>\n</main>\n");
}

/* Copy a spooled file into the page.  0 or -errno. */
static int copy_spool(struct outfile *o, FILE *f)
{
	char buf[1 << 16];
	size_t n;

	if (fflush(f) || fseek(f, 0, SEEK_SET))
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		outfile_write(o, buf, n);
	return ferror(f) ? -EIO : 0;
}

/* The report files' names, for the image rows' "r". */
static int write_report_names(struct outfile *o, const struct page_data *d)
{
	cJSON *names = cJSON_CreateArray();
	char *text = NULL;
	FILE *mem;
	size_t len = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; names && i < d->nreports; i++) {
		char *readable = utf8_lossy(d->reports[i].file, strlen(d->reports[i].file));
		cJSON_AddItemToArray(names, cJSON_CreateString(readable ? readable : "?"));
		free(readable);
	}
	if (names && (mem = open_memstream(&text, &len))) {
		rc = json_for_script(mem, names);
		fclose(mem);
		outfile_write(o, text, len);
	}
	free(text);
	cJSON_Delete(names);
	return rc;
}

static int write_data(struct outfile *o, const struct page_data *d)
{
	int rc;

	out_raw(o, "<script type=\"application/json\" id=\"imgscan-data\">{\"reports\":");
	if ((rc = write_report_names(o, d)))
		return rc;
	out_raw(o, ",\n\"images\":[");
	if ((rc = copy_spool(o, d->rows)))
		return rc;
	out_raw(o, "],\n\"walk_errors\":[");
	if ((rc = copy_spool(o, d->walk_rows)))
		return rc;
	out_raw(o, "]}</script>\n");
	return 0;
}

/* Everything after the head; script is the script element's text. */
static int page_body(struct outfile *o, const struct page_data *d, const char *script)
{
	int rc;

	write_title(o, d);
	page_scanned(o, d);
	page_totals(o, d);
	write_tables(o);
	out_raw(o, "<footer>Made by imgscan html " IMGSCAN_VERSION " from ");
	for (size_t i = 0; i < d->nreports; i++)
		out_raw(o, i ? ", <code>" : "<code>"), out_text(o, d->reports[i].file), out_raw(o, "</code>");
	out_raw(o, ". One file: its style, script and data are inside it, and it fetches nothing.</footer>\n");
	if ((rc = write_data(o, d)))
		return rc;
	out_raw(o, "<script>");
	out_raw(o, script);
	out_raw(o, "</script>\n</body>\n</html>\n");
	return 0;
}

int page_write(struct outfile *o, const struct page_data *d)
{
	char *script = script_text();
	int rc = write_head(o, d, script);

	if (!rc)
		rc = page_body(o, d, script);
	free(script);
	return rc;
}
