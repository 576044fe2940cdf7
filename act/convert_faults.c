/*
 * convert_faults.c - the bad sectors of a conversion, on stdout as they are
 * found: one line each, by LBA (the sector's number in the image, 0 first)
 * with its address and what failed, up to --max-listed lines; then a count
 * of all of them by kind, so that a damaged disc of 100,000 bad sectors
 * gives a readable answer and the count is never lost.
 */
#include "convert.h"

#include <inttypes.h>
#include <stdio.h>

void convert_fault(struct convert_faults *f, uint64_t lba, unsigned faults, const uint8_t *sector,
		   int64_t expect_frames)
{
	char found[12], expect[12];
	const char *sep = "";
	int32_t at = cd_msf_frames(sector + 12);

	f->bad++;
	for (unsigned k = 0; k < CD_FAULT_KINDS; k++)
		f->by_kind[k] += (faults >> k) & 1;
	if (f->quiet || (f->max_listed && f->listed >= f->max_listed))
		return;
	f->listed++;
	printf("bad sector %" PRIu64 ":", lba);
	for (unsigned k = 0; k < CD_FAULT_KINDS; k++)
		if (faults & (1u << k)) {
			printf("%s %s", sep, cd_fault_name(1u << k));
			sep = ",";
		}
	if (faults & CD_BAD_ADDRESS) {
		cd_frames_text(expect_frames < 0 ? 0 : (uint32_t)expect_frames, expect);
		if (at >= 0)
			cd_frames_text((uint32_t)at, found);
		printf(" (header says %s, expected %s)", at >= 0 ? found : "no BCD address", expect);
	}
	if (faults & CD_BAD_MODE)
		printf(" (mode byte %u)", sector[15]);
	putchar('\n');
}

void convert_faults_summary(const struct convert_faults *f, uint64_t sectors)
{
	const char *sep = ": ";

	if (!f->bad) {
		printf("bad sectors: none of %" PRIu64 "\n", sectors);
		return;
	}
	if (f->bad > f->listed && !f->quiet)
		printf("and %" PRIu64 " more bad sector%s (--max-listed 0 lists all)\n", f->bad - f->listed,
		       f->bad - f->listed == 1 ? "" : "s");
	printf("bad sectors: %" PRIu64 " of %" PRIu64, f->bad, sectors);
	for (unsigned k = 0; k < CD_FAULT_KINDS; k++)
		if (f->by_kind[k]) {
			printf("%s%s %" PRIu64, sep, cd_fault_name(1u << k), f->by_kind[k]);
			sep = ", ";
		}
	putchar('\n');
}
