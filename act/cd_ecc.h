/*
 * cd_ecc.h - the Reed-Solomon Product-like Code of a CD data sector
 * (ECMA-130 Annex A): over GF(2^8) with x^8+x^4+x^3+x^2+1, the 2064 bytes
 * from the header (offset 12) to the end of the EDC field are 1032 16-bit
 * words in two byte planes; P parity: 86 columns of 24 bytes, two parity
 * bytes each (172 at 2076); Q parity: 52 diagonals of 43 bytes (the P
 * parity included), two each (104 at 2248).  Mode 2 computes it with the
 * header taken as zero, so that the address is not protected twice.
 */
#ifndef IMGSCAN_CD_ECC_H
#define IMGSCAN_CD_ECC_H

#include <stdbool.h>
#include <stdint.h>

#define CD_ECC_P_AT 2076u
#define CD_ECC_Q_AT 2248u
#define CD_ECC_BYTES 276u /* P (172) and Q (104) */

/* Compute the P and Q parity of sector (2352 bytes) into parity[276] (P
 * then Q, as they sit at 2076); zero_header: Mode 2 (header taken as 0). */
void cd_ecc_compute(const uint8_t *sector, bool zero_header, uint8_t parity[CD_ECC_BYTES]);
/* True when the sector's stored P and Q parity are the computed ones. */
bool cd_ecc_ok(const uint8_t *sector, bool zero_header);

#endif
