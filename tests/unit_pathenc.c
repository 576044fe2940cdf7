/*
 * unit_pathenc.c - UTF-8 validation, lossy repair, base64 (both ways) and
 * what a name becomes on a terminal, on known cases.
 */
#include "report/pathenc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void term(const char *in, const char *want)
{
	char *got = term_escaped(in);
	CHECK(got && !strcmp(got, want));
	if (got && strcmp(got, want))
		fprintf(stderr, "  term_escaped: got \"%s\"\n", got);
	free(got);
}

static void b64(const char *in, size_t n, const char *want)
{
	char *got = base64_encode((const unsigned char *)in, n);
	CHECK(got && !strcmp(got, want));
	free(got);
}

/* Decodes to want (n bytes), or, want NULL, is refused with EINVAL. */
static void unb64(const char *in, const char *want, size_t n)
{
	size_t got_n = 99;
	unsigned char *got = base64_decode(in, strlen(in), &got_n);

	if (!want) {
		CHECK(!got && errno == EINVAL);
	} else {
		CHECK(got && got_n == n && !memcmp(got, want, n) && got[n] == 0);
	}
	free(got);
}

int main(void)
{
	char *s;

	CHECK(utf8_valid("plain/path.img", 14));
	CHECK(utf8_valid("caf\xc3\xa9\n.img", 10));
	CHECK(!utf8_valid("\xff", 1));
	CHECK(!utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
	CHECK(!utf8_valid("\xe2\x82", 2));         /* cut short */
	s = utf8_lossy("a\xffz", 3);
	CHECK(s && !strcmp(s, "a\xef\xbf\xbdz"));
	free(s);
	b64("", 0, "");
	b64("f", 1, "Zg==");
	b64("fo", 2, "Zm8=");
	b64("foo", 3, "Zm9v");
	b64("\xff\xfe\n", 3, "//4K");
	unb64("", "", 0);
	unb64("Zg==", "f", 1);
	unb64("Zm8=", "fo", 2);
	unb64("Zm9v", "foo", 3);
	unb64("//4K", "\xff\xfe\n", 3);
	unb64("YS//Lw==", "a/\xff/", 4);
	unb64("Zg=", NULL, 0);      /* not a multiple of 4 */
	unb64("Zh==", NULL, 0);     /* unused bits set */
	unb64("Zm9=", NULL, 0);
	unb64("Z===", NULL, 0);
	unb64("Zg==Zg==", NULL, 0); /* padding inside */
	unb64("Zm 9", NULL, 0);     /* whitespace */
	unb64("Zm-_", NULL, 0);     /* the URL alphabet */
	term("plain/disc.iso", "plain/disc.iso");
	term("caf\xc3\xa9 \xe2\x82\xac.img", "caf\xc3\xa9 \xe2\x82\xac.img"); /* printable UTF-8 stays */
	term("\x1b[2Jclear", "\\x1b[2Jclear");                      /* ESC */
	term("a\rb\nc\td", "a\\x0db\\nc\\x09d");
	term("back\\slash", "back\\\\slash");
	term("del\x7f", "del\\x7f");
	term("c1\xc2\x9b" "2J", "c1\\xc2\\x9b2J");                  /* U+009B CSI in UTF-8 */
	term("nbsp\xc2\xa0", "nbsp\xc2\xa0");                        /* U+00A0 is printable */
	term("raw\x9b" "2J\xff", "raw\\x9b2J\\xff");                /* not UTF-8 */
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
