/*
 * fuzz_probes.c - fuzz harness for the probes and identify_image().
 * Built with clang -fsanitize=fuzzer,address it is a libFuzzer target:
 *   clang -g -O1 -fsanitize=fuzzer,address -DIMGSCAN_LIBFUZZER -I. \
 *     tests/fuzz_probes.c formats/probe*.c formats/identify.c -o fuzz_probes
 * Built normally it replays the files named on its command line (a crash
 * reproducer, or a corpus), and is run so by the test suite.
 */
#include "formats/identify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blob { const uint8_t *data; size_t size; };

static long blob_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct blob *b = ctx;

	if (off >= b->size)
		return 0;
	if (len > b->size - off)
		len = (size_t)(b->size - off);
	memcpy(buf, b->data + off, len);
	return (long)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[1 << 20];
	static struct ident id;
	struct blob b = {data, size};
	size_t tail = size < 65536 ? size : 65536;
	struct probe_view v = {data, size < (1u << 20) ? size : (1u << 20), data + size - tail, tail, size - tail, size};

	memset(&id, 0, sizeof(id));
	identify_image(&v, blob_read, &b, scratch, sizeof(scratch), &id);
	return 0;
}

#ifndef IMGSCAN_LIBFUZZER
int main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long len;

		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
			LLVMFuzzerTestOneInput(buf, (size_t)len);
			n++;
		}
		free(buf);
		fclose(f);
	}
	printf("replayed %d inputs\n", n);
	return 0;
}
#endif
