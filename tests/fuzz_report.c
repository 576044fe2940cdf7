/*
 * fuzz_report.c - fuzz harness for the report encoder.  Bytes as a disk may
 * hold them (volume labels, partition names, file, member and segment
 * names, TSK's messages and partition descriptions, EWF header values,
 * format details) go through the real code that puts them in the report
 * (report/pathenc.c, image_json.c, media_json.c, and the CASE form of the
 * image in case_image.c) and on a terminal (term_escaped()).  Checked, and
 * abort() on the first breach so that libFuzzer keeps the input:
 *  - the image object as the report prints it (and the skipped entry, and
 *    the image's CASE nodes) is valid UTF-8 by this file's own strict
 *    validator (no overlong form, no surrogate, nothing past U+10FFFF),
 *    holds no raw control byte, and cJSON parses it back to its end;
 *  - nothing is lost where SCHEMA.md says the bytes are kept: a path or a
 *    volume label reads back as its exact bytes (X itself, or X_b64 when
 *    X_lossy); a text field (description, message, header value) is its bytes
 *    when they are UTF-8, and otherwise each byte that is not UTF-8 is one
 *    U+FFFD and every other character is kept, in order (SCHEMA.md: such
 *    strings are "written as valid UTF-8 whatever their bytes");
 *  - the length-counted functions take every byte, NULs too: utf8_valid()
 *    agrees with the validator here, utf8_lossy() repairs as above, base64
 *    goes there and back exactly, and base64_decode() accepts only what
 *    base64_encode() writes;
 *  - term_escaped(): no C0 or C1 control, DEL or byte that is not UTF-8 in
 *    what it shows, printable UTF-8 shown as it is, and its escapes read
 *    back to the exact name (two names never look the same).
 *
 * An input is used twice: whole, for the length-counted functions; and
 * split at its NUL bytes into C strings (the result's fields are C strings:
 * a NUL cannot be inside one), which fill the fields of the table below in
 * turn, starting over at the first piece when there are more fields than
 * pieces (so a one-string seed reaches every field).  A piece longer than
 * its field is cut, as a probe's snprintf would cut it: mid-character too.
 *
 * Built with clang -fsanitize=fuzzer it is a libFuzzer target
 * (tests/fuzz_report_ci.sh builds it with ASan and UBSan and runs it for a
 * bounded time; fuzz_ci.sh calls that).  Built normally it replays the
 * files, and the files in the directories, named on its command line, and
 * fails when none was (tests/fuzz_report_seeds.sh runs it so on the seeds
 * and the regressions).
 */
#include "formats/segments.h"
#include "report/case_image.h"
#include "report/image_json.h"
#include "report/pathenc.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FAIL(...) fail_at(__LINE__, __VA_ARGS__)

/* The checks judge the encoder's output: libFuzzer is guided by the
 * encoder's coverage, not by theirs, which cost most of the time. */
#ifdef IMGSCAN_LIBFUZZER
#define UNGUIDED __attribute__((no_sanitize("coverage")))
#else
#define UNGUIDED
#endif

