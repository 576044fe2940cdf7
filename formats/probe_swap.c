/*
 * probe_swap.c - a Linux swap area (util-linux mkswap; libblkid's swap.c):
 * the signature "SWAPSPACE2" in the last 10 bytes of the first page (4, 8,
 * 16 or 64 KiB), a header at 1024 with the version, the last page, a UUID
 * and a label.  Ubuntu makes /swap.img so: a swap area named .img is no
 * misnamed disk.  A hibernation image written over the swap area replaces
 * the signature (S1SUSPEND, S2SUSPEND, ULSUSPEND, LINHIB0001).
 * A volume like a file system (so it is also found inside a partition).
 */
#include "probe.h"

#include <stdio.h>

static const uint32_t swap_pages[] = {4096, 8192, 16384, 65536};
static const char *const swap_signatures[] = {"SWAPSPACE2", "SWAP-SPACE", "S1SUSPEND", "S2SUSPEND", "ULSUSPEND",
					      "LINHIB0001"};

/* The signature's index and the page size it was found at; -1 when none. */
static int find_signature(const struct probe_view *v, uint32_t *page)
{
	for (size_t p = 0; p < sizeof(swap_pages) / sizeof(swap_pages[0]); p++)
		for (size_t s = 0; s < sizeof(swap_signatures) / sizeof(swap_signatures[0]); s++)
			if (pv_match(v, swap_pages[p] - 10u, swap_signatures[s], strlen(swap_signatures[s]))) {
				*page = swap_pages[p];
				return (int)s;
			}
	return -1;
}

static int probe_swap_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 1024, 44);
	uint32_t page = 0, (*rd)(const uint8_t *) = le32, last;
	int sig = find_signature(v, &page);

	(void)id;
	if (sig < 0 || !h)
		return 1;
	hit->block_size = page;
	if (sig == 1) { /* version 0: a bitmap, no header */
		snprintf(hit->detail, sizeof(hit->detail), "version 0 (old format), %u-byte pages", page);
		return 0;
	}
	if (be32(h) == 1)
		rd = be32; /* made on a big-endian machine */
	if (rd(h) != 1)
		return 1;
	last = rd(h + 4);
	if (!last)
		return 1;
	hit->claimed_size = size_mul((uint64_t)last + 1, page);
	if (!probe_all_zero(h + 12, 16))
		probe_format_uuid(hit->uuid, sizeof(hit->uuid), h + 12, false);
	probe_copy_label(hit->label, sizeof(hit->label), h + 28, 16);
	snprintf(hit->detail, sizeof(hit->detail), "version 1, %u-byte pages, %llu pages%s%s", page,
		 (unsigned long long)last + 1,
		 rd == be32 ? ", big-endian" : "", sig >= 2 ? ", holds a hibernation image" : "");
	return 0;
}

const struct probe_desc probe_swap = {
	.name = "swap", .cls = HIT_FS, .probe = probe_swap_fn,
};
