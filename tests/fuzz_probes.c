/*
 * fuzz_probes.c - fuzz harness for the probes and identify_image().
 * Built with clang -fsanitize=fuzzer it is a libFuzzer target (tests/fuzz_ci.sh
 * builds it with ASan and UBSan, every finding fatal, and runs it on seeds
 * made from real images):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -DIMGSCAN_LIBFUZZER -I. tests/fuzz_probes.c formats/probe*.c formats/identify.c -o fuzz_probes
 * Built normally it replays the files named on its command line (a crash
 * reproducer, tests/fuzz-regressions/, or a corpus), and is run so by the
 * test suite.
 *
 * An input is one of two things:
 *  - a raw image: the view is its first MiB and its last 64 KiB, as the
 *    scanner captures them, and partition heads are read from the input;
 *  - a packed view of a larger image, recognised by its 24-byte trailer:
 *        head bytes | tail bytes | "IMGSCANV" | le64 image size | le64 tail length
 *    The head is the image from byte 0 (at most 1 MiB), the tail ends at the
 *    image's last byte (at most 64 KiB), and every byte between reads as
 *    zero.  So a seed made from a real 300 MiB XFS image is a few KiB that
 *    the fuzzer mutates quickly, and the image size is a field it mutates too.
 */
#include "formats/identify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_MAX (1u << 20)  /* what the scanner captures of an image's start */
#define TAIL_MAX (64u << 10) /* ...and of its end */
#define TRAILER "IMGSCANV"
#define TRAILER_LEN 24

/* The image as the probes and the read callback see it. */
struct blob {
	const uint8_t *head;    /* image bytes [0, head_len) */
	size_t head_len;
	const uint8_t *tail;    /* image bytes [size - tail_len, size) */
	size_t tail_len;
	uint64_t size;          /* bytes between head and tail read as zero */
};

static size_t min_size(uint64_t a, size_t b) { return a < b ? (size_t)a : b; }

/* The read callback: bytes of the head, then zeros, then the tail.  Returns
 * bytes read, 0 at or past the end. */
static long blob_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct blob *b = ctx;
	uint64_t tail_off = b->size - b->tail_len;
	uint8_t *out = buf;
	size_t done = 0;

	if (off >= b->size)
		return 0;
	len = min_size(b->size - off, len);
	while (done < len) {
		uint64_t at = off + done;
		size_t n = len - done;
		if (at < b->head_len) {
			n = min_size(b->head_len - at, n);
			memcpy(out + done, b->head + at, n);
		} else if (at >= tail_off) {
			memcpy(out + done, b->tail + (at - tail_off), n);
		} else {
			n = min_size(tail_off - at, n);
			memset(out + done, 0, n);
		}
		done += n;
	}
	return (long)len;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A packed view (see the top of the file) into b, its head and tail padded
 * with zeros to what the scanner would hold.  False when data is a raw image. */
static bool unpack(const uint8_t *data, size_t size, struct blob *b)
{
	static uint8_t head[HEAD_MAX], tail[TAIL_MAX];
	static size_t head_dirty = HEAD_MAX; /* bytes of head the last input may have set */
	size_t payload, tail_part, head_part;

	if (size < TRAILER_LEN || memcmp(data + size - TRAILER_LEN, TRAILER, 8))
		return false;
	payload = size - TRAILER_LEN;
	b->size = get_le64(data + size - 16);
	tail_part = min_size(get_le64(data + size - 8), payload < TAIL_MAX ? payload : TAIL_MAX);
	head_part = payload - tail_part < HEAD_MAX ? payload - tail_part : HEAD_MAX;
	b->head_len = min_size(b->size, HEAD_MAX);
	b->tail_len = min_size(b->size, TAIL_MAX);
	head_part = head_part < b->head_len ? head_part : b->head_len;
	tail_part = tail_part < b->tail_len ? tail_part : b->tail_len;
	memcpy(head, data, head_part);
	if (head_dirty > head_part) /* zero only what the last input wrote: small inputs stay fast */
		memset(head + head_part, 0, head_dirty - head_part);
	head_dirty = head_part;
	memset(tail, 0, TAIL_MAX - tail_part);
	memcpy(tail + (TAIL_MAX - tail_part), data + payload - tail_part, tail_part);
	b->head = head;
	b->tail = tail + (TAIL_MAX - b->tail_len);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[1 << 20];
	static struct ident id;
	struct blob b = {data, size, data + size - min_size(size, TAIL_MAX), min_size(size, TAIL_MAX), size};
	struct probe_view v;

	if (!unpack(data, size, &b))
		b.head_len = size; /* raw: partition heads are read from the whole input */
	v = (struct probe_view){b.head, min_size(b.head_len, HEAD_MAX), b.tail, b.tail_len, b.size - b.tail_len,
				b.size};
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