static void fail_at(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void fail_at(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_report.c:%d: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* --- UTF-8, written apart from pathenc.c on purpose: the two must agree --- */

/* Length of the well-formed UTF-8 sequence at p (n bytes left), or 0: the
 * rows of Unicode's table 3-7, which leave out overlong forms, surrogates
 * (ED A0..BF) and everything past U+10FFFF (F4 90.., F5..FF). */
UNGUIDED static size_t wellformed_len(const uint8_t *p, size_t n)
{
	static const struct { uint8_t lo, hi, second_lo, second_hi, len; } rows[] = {
		{0x00, 0x7F, 0, 0, 1},          {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
		{0xE1, 0xEC, 0x80, 0xBF, 3},    {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3},
		{0xF0, 0xF0, 0x90, 0xBF, 4},    {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (p[0] < rows[r].lo || p[0] > rows[r].hi)
			continue;
		if (rows[r].len > n)
			return 0;
		if (rows[r].len > 1 && (p[1] < rows[r].second_lo || p[1] > rows[r].second_hi))
			return 0;
		for (size_t k = 2; k < rows[r].len; k++)
			if (p[k] < 0x80 || p[k] > 0xBF)
				return 0;
		return rows[r].len;
	}
	return 0;
}

UNGUIDED static bool wellformed(const uint8_t *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = wellformed_len(p + i, n - i)))
			return false;
	return true;
}

/* The code point of a well-formed sequence of len bytes. */
UNGUIDED static uint32_t code_point(const uint8_t *p, size_t len)
{
	static const uint8_t lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
	uint32_t cp = p[0] & lead_bits[len];

	for (size_t k = 1; k < len; k++)
		cp = cp << 6 | (p[k] & 0x3F);
	return cp;
}

/* What the documented repair makes of p[0, n): each well-formed sequence
 * kept, each other byte one U+FFFD.  Malloc'd with a NUL after *len bytes. */
UNGUIDED static uint8_t *repaired(const uint8_t *p, size_t n, size_t *len)
{
	uint8_t *out = malloc(3 * n + 1);
	size_t o = 0;

	if (!out)
		FAIL("out of memory");
	for (size_t i = 0, k; i < n; i += k) {
		if ((k = wellformed_len(p + i, n - i))) {
			memcpy(out + o, p + i, k);
			o += k;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			k = 1;
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* --- base64 back, written apart from pathenc.c's decoder --- */

/* Standard padded base64 (RFC 4648) into out (room for 3/4 of its length);
 * false when text is not base64.  *len gets the bytes.  Lenient about the
 * unused bits: base64_decode()'s strictness is checked apart. */
UNGUIDED static bool unbase64(const char *text, uint8_t *out, size_t *len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(text), pad = 0;
	uint32_t bits = 0;  /* the nbits not yet written, low in bits */
	int nbits = 0;

	if (n % 4)
		return false;
	while (pad < 2 && pad < n && text[n - 1 - pad] == '=')
		pad++;
	*len = 0;
	for (size_t i = 0; i < n - pad; i++) {
		const char *at = strchr(alphabet, text[i]);
		if (!at)
			return false;
		bits = (bits << 6 | (uint32_t)(at - alphabet)) & 0xFFFF;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[(*len)++] = (uint8_t)(bits >> nbits);
		}
	}
	return true;
}

/* b64 as this file and as imgscan's own readers (base64_decode) read it:
 * both give bytes[0, n), and imgscan's a NUL after them. */
static bool base64_is(const char *b64, const char *bytes, size_t n)
{
	size_t got = 0, theirs_n = 0;
	uint8_t *mine = malloc(strlen(b64) / 4 * 3 + 1);
	unsigned char *theirs = base64_decode(b64, strlen(b64), &theirs_n);
	bool same;

	if (!mine)
		FAIL("out of memory");
	same = unbase64(b64, mine, &got) && got == n && !memcmp(mine, bytes, n) && theirs && theirs_n == n &&
	       !memcmp(theirs, bytes, n) && !theirs[n];
	free(mine);
	free(theirs);
	return same;
}

/* --- the length-counted functions, on the whole input --- */

static void check_base64(const uint8_t *data, size_t size)
{
	char *b64 = base64_encode(data, size);

	if (!b64 || strlen(b64) != 4 * ((size + 2) / 3))
		FAIL("base64_encode of %zu bytes: %s", size, b64 ? "wrong length" : "NULL");
	if (!base64_is(b64, (const char *)data, size))
		FAIL("base64_encode of %zu bytes does not read back to them", size);
	free(b64);
}

/* The input as base64 text, as a report reader meets it: refused with
 * EINVAL, or exactly what base64_encode writes for what it decodes to. */
static void check_base64_strict(const uint8_t *text, size_t len)
{
	size_t n = 0;
	unsigned char *bytes = base64_decode((const char *)text, len, &n);
	char *again;

	if (!bytes) {
		if (errno != EINVAL)
			FAIL("base64_decode refused with errno %d, not EINVAL", errno);
		return;
	}
	again = base64_encode(bytes, n);
	if (!again || strlen(again) != len || memcmp(again, text, len))
		FAIL("base64_decode took %zu characters base64_encode would not write", len);
	free(bytes);
	free(again);
}

static void check_counted(const uint8_t *data, size_t size)
{
	size_t want_len;
	uint8_t *want = repaired(data, size, &want_len);
	char *lossy = utf8_lossy((const char *)data, size);

	if (utf8_valid((const char *)data, size) != wellformed(data, size))
		FAIL("utf8_valid says %d on %zu bytes", utf8_valid((const char *)data, size), size);
	if (!lossy || memcmp(lossy, want, want_len + 1))
		FAIL("utf8_lossy is not the repair (each byte not UTF-8 one U+FFFD)");
	free(want);
	free(lossy);
	check_base64(data, size);
	check_base64_strict(data, size);
}

/* --- term_escaped(), on each piece --- */

/* A C0 or C1 control, or DEL. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* True when term_escaped() has nothing to escape in name: printable UTF-8
 * without a backslash. */
UNGUIDED static bool plain_name(const uint8_t *p, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = wellformed_len(p + i, n - i)) || is_control(code_point(p + i, k)) || p[i] == '\\')
			return false;
	return true;
}

/* term_escaped()'s escapes (\\, \n, \xNN) read back into out (room for
 * strlen(shown) + 1); false at a backslash that starts none of them. */
UNGUIDED static bool unescape(const char *shown, char *out)
{
	char hex[3] = {0};

	for (const char *s = shown; *s; s++) {
		if (*s != '\\') {
			*out++ = *s;
			continue;
		}
		s++;
		if (*s == '\\' || *s == 'n') {
			*out++ = *s == 'n' ? '\n' : '\\';
		} else if (*s == 'x' && strspn(s + 1, "0123456789abcdef") >= 2) {
			memcpy(hex, s + 1, 2);
			*out++ = (char)strtoul(hex, NULL, 16);
			s += 2;
		} else {
			return false;
		}
	}
	*out = '\0';
	return true;
}

static void check_term(const char *name)
{
	char *shown = term_escaped(name), *back;
	const uint8_t *p = (const uint8_t *)shown;
	size_t n;

	if (!shown)
		FAIL("term_escaped: NULL");
	n = strlen(shown);
	for (size_t i = 0, k; i < n; i += k) {
		if (!(k = wellformed_len(p + i, n - i)))
			FAIL("term_escaped shows byte 0x%02x, not UTF-8, at %zu", p[i], i);
		if (is_control(code_point(p + i, k)))
			FAIL("term_escaped shows control U+%04X at %zu", (unsigned)code_point(p + i, k), i);
	}
	if (plain_name((const uint8_t *)name, strlen(name)) && strcmp(shown, name))
		FAIL("term_escaped changed a printable UTF-8 name");
	if (!(back = malloc(n + 1)))
		FAIL("out of memory");
	if (!unescape(shown, back) || strcmp(back, name))
		FAIL("term_escaped's escapes do not read back to the name");
	free(back);
	free(shown);
}

/* --- the report's fields --- */

enum field_kind {
	PATH_FIELD, /* SCHEMA.md "Paths and other names" (labels too): X exact, or X_b64 with X_lossy */
	TEXT_FIELD, /* valid UTF-8 whatever the bytes: each byte not UTF-8 one U+FFFD */
};

struct field {
	char *buf;          /* where the piece goes, a C string */
	size_t cap;         /* its size, NUL included: a longer piece is cut */
	enum field_kind kind;
	const char *at;     /* where the image object has it: keys and indexes, '/' between */
	const char *also;   /* a second place with the same bytes, or NULL */
};

static struct image_result res;
static char path_buf[4096], ext_buf[256], seg_path[4096];
static struct walk_segment seg = {seg_path, {0}, 1};
static struct walk_media media = {SEG_EWF, &seg, 1, 1, ""};

#define F(kind, buf, at) {buf, sizeof(buf), kind, at, NULL}
static const struct field fields[] = {
	F(PATH_FIELD, path_buf, "path"),
	F(PATH_FIELD, ext_buf, "extension"),
	F(PATH_FIELD, res.ident.hits[0].label, "identification/probes/0/label"),
	F(PATH_FIELD, res.ident.hits[0].label2, "identification/probes/0/label_boot_sector"),
	F(TEXT_FIELD, res.ident.hits[0].detail, "identification/probes/0/detail"),
	F(TEXT_FIELD, res.ident.hits[0].uuid, "identification/probes/0/uuid"),
	F(PATH_FIELD, res.ident.hits[1].label, "identification/probes/1/label"),
	F(PATH_FIELD, res.ident.hits[1].label2, "identification/probes/1/label_joliet"),
	F(TEXT_FIELD, res.ident.parts[0].name, "identification/partition_table/partitions/0/name"),
	F(TEXT_FIELD, res.ident.parts[0].type, "identification/partition_table/partitions/0/type"),
	F(TEXT_FIELD, res.tsk.parts[0].desc, "identification/tsk/volume_system/partitions/0/description"),
	F(TEXT_FIELD, res.tsk.errors[0], "identification/tsk/errors/0"),
	F(TEXT_FIELD, res.tsk.errors[1], "identification/tsk/errors/1"),
	F(TEXT_FIELD, res.verdict.detail, "detail"),
	{res.verdict.findings[0].suggested_name, sizeof(res.verdict.findings[0].suggested_name), PATH_FIELD,
	 "findings/0/suggested_name", "suggested_name"},
	F(TEXT_FIELD, res.verdict.findings[0].message, "findings/0/message"),
	F(TEXT_FIELD, res.errors[0].message, "errors/0/message"),
	F(PATH_FIELD, res.sector_file, "sectors/list_file"),
	F(TEXT_FIELD, res.tsk.inside.failure, "inside/failure"),
	F(TEXT_FIELD, res.tsk.inside.magic, "inside/magic"),
	F(TEXT_FIELD, res.tsk.inside.mime, "inside/mime"),
	F(TEXT_FIELD, res.tsk.inside.content, "inside/content"),
	F(PATH_FIELD, res.tsk.inside.backing, "inside/backing_file"),
	F(PATH_FIELD, res.tsk.inside.members[0].name, "inside/members/0/name"),
	F(TEXT_FIELD, res.tsk.inside.members[0].what, "inside/members/0/image"),
	F(PATH_FIELD, res.tsk.inside.members[1].name, "inside/members/1/name"),
	F(PATH_FIELD, res.tsk.inside.id.hits[0].label, "inside/probes/0/label"),
	F(PATH_FIELD, media.first_gap, "media/first_missing"),
	F(PATH_FIELD, seg_path, "media/segments/0/path"),
	F(TEXT_FIELD, res.tsk.acq.error, "acquisition/error"),
	F(TEXT_FIELD, res.tsk.acq.case_number, "acquisition/case_number"),
	F(TEXT_FIELD, res.tsk.acq.examiner, "acquisition/examiner"),
	F(TEXT_FIELD, res.tsk.acq.description, "acquisition/description"),
	F(TEXT_FIELD, res.tsk.acq.notes, "acquisition/notes"),
	F(TEXT_FIELD, res.tsk.acq.acquiry_software, "acquisition/acquiry_software"),
	F(TEXT_FIELD, res.tsk.acq.serial_number, "acquisition/serial_number"),
};
#undef F
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* What is not from the disk: a result with every field above present. */
static void set_the_rest(void)
{
	static const char hex[] = "0123456789abcdef0123456789abcdef";
	struct probe_hit *h = res.ident.hits;

	memset(&res, 0, sizeof(res));
	res.path = path_buf;
	res.ext = ext_buf;
	res.complete = true;
	res.sector_size = 512;
	memcpy(res.xxh128, hex, 33);
	res.ident.nhits = 2;
	h[0].cls = h[1].cls = HIT_FS;
	snprintf(h[0].name, sizeof(h[0].name), "fat32");
	snprintf(h[0].label2_key, sizeof(h[0].label2_key), "label_boot_sector");
	snprintf(h[1].name, sizeof(h[1].name), "iso9660");
	snprintf(h[1].label2_key, sizeof(h[1].label2_key), "label_joliet");
	snprintf(res.ident.scheme, sizeof(res.ident.scheme), "gpt");
	res.ident.nparts = 1;
	res.tsk.status = TSK_DONE;
	snprintf(res.tsk.vs_type, sizeof(res.tsk.vs_type), "mac");
	res.tsk.nparts = 1;
	res.tsk.nerrors = 2;
	res.tsk.inside.status = INSIDE_DONE;
	snprintf(res.tsk.inside.layer, sizeof(res.tsk.inside.layer), "zip");
	res.tsk.inside.nmembers = res.tsk.inside.members_total = 2;
	res.tsk.inside.id.nhits = 1;
	res.tsk.acq.status = EWF_ACQ_READ_FAILED;
	res.verdict.kind_id = KIND_MEDIA;
	res.verdict.nfindings = 1;
	res.verdict.findings[0].code = "EXTENSION_MISMATCH";
	res.verdict.findings[0].severity = "medium";
	res.nerrors = 1;
	res.errors[0] = (struct scan_error){"read", EIO, 512, ""};
	res.media = &media;
}

/* The pieces of data (split at NUL) into the fields, in turn. */
static void fill_fields(const uint8_t *data, size_t size)
{
	const uint8_t *piece = data, *end = data + size;

	set_the_rest();
	for (size_t i = 0; i < NFIELDS; i++) {
		const uint8_t *nul = piece < end ? memchr(piece, 0, (size_t)(end - piece)) : NULL;
		size_t len = (size_t)((nul ? nul : end) - piece);
		if (len >= fields[i].cap)
			len = fields[i].cap - 1;
		memcpy(fields[i].buf, piece, len);
		fields[i].buf[len] = '\0';
		piece = nul ? nul + 1 : data; /* after the last piece, the first again */
	}
}

/* text as a report holds it: strict UTF-8, no raw control byte (the
 * documents are printed unformatted: one would sit in a string), parsed by
 * cJSON to its end.  Returns the parsed tree. */
UNGUIDED static cJSON *parsed_back(const char *text, const char *what)
{
	size_t len = text ? strlen(text) : 0;
	const char *end = NULL;
	cJSON *tree;

	if (!text)
		FAIL("%s: cJSON_PrintUnformatted gave NULL", what);
	if (!wellformed((const uint8_t *)text, len))
		FAIL("%s: the JSON text is not valid UTF-8", what);
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)text[i] < 0x20)
			FAIL("%s: raw control byte 0x%02x in the JSON text", what, (uint8_t)text[i]);
	tree = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!tree || end != text + len)
		FAIL("%s: the JSON text does not parse back (at %td of %zu)", what, end ? end - text : -1, len);
	return tree;
}

