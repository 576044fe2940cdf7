/*
 * probe_vmdk.c - VMware VMDK: hosted sparse extent ("KDMV", version and
 * capacity in sectors), ESX COW ("COWD"), or a text descriptor file.
 */
#include "probe.h"

#include <stdio.h>

static int probe_vmdk_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *s = pv_bytes(v, 0, 32);

	(void)id;
	if (!s)
		return 1;
	if (!memcmp(s, "KDMV", 4)) {
		uint64_t bytes = size_mul(le64(s + 12), 512); /* capacity is in sectors */
		if (bytes == SIZE_OVERFLOW)
			snprintf(hit->detail, sizeof(hit->detail),
				 "sparse extent version %u, capacity %llu sectors (more than any disk)", le32(s + 4),
				 (unsigned long long)le64(s + 12));
		else
			snprintf(hit->detail, sizeof(hit->detail), "sparse extent version %u, capacity %llu bytes",
				 le32(s + 4), (unsigned long long)bytes);
		return 0;
	}
	if (!memcmp(s, "COWD", 4)) {
		snprintf(hit->detail, sizeof(hit->detail), "ESX COW sparse extent");
		return 0;
	}
	if (!memcmp(s, "# Disk DescriptorFile", 21)) {
		snprintf(hit->detail, sizeof(hit->detail), "descriptor file (extents are separate files)");
		return 0;
	}
	return 1;
}

const struct probe_desc probe_vmdk = {
	.name = "vmdk",
	.cls = HIT_CONTAINER,
	.probe = probe_vmdk_fn,
};
