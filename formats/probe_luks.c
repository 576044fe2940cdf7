/*
 * probe_luks.c - LUKS encrypted volumes (the LUKS1 on-disk format
 * specification; LUKS2's, cryptsetup docs/on-disk-format-luks2.pdf):
 *   luks1  "LUKS\xba\xbe" 00 01: a 592-byte big-endian header with the
 *          cipher name and mode, the hash, the payload offset (sectors), the
 *          key size, the UUID and eight key slots
 *   luks2  "LUKS\xba\xbe" 00 02: a 4096-byte binary header (header size,
 *          label, UUID, subsystem) followed by JSON metadata; the cipher and
 *          the data offset are in the JSON's first segment
 * claimed_size is where the encrypted data starts: a file shorter than that
 * has lost key material.  A detached header (data offset 0) claims its own
 * two copies only.
 */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>

#define LUKS1_HEADER 592
#define LUKS1_SLOTS 8
#define LUKS1_SLOT_ACTIVE 0x00AC71F3u
#define LUKS2_BINARY 4096
#define LUKS2_HDR_MIN 16384u
#define LUKS2_HDR_MAX (4u << 20)

static int probe_luks1_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, LUKS1_HEADER);
	char cipher[33], mode[33], hash[33];
	uint32_t key_bytes, active = 0;

	(void)id;
	if (!h)
		return 1;
	key_bytes = be32(h + 108);
	if (!key_bytes || key_bytes > 512)
		return 1;
	for (int i = 0; i < LUKS1_SLOTS; i++)
		active += be32(h + 208 + 48 * i) == LUKS1_SLOT_ACTIVE;
	probe_copy_text(cipher, sizeof(cipher), h + 8, 32);
	probe_copy_text(mode, sizeof(mode), h + 40, 32);
	probe_copy_text(hash, sizeof(hash), h + 72, 32);
	probe_copy_text(hit->uuid, sizeof(hit->uuid), h + 168, 40);
	hit->claimed_size = (uint64_t)be32(h + 104) * 512;
	hit->block_size = 512;
	snprintf(hit->detail, sizeof(hit->detail), "LUKS1, %s-%s, %s", cipher, mode, hash);
	probe_appendf(hit->detail, sizeof(hit->detail), ", %u-bit key, %u of 8 key slots in use, data at %llu",
		      key_bytes * 8, active, (unsigned long long)hit->claimed_size);
	return 0;
}

/* The value of "key":"..." or "key":123 at or after from in the JSON, into
 * out (printable, cut to fit); false when it is not there. */
static bool json_value(const uint8_t *json, size_t len, const uint8_t *from, const char *key, char *out, size_t cap)
{
	const uint8_t *k = probe_find(from, len - (size_t)(from - json), key), *p, *end = json + len;
	size_t n = 0;

	if (!k)
		return false;
	p = k + strlen(key);
	while (p < end && (*p == ' ' || *p == ':'))
		p++;
	if (p < end && *p == '"')
		p++;
	while (p + n < end && p[n] != '"' && p[n] != ',' && p[n] != '}' && p[n])
		n++;
	probe_copy_text(out, cap, p, n < cap - 1 ? n : cap - 1);
	return out[0] != '\0';
}

/* Facts from the JSON area: the first segment's cipher, sector size and
 * data offset.  The area is read as far as it is in view. */
static void luks2_json(const struct probe_view *v, uint64_t hdr_size, struct probe_hit *hit, uint64_t *data_off)
{
	size_t len = (size_t)(hdr_size - LUKS2_BINARY);
	const uint8_t *json, *seg;
	char val[48];

	if (v->head_len > LUKS2_BINARY && len > v->head_len - LUKS2_BINARY)
		len = v->head_len - LUKS2_BINARY;
	json = pv_bytes(v, LUKS2_BINARY, len);
	if (!json || !(seg = probe_find(json, len, "\"segments\"")))
		return;
	if (json_value(json, len, seg, "\"encryption\"", val, sizeof(val)))
		probe_appendf(hit->detail, sizeof(hit->detail), ", %s", val);
	if (json_value(json, len, seg, "\"sector_size\"", val, sizeof(val)))
		probe_appendf(hit->detail, sizeof(hit->detail), ", %s-byte sectors", val);
	if (json_value(json, len, seg, "\"offset\"", val, sizeof(val)))
		*data_off = strtoull(val, NULL, 10);
}

static int probe_luks2_fn(const struct probe_view *v, struct probe_hit *hit, struct ident *id)
{
	const uint8_t *h = pv_bytes(v, 0, 512);
	uint64_t hdr_size, data_off = 0;
	char subsystem[49];

	(void)id;
	if (!h)
		return 1;
	hdr_size = be64(h + 8);
	if (hdr_size < LUKS2_HDR_MIN || hdr_size > LUKS2_HDR_MAX || (hdr_size & (hdr_size - 1)) || be64(h + 256))
		return 1; /* a secondary header (offset not 0) is not the volume's start */
	probe_copy_label(hit->label, sizeof(hit->label), h + 24, 48);
	probe_copy_text(hit->uuid, sizeof(hit->uuid), h + 168, 40);
	probe_copy_text(subsystem, sizeof(subsystem), h + 208, 48);
	snprintf(hit->detail, sizeof(hit->detail), "LUKS2");
	luks2_json(v, hdr_size, hit, &data_off);
	probe_appendf(hit->detail, sizeof(hit->detail), ", header %llu bytes, sequence %llu",
		      (unsigned long long)hdr_size, (unsigned long long)be64(h + 16));
	if (data_off)
		probe_appendf(hit->detail, sizeof(hit->detail), ", data at %llu", (unsigned long long)data_off);
	else
		probe_appendf(hit->detail, sizeof(hit->detail), ", detached header (no data)");
	if (subsystem[0])
		probe_appendf(hit->detail, sizeof(hit->detail), ", subsystem \"%s\"", subsystem);
	hit->claimed_size = data_off ? data_off : 2 * hdr_size;
	return 0;
}

const struct probe_desc probe_luks1 = {
	.name = "luks1", .cls = HIT_ENCRYPTED,
	.magic = "LUKS\xba\xbe\x00\x01", .magic_len = 8, .magic_off = 0, .probe = probe_luks1_fn,
};
const struct probe_desc probe_luks2 = {
	.name = "luks2", .cls = HIT_ENCRYPTED,
	.magic = "LUKS\xba\xbe\x00\x02", .magic_len = 8, .magic_off = 0, .probe = probe_luks2_fn,
};