/* The object holding the last part of at, whose key goes to key. */
static const cJSON *parent_of(const cJSON *root, const char *at, char *key, size_t keylen)
{
	const char *slash;

	while ((slash = strchr(at, '/')) && root) {
		snprintf(key, keylen, "%.*s", (int)(slash - at), at);
		root = cJSON_IsArray(root) ? cJSON_GetArrayItem(root, atoi(key))
					   : cJSON_GetObjectItemCaseSensitive(root, key);
		at = slash + 1;
	}
	snprintf(key, keylen, "%s", at);
	return root;
}

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(key)) : cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A path's X_lossy and X_b64 beside it: present exactly when the bytes are
 * not UTF-8, and then X_b64 is the bytes. */
static void check_path_bytes(const cJSON *parent, const char *key, const char *bytes, const char *at)
{
	char name[80];
	const cJSON *lossy, *b64;

	snprintf(name, sizeof(name), "%s_lossy", key);
	lossy = cJSON_GetObjectItemCaseSensitive(parent, name);
	snprintf(name, sizeof(name), "%s_b64", key);
	b64 = cJSON_GetObjectItemCaseSensitive(parent, name);
	if (wellformed((const uint8_t *)bytes, strlen(bytes))) {
		if (lossy || b64)
			FAIL("%s: valid UTF-8, yet %s_lossy or _b64 is there", at, key);
	} else if (!cJSON_IsTrue(lossy) || !cJSON_IsString(b64) || !base64_is(b64->valuestring, bytes, strlen(bytes))) {
		FAIL("%s: not UTF-8, and %s_lossy/_b64 do not give the bytes back", at, key);
	}
}

