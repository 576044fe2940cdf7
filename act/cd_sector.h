/*
 * cd_sector.h - one raw 2352-byte CD data sector (ECMA-130), checked the
 * way a drive would: the 12-byte sync pattern, the header's BCD M:S:F
 * address and mode byte, for Mode 2 the Form 1 subheader, the EDC (a CRC-32
 * over the header and data) and, on request, the Reed-Solomon P and Q parity
 * (cd_ecc.h).  Pure functions over a borrowed sector; no I/O.
 *
 *   Mode 1          0 sync(12) 12 address(3) 15 mode=1 16 user data(2048)
 *                   2064 EDC(4, over 0..2063) 2068 zero(8) 2076 P(172) 2248 Q(104)
 *   Mode 2 Form 1   0 sync(12) 12 address(3) 15 mode=2 16 subheader(4+4 copy)
 *                   24 user data(2048) 2072 EDC(4, over 16..2071) 2076 P 2248 Q
 */
#ifndef IMGSCAN_CD_SECTOR_H
#define IMGSCAN_CD_SECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_RAW_SECTOR 2352u
#define CD_USER_DATA 2048u
/* A disc's first data sector (LBA 0) sits 2 seconds = 150 frames after the
 * start of the program area: address 00:02:00. */
#define CD_LBA0_FRAMES 150u
/* The largest address BCD M:S:F can hold: 99:59:74. */
#define CD_MAX_FRAMES (100u * 60u * 75u - 1u)

/* The sector types this tool extracts the user data of. */
enum cd_mode {
	CD_MODE1 = 1,        /* MODE1/2352 */
	CD_MODE2_FORM1 = 2,  /* MODE2/2352, every sector Form 1 */
};

/* What failed in one sector, as bits (a sector may fail several ways). */
enum cd_fault {
	CD_BAD_SYNC = 1u << 0,       /* the 12-byte sync pattern is wrong */
	CD_BAD_MODE = 1u << 1,       /* the mode byte is not the track's */
	CD_BAD_ADDRESS = 1u << 2,    /* the header's M:S:F is not the one expected */
	CD_BAD_SUBHEADER = 1u << 3,  /* Mode 2: the two copies differ, or Form 2 in a broken sector */
	CD_BAD_EDC = 1u << 4,        /* the EDC is set and does not match */
	CD_BAD_ECC = 1u << 5,        /* the P/Q parity is set and does not match */
	CD_FORM2 = 1u << 6,          /* Mode 2 Form 2 (XA, mixed data): not extractable */
};
#define CD_FAULT_KINDS 7

/* Where the 2048 bytes of user data start in a sector of this mode. */
static inline unsigned cd_user_offset(enum cd_mode mode)
{
	return mode == CD_MODE1 ? 16u : 24u;
}

/* True when the sector starts with 00 FF*10 00. */
bool cd_has_sync(const uint8_t *sector);
/* The frame number the BCD M:S:F at msf names, or -1 when a digit is not
 * BCD or the seconds or frames are out of range. */
int32_t cd_msf_frames(const uint8_t *msf);
/* "MM:SS:FF" for a frame number (up to CD_MAX_FRAMES). */
void cd_frames_text(uint32_t frames, char out[12]);
/* The ECMA-130 EDC of len bytes: CRC-32, reflected polynomial 0xD8018001,
 * initial value 0, no final xor.  cd_edc_init() must have run. */
uint32_t cd_edc(const uint8_t *p, size_t len);
/* Build the EDC tables (idempotent; call once before any check). */
void cd_edc_init(void);

/* Check one sector read as a sector of mode; expect_frames is the address
 * its header should hold, or -1 to take any.  with_ecc also checks the P/Q
 * parity where it is not all zero.  Returns the enum cd_fault bits, 0 when
 * the sector is good.  The EDC is checked only when it is not zero (some
 * tools leave it out). */
unsigned cd_sector_check(const uint8_t *sector, enum cd_mode mode, int64_t expect_frames, bool with_ecc);
/* A short text for one fault bit: "sync", "EDC"... */
const char *cd_fault_name(unsigned fault_bit);

#endif
