/*
 * cd_sector.c - the checks of one raw CD data sector: sync, header address
 * and mode, Mode 2 subheader, EDC (and the P/Q parity through cd_ecc.c).
 * The EDC is computed eight bytes at a time (slice-by-8 tables): it runs
 * over every sector of the image, so it sets the conversion's speed.
 */
#include "cd_sector.h"
#include "cd_ecc.h"

#include <stdio.h>
#include <string.h>

#define EDC_POLY 0xD8018001u /* x^32+x^31+x^16+x^15+x^4+x^3+x+1, reflected */

static const uint8_t cd_sync[12] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
static uint32_t edc_table[8][256];
static bool edc_ready;

void cd_edc_init(void)
{
	if (edc_ready)
		return;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int b = 0; b < 8; b++)
			c = (c >> 1) ^ (c & 1 ? EDC_POLY : 0);
		edc_table[0][i] = c;
	}
	for (int k = 1; k < 8; k++)
		for (int i = 0; i < 256; i++)
			edc_table[k][i] = (edc_table[k - 1][i] >> 8) ^ edc_table[0][edc_table[k - 1][i] & 0xff];
	edc_ready = true;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t cd_edc(const uint8_t *p, size_t len)
{
	uint32_t crc = 0;

	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = crc ^ le32(p), hi = le32(p + 4);
		crc = edc_table[7][lo & 0xff] ^ edc_table[6][(lo >> 8) & 0xff] ^ edc_table[5][(lo >> 16) & 0xff] ^
		      edc_table[4][lo >> 24] ^ edc_table[3][hi & 0xff] ^ edc_table[2][(hi >> 8) & 0xff] ^
		      edc_table[1][(hi >> 16) & 0xff] ^ edc_table[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ edc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

bool cd_has_sync(const uint8_t *sector)
{
	return !memcmp(sector, cd_sync, sizeof(cd_sync));
}

/* A BCD byte's value, or -1 when a nibble is above 9. */
static int bcd(uint8_t b)
{
	return (b >> 4) > 9 || (b & 15) > 9 ? -1 : (b >> 4) * 10 + (b & 15);
}

int32_t cd_msf_frames(const uint8_t *msf)
{
	int m = bcd(msf[0]), s = bcd(msf[1]), f = bcd(msf[2]);

	if (m < 0 || s < 0 || s > 59 || f < 0 || f > 74)
		return -1;
	return (m * 60 + s) * 75 + f;
}

void cd_frames_text(uint32_t frames, char out[12])
{
	snprintf(out, 12, "%02u:%02u:%02u", (frames / 4500) % 100, frames / 75 % 60, frames % 75);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* The Mode 2 subheader (file, channel, submode, coding, twice): its two
 * copies must agree; Form 2 (submode bit 5) only when both say so, so that
 * one damaged copy is a bad sector, not a refusal of the whole image. */
static unsigned check_subheader(const uint8_t *sector)
{
	const uint8_t *sub = sector + 16;

	if (memcmp(sub, sub + 4, 4))
		return CD_BAD_SUBHEADER;
	return sub[2] & 0x20 ? CD_FORM2 : 0;
}

unsigned cd_sector_check(const uint8_t *sector, enum cd_mode mode, int64_t expect_frames, bool with_ecc)
{
	unsigned faults = 0;
	size_t edc_from = mode == CD_MODE1 ? 0 : 16, edc_at = mode == CD_MODE1 ? 2064 : 2072;
	uint32_t stored;

	if (!cd_has_sync(sector))
		faults |= CD_BAD_SYNC;
	if (sector[15] != (uint8_t)mode)
		faults |= CD_BAD_MODE;
	if (expect_frames >= 0 && cd_msf_frames(sector + 12) != expect_frames)
		faults |= CD_BAD_ADDRESS;
	if (mode == CD_MODE2_FORM1)
		faults |= check_subheader(sector);
	/* A Form 2 submode in a sector whose sync or mode byte is broken (one
	 * filled with 0xFF by a reader, say) is damage, not mixed data: a bad
	 * sector, checked as Form 1, and no refusal of the whole image. */
	if ((faults & CD_FORM2) && (faults & (CD_BAD_SYNC | CD_BAD_MODE)))
		faults ^= CD_FORM2 | CD_BAD_SUBHEADER;
	if (faults & CD_FORM2)
		return faults; /* no Form 1 EDC or parity to check */
	stored = le32(sector + edc_at);
	if (stored && cd_edc(sector + edc_from, edc_at - edc_from) != stored)
		faults |= CD_BAD_EDC;
	if (with_ecc && !all_zero(sector + CD_ECC_P_AT, CD_ECC_BYTES) && !cd_ecc_ok(sector, mode == CD_MODE2_FORM1))
		faults |= CD_BAD_ECC;
	return faults;
}

const char *cd_fault_name(unsigned fault_bit)
{
	switch (fault_bit) {
	case CD_BAD_SYNC: return "sync";
	case CD_BAD_MODE: return "mode";
	case CD_BAD_ADDRESS: return "address";
	case CD_BAD_SUBHEADER: return "subheader";
	case CD_BAD_EDC: return "EDC";
	case CD_BAD_ECC: return "ECC";
	case CD_FORM2: return "Form 2";
	default: return "?";
	}
}