/* One field where the report has it: the repair of its bytes (which is
 * the bytes when they are UTF-8), and a path's exact bytes beside it. */
static void check_at(const cJSON *root, const char *at, const struct field *f)
{
	char key[64];
	const cJSON *parent = parent_of(root, at, key, sizeof(key)), *item = member(parent, key);
	size_t want_len;
	uint8_t *want;

	if (!item || cJSON_IsNull(item)) {
		if (f->buf[0])
			FAIL("%s: missing from the report", at);
		return;
	}
	if (!cJSON_IsString(item))
		FAIL("%s: not a string", at);
	want = repaired((const uint8_t *)f->buf, strlen(f->buf), &want_len);
	if (strcmp(item->valuestring, (const char *)want))
		FAIL("%s: not the bytes (or their repair, each byte not UTF-8 one U+FFFD)", at);
	free(want);
	if (f->kind == PATH_FIELD)
		check_path_bytes(parent, key, f->buf, at);
}

/* The image's CASE nodes: valid JSON and UTF-8 too, and a path that is
 * not UTF-8 keeps its bytes there in base64 (CASE.md). */
static void check_case(const cJSON *img)
{
	struct case_ns ns;
	cJSON *nodes, *back;
	char *text, *b64 = base64_encode((const uint8_t *)path_buf, strlen(path_buf));

	case_ns_parse(&ns, "6b1f3c2e-0d4a-4e8f-9a57-3c1d2b0e9f10");
	if (!(nodes = case_image_nodes(&ns, "kb:Action-fuzz", img)) || !b64)
		FAIL("case_image_nodes: NULL");
	text = cJSON_PrintUnformatted(nodes);
	back = parsed_back(text, "CASE nodes");
	if (!wellformed((const uint8_t *)path_buf, strlen(path_buf)) && !strstr(text, b64))
		FAIL("CASE nodes: the path is not UTF-8 and its base64 is not there");
	cJSON_Delete(back);
	cJSON_Delete(nodes);
	free(text);
	free(b64);
}

