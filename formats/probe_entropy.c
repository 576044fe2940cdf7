/*
 * probe_entropy.c - "high-entropy": the last resort, for a file no other
 * probe recognised whose first bytes are as good as random.  That is an
 * encrypted volume without a header (VeraCrypt, TrueCrypt, plain dm-crypt),
 * media wiped with random data, or compressed data of a format we do not
 * know; the detail gives the measurements, not a guess.
 *
 * The byte entropy is measured over the head (at least 64 KiB of it).  The
 * threshold, 7.9 bits per byte, was set on real data: random bytes give
 * 7.997 over 64 KiB and 7.9998 over 1 MiB; entropy-coded compression (gzip,
 * bzip2, xz, zstd, even zstd -1 over 64 KiB) 7.91-7.9998; byte-oriented LZ
 * without entropy coding (lz4, lzo) only 6.8-7.4, so it does not pass.
 * Text is about 5, executables 4-6.5, a tar of shared libraries 5.6-6.2,
 * file systems and zero-filled media far less.  The chi-square of the byte
 * counts (255 degrees of freedom) tells the uniform kind (below 350:
 * encrypted or random data, and xz) from the merely dense (most compressed
 * data, hundreds to tens of thousands).
 */
#include "probe.h"

#include <stdio.h>

#define ENTROPY_MIN_BYTES (64u << 10)
#define ENTROPY_MAX_BYTES (4u << 20)
#define ENTROPY_THRESHOLD 7.9
#define CHI_SQUARE_UNIFORM 350.0

/* log2(x) for x >= 1, to about 1e-15: x = m 2^e with m in [1, 2), and
 * ln m = 2 atanh((m - 1) / (m + 1)) summed as a series (|t| <= 1/3).  Our
 * own, so that the probes need no libm. */
static double log2_of(double x)
{
	double t, t2, term, sum = 0;
	int e = 0;

	while (x >= 2 && e < 1100) {
		x /= 2;
		e++;
	}
	t = (x - 1) / (x + 1);
	t2 = t * t;
	term = t;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= t2;
	}
	return e + 2 * sum / 0.69314718055994530942;
}

/* Shannon entropy in bits per byte, and the chi-square against uniform. */
static void measure(const uint8_t *p, size_t n, double *entropy, double *chi)
{
	uint32_t count[256] = {0};
	double expect = (double)n / 256, sum = 0;

	for (size_t i = 0; i < n; i++)
		count[p[i]]++;
	*chi = 0;
	for (int b = 0; b < 256; b++) {
		double d = count[b] - expect;
		if (count[b])
			sum += count[b] * log2_of(count[b]);
		*chi += d * d / expect;
	}
	*entropy = log2_of((double)n) - sum / (double)n;
}

/* Media and documents whose data is compressed: high entropy, but their
 * header names them (libmagic does, in the worker), so no guess is made.
 * Signatures of three bytes or more: random data starts so once in 16 M. */
static bool known_compressed_format(const struct probe_view *v)
{
	static const struct { const char *magic; size_t len, off; } sigs[] = {
		{"\x89PNG\r\n\x1a\n", 8, 0}, {"%PDF-", 5, 0}, {"\xff\xd8\xff", 3, 0}, {"GIF8", 4, 0},
		{"RIFF", 4, 0}, {"ftyp", 4, 4}, {"OggS", 4, 0}, {"ID3", 3, 0}, {"fLaC", 4, 0},
		{"\x1a\x45\xdf\xa3", 4, 0}, {"wOFF", 4, 0}, {"wOF2", 4, 0}, {"\x00\x01\x00\x00\x00", 5, 0},
		{"OTTO", 4, 0}, {"SQLite format 3", 15, 0}, {"!<arch>\n", 8, 0}, {"\xed\xab\xee\xdb", 4, 0},
		{"\x7f" "ELF", 4, 0}, {"-----BEGIN PGP", 14, 0},
	};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (pv_match(v, sigs[i].off, sigs[i].magic, sigs[i].len))
			return true;
	return false;
}

static int probe_entropy_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	size_t n = v->head_len < ENTROPY_MAX_BYTES ? v->head_len : ENTROPY_MAX_BYTES;
	const uint8_t *p;
	double entropy, chi;

	if (id->nhits > 0 || n < ENTROPY_MIN_BYTES || !(p = pv_bytes(v, 0, n)) || known_compressed_format(v))
		return 1;
	measure(p, n, &entropy, &chi);
	if (entropy < ENTROPY_THRESHOLD)
		return 1;
	snprintf(hit->detail, sizeof(hit->detail), "entropy %.5f bits/byte over %zu bytes, chi-square %.0f (%s)",
		 entropy, n, chi,
		 chi < CHI_SQUARE_UNIFORM ? "uniform, as encrypted or random data is"
					  : "not uniform, as compressed data often is");
	return 0;
}

/* Last in the table: it looks only when nothing before it matched. */
const struct probe_desc probe_high_entropy = {
	.name = "high-entropy", .cls = HIT_ENCRYPTED, .probe = probe_entropy_fn,
};
