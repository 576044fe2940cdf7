/*
 * probe_qcow.c - QEMU qcow/qcow2: "QFI\xfb", version (big-endian) at 4,
 * virtual disk size at 24.  The Sleuth Kit cannot open it.
 */
#include "probe.h"

#include <stdio.h>

static int probe_qcow_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 32);
	uint32_t version;

	(void)id;
	if (!s || memcmp(s, "QFI\xfb", 4))
		return 1;
	version = be32(s + 4);
	if (version < 1 || version > 3)
		return 1;
	snprintf(hit->name, sizeof(hit->name), "%s", version == 1 ? "qcow" : "qcow2");
	snprintf(hit->detail, sizeof(hit->detail), "version %u, virtual size %llu bytes%s", version,
		 (unsigned long long)be64(s + 24), be64(s + 8) ? ", has a backing file" : "");
	return 0;
}

const struct probe_desc probe_qcow = {
	.name = "qcow2",
	.cls = HIT_CONTAINER,
	.magic = "QFI\xfb",
	.magic_len = 4,
	.magic_off = 0,
	.probe = probe_qcow_fn,
};