static void check_skipped(void)
{
	static const struct field skipped_path = {path_buf, sizeof(path_buf), PATH_FIELD, "path", NULL};
	struct skipped_entry s = {path_buf, SKIP_NOT_IMAGE, S_IFREG, 0, NULL};
	cJSON *obj = skipped_to_json(&s), *back;
	char *text = cJSON_PrintUnformatted(obj);

	back = parsed_back(text, "skipped entry");
	check_at(back, skipped_path.at, &skipped_path);
	cJSON_Delete(back);
	cJSON_Delete(obj);
	free(text);
}

static void check_report(const uint8_t *data, size_t size)
{
	cJSON *obj, *back;
	char *text;

	fill_fields(data, size);
	obj = image_to_json(&res);
	text = cJSON_PrintUnformatted(obj);
	back = parsed_back(text, "image object");
	for (size_t i = 0; i < NFIELDS; i++) {
		check_at(back, fields[i].at, &fields[i]);
		if (fields[i].also)
			check_at(back, fields[i].also, &fields[i]);
	}
	check_case(back);
	check_skipped();
	cJSON_Delete(back);
	cJSON_Delete(obj);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_counted(data, size);
	check_report(data, size);
	for (size_t i = 0; i < NFIELDS; i++)
		check_term(fields[i].buf);
	return 0;
}

#ifndef IMGSCAN_LIBFUZZER
/* One file's bytes through the checks.  Returns 0, or -errno. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len = -1;
	int rc = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		rc = -errno;
	else if (!(buf = malloc(len > 0 ? (size_t)len : 1)))
		rc = -ENOMEM;
	else if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		rc = -EIO;
	else
		LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	fclose(f);
	return rc;
}

/* A file, or the files in a directory.  Returns inputs replayed, or -errno. */
static int replay(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int n = 0, rc = 0;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return (rc = replay_file(path)) ? rc : 1;
	if (!(d = opendir(path)))
		return -errno;
	while (!rc && (e = readdir(d))) {
		char sub[4096];
		if (e->d_name[0] == '.' || snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
			continue;
		if (stat(sub, &st) || !S_ISREG(st.st_mode))
			continue;
		rc = replay_file(sub);
		n++;
	}
	closedir(d);
	return rc ? rc : n;
}

int main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		int n = replay(argv[i]);
		if (n < 0) {
			fprintf(stderr, "fuzz_report: %s: %s\n", argv[i], strerror(-n));
			return 1;
		}
		total += n;
	}
	printf("fuzz_report: replayed %d inputs, nothing found\n", total);
	return total ? 0 : 1;
}
#endif
