/*
 * cd_ecc.c - P and Q parity of a CD data sector.  Each P column and Q
 * diagonal is a vector v[0..n-1] followed by two parity bytes a, b chosen
 * so that (ECMA-130 Annex A, the parity-check matrix)
 *     v[0] + ... + v[n-1] + a + b = 0
 *     v[0]*x^(n+1) + ... + v[n-1]*x^2 + a*x + b = 0
 * With s0 the first sum over the data and s1 the second, a = (s0 + s1) /
 * (x + 1) and b = s0 + a.  s1 is a Horner sum (multiply by x, add the next
 * byte), one table look-up per byte.  The Q vectors start where the P ones
 * do and step 88 bytes (one row and one column) modulo the 2236 bytes of
 * data and P parity.
 */
#include "cd_ecc.h"

#include <string.h>

#define GF_POLY 0x11D /* x^8+x^4+x^3+x^2+1 */
#define ECC_FROM 12u  /* the header's first byte */
#define P_VECTORS 86u
#define P_LEN 24u
#define Q_VECTORS 52u
#define Q_LEN 43u

static uint8_t times_x[256];       /* v * x */
static uint8_t over_x_plus_1[256]; /* v / (x + 1) */
static bool tables_ready;

static void make_tables(void)
{
	for (unsigned i = 0; i < 256; i++) {
		unsigned t = i << 1 ^ (i & 0x80 ? GF_POLY : 0);
		times_x[i] = (uint8_t)t;
		over_x_plus_1[i ^ t] = (uint8_t)i; /* i*(x+1) = i ^ i*x */
	}
	tables_ready = true;
}

/* The parity of `count` vectors of `len` bytes over block (2236 bytes:
 * data, then P): vector k starts at (k/2)*start_mult + k%2 and steps `step`
 * modulo len*count.  Writes a to out[k] and b to out[k + count]. */
static void parity_of(const uint8_t *block, unsigned count, unsigned len, unsigned start_mult, unsigned step,
		      uint8_t *out)
{
	const unsigned size = count * len;

	for (unsigned k = 0; k < count; k++) {
		unsigned at = (k >> 1) * start_mult + (k & 1);
		uint8_t s0 = 0, horner = 0;
		for (unsigned i = 0; i < len; i++) {
			uint8_t v = block[at];
			s0 ^= v;
			horner = times_x[horner ^ v];
			at += step;
			if (at >= size)
				at -= size;
		}
		/* horner = sum v[i]*x^(n-i); one more x gives s1. */
		out[k] = over_x_plus_1[s0 ^ times_x[horner]];
		out[k + count] = out[k] ^ s0;
	}
}

void cd_ecc_compute(const uint8_t *sector, bool zero_header, uint8_t parity[CD_ECC_BYTES])
{
	uint8_t block[CD_ECC_Q_AT - ECC_FROM]; /* header .. P parity: 2236 bytes */

	if (!tables_ready)
		make_tables();
	memcpy(block, sector + ECC_FROM, CD_ECC_P_AT - ECC_FROM);
	if (zero_header)
		memset(block, 0, 4);
	parity_of(block, P_VECTORS, P_LEN, 2, P_VECTORS, block + (CD_ECC_P_AT - ECC_FROM));
	parity_of(block, Q_VECTORS, Q_LEN, P_VECTORS, P_VECTORS + 2, parity + (CD_ECC_Q_AT - CD_ECC_P_AT));
	memcpy(parity, block + (CD_ECC_P_AT - ECC_FROM), CD_ECC_Q_AT - CD_ECC_P_AT);
}

bool cd_ecc_ok(const uint8_t *sector, bool zero_header)
{
	uint8_t parity[CD_ECC_BYTES];

	cd_ecc_compute(sector, zero_header, parity);
	return !memcmp(parity, sector + CD_ECC_P_AT, CD_ECC_BYTES);
}
