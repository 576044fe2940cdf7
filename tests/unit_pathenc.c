/*
 * unit_pathenc.c - UTF-8 validation, lossy repair and base64 on known cases.
 */
#include "report/pathenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void b64(const char *in, size_t n, const char *want)
{
	char *got = base64_encode((const unsigned char *)in, n);
	CHECK(got && !strcmp(got, want));
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
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
