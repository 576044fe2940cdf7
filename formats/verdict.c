/*
 * verdict.c - what an image really is (its kind) and what is wrong with it
 * (findings): a name that does not fit the kind, with the name it should
 * have, and a size that does not fit the content.  Extension rules come from
 * the configuration; severities and wording are decided here.
 */
#include "verdict.h"
#include "inside.h"
#include "probe.h"
#include "../config/config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The report's names, indexed by enum image_kind. */
static const char *const kind_names[KIND_COUNT] = {
	[KIND_UNREADABLE] = "unreadable",
	[KIND_OPTICAL] = "optical",
	[KIND_RAWCD] = "raw-cd",
	[KIND_DISK] = "disk",
	[KIND_CONTAINER] = "container",
	[KIND_COMPRESSED] = "compressed",
	[KIND_EMPTY] = "empty",
	[KIND_ZERO] = "zero",
	[KIND_UNRECOGNISED] = "unrecognised",
	[KIND_ARCHIVE] = "archive",
	[KIND_INITRAMFS] = "initramfs",
	[KIND_BOOT] = "boot",
	[KIND_ENCRYPTED] = "encrypted",
	[KIND_HIGH_ENTROPY] = "high-entropy",
	[KIND_OTHER] = "other",
	[KIND_MEDIA] = "media",
};

bool image_kind_is_image(enum image_kind kind)
{
	return kind == KIND_OPTICAL || kind == KIND_RAWCD || kind == KIND_DISK || kind == KIND_CONTAINER ||
	       kind == KIND_COMPRESSED || kind == KIND_ENCRYPTED || kind == KIND_MEDIA;
}

const char *image_kind_name(enum image_kind kind)
{
	return (unsigned)kind < KIND_COUNT ? kind_names[kind] : kind_names[KIND_UNREADABLE];
}

static const struct probe_hit *first_hit(const struct ident *id, enum hit_class cls, uint64_t offset)
{
	for (int i = 0; i < id->nhits; i++)
		if (id->hits[i].cls == cls && id->hits[i].offset == offset)
			return &id->hits[i];
	return NULL;
}

static const struct probe_hit *named_hit(const struct ident *id, const char *name)
{
	for (int i = 0; i < id->nhits; i++)
		if (!strcmp(id->hits[i].name, name) && id->hits[i].offset == 0)
			return &id->hits[i];
	return NULL;
}

bool tsk_found_something(const struct tsk_result *tsk)
{
	return tsk->status == TSK_DONE && (tsk->nfs > 0 || tsk->vs_type[0]);
}

/* Append "what" to the detail line. */
static void add_detail(struct verdict *v, const char *what)
{
	size_t n = strlen(v->detail);

	snprintf(v->detail + n, sizeof(v->detail) - n, "%s%s", n ? ", " : "", what);
}

static void describe_filesystems(const struct ident *id, const struct tsk_result *tsk, struct verdict *v)
{
	if (id->scheme[0])
		add_detail(v, !strcmp(id->scheme, "gpt") ? "GPT" : "MBR");
	else if (tsk->vs_type[0])
		add_detail(v, tsk->vs_type);
	for (int i = 0; i < id->nhits; i++)
		if (id->hits[i].cls == HIT_FS || id->hits[i].cls == HIT_OPTICAL ||
		    (id->hits[i].cls == HIT_ENCRYPTED && strcmp(id->hits[i].name, "high-entropy")))
			add_detail(v, id->hits[i].name);
	if (!first_hit(id, HIT_FS, 0))
		for (uint32_t i = 0; i < tsk->nfs && i < TSK_MAX_FS; i++) {
			bool seen = false;
			for (int k = 0; k < id->nhits; k++)
				seen |= id->hits[k].cls == HIT_FS && id->hits[k].offset == tsk->fs[i].offset;
			if (!seen)
				add_detail(v, tsk->fs[i].type);
		}
}

/* Set the kind; key is the naming-rule key, NULL when it is the kind's name. */
static void set_kind(struct verdict *v, enum image_kind kind, const char *key)
{
	v->kind_id = kind;
	snprintf(v->kind_key, sizeof(v->kind_key), "%s", key ? key : image_kind_name(kind));
}

static void decide_optical(const struct ident *id, struct verdict *v)
{
	bool iso = named_hit(id, "iso9660"), udf = named_hit(id, "udf");

	set_kind(v, KIND_OPTICAL, NULL);
	add_detail(v, iso && udf ? "ISO 9660 + UDF bridge" : iso ? "ISO 9660" : "UDF");
	if (named_hit(id, "el-torito"))
		add_detail(v, "El Torito bootable");
	if (first_hit(id, HIT_PTABLE, 0))
		add_detail(v, "isohybrid (partition table in front of the volume)");
}

/* The Sleuth Kit saw nothing: for what it did not read (a stream's inside). */
static const struct tsk_result no_tsk_result;

static void decide_container(const struct probe_hit *h, const struct ident *id, const struct tsk_result *tsk,
			     struct verdict *v)
{
	const struct inside_result *in = &tsk->inside;
	const struct ident *inner = in->status == INSIDE_DONE ? &in->id : id;
	char key[40];

	snprintf(key, sizeof(key), "container:%s", !strcmp(h->name, "qcow") ? "qcow2" : h->name);
	set_kind(v, KIND_CONTAINER, key);
	add_detail(v, h->name);
	/* Our probes on the virtual disk when a worker read it; else on the
	 * file (a fixed VHD is a raw disk with a footer). */
	if (in->status == INSIDE_DONE && !in->tsk_ran)
		tsk = &no_tsk_result;
	if (tsk_found_something(tsk) || inner->nhits || inner->scheme[0]) {
		add_detail(v, "contains");
		describe_filesystems(inner, tsk, v);
	}
	if (in->backing[0])
		add_detail(v, "differencing image (backing file named inside)");
}

/* "gzip holding ISO 9660" / "zip holding cd.iso (iso9660)": an image. */
static void describe_held_image(const struct inside_result *in, struct verdict *v)
{
	char what[120];
	struct verdict inner = {0};

	for (uint32_t i = 0; i < in->nmembers && i < INSIDE_MAX_MEMBERS; i++)
		if (in->members[i].what[0]) {
			snprintf(what, sizeof(what), "holding %.60s (%s)", in->members[i].name, in->members[i].what);
			add_detail(v, what);
			return;
		}
	if (named_hit(&in->id, "iso9660") || named_hit(&in->id, "udf"))
		decide_optical(&in->id, &inner);
	else
		describe_filesystems(&in->id, &no_tsk_result, &inner);
	snprintf(what, sizeof(what), "holding %.100s", inner.detail[0] ? inner.detail : "a disk image");
	add_detail(v, what);
}

/* The archive suffix for a tar or cpio inside a compression layer. */
static void archive_ext(const char *archive, const char *layer, char *out, size_t len)
{
	static const struct { const char *layer, *ext; } short_names[] = {
		{"gzip", "gz"}, {"xz", "xz"}, {"zstd", "zst"}, {"bzip2", "bz2"}, {"lz4", "lz4"},
	};

	/* Probe names are short ("tar", "cpio"): the precisions only bound them. */
	snprintf(out, len, "%.15s", archive);
	for (size_t i = 0; layer && i < sizeof(short_names) / sizeof(short_names[0]); i++)
		if (!strcmp(layer, short_names[i].layer))
			snprintf(out, len, "%.8s.%.6s", archive, short_names[i].ext);
}

/* A compressed file or an archive: what the worker found inside decides. */
static void decide_compressed(const struct probe_hit *h, const struct tsk_result *tsk, struct verdict *v)
{
	const struct inside_result *in = &tsk->inside;
	const char *archive = NULL;
	char key[40], what[160];
	bool zip = !strcmp(h->name, "zip") || !strcmp(h->name, "7z");

	snprintf(key, sizeof(key), "compressed:%s", h->name);
	for (int i = 0; in->status == INSIDE_DONE && i < in->id.nhits && !archive; i++)
		if (in->id.hits[i].cls == HIT_ARCHIVE && in->id.hits[i].offset == 0)
			archive = in->id.hits[i].name;
	if (!archive && in->status == INSIDE_DONE && (!strcmp(in->content, "tar") || !strcmp(in->content, "cpio")))
		archive = in->content; /* named by libmagic, no probe of ours */
	if (in->status != INSIDE_DONE || inside_holds_image(in)) {
		set_kind(v, KIND_COMPRESSED, key);
		add_detail(v, h->name);
		if (in->status == INSIDE_DONE)
			describe_held_image(in, v);
		else if (in->failure[0])
			add_detail(v, "contents not examined");
	} else if (archive && !strcmp(archive, "cpio")) {
		set_kind(v, KIND_INITRAMFS, NULL);
		snprintf(what, sizeof(what), "%s-compressed cpio archive (an initramfs)", h->name);
		add_detail(v, what);
		archive_ext("cpio", h->name, v->inner_ext, sizeof(v->inner_ext));
	} else if (archive || zip) {
		set_kind(v, KIND_ARCHIVE, NULL);
		if (zip)
			snprintf(what, sizeof(what), "%s archive of %u files, none of them a disk image", h->name,
				 in->members_total);
		else
			snprintf(what, sizeof(what), "%s-compressed %s archive (files, not a disk image)", h->name, archive);
		add_detail(v, what);
		archive_ext(zip ? h->name : archive, zip ? NULL : h->name, v->inner_ext, sizeof(v->inner_ext));
	} else {
		set_kind(v, KIND_OTHER, NULL);
		snprintf(what, sizeof(what), "%s-compressed %.60s", h->name,
			 in->magic[0] ? in->magic : in->content[0] ? in->content : "data");
		add_detail(v, what);
	}
}

/* A UDF volume without ISO 9660 whose blocks are not 2048 bytes cannot go
 * on an optical disc: mkudffs --media-type=hd writes such disks. */
static bool udf_disk_layout(const struct ident *id)
{
	const struct probe_hit *udf = named_hit(id, "udf");

	return udf && !named_hit(id, "iso9660") && udf->block_size && udf->block_size != 2048;
}

/* What libmagic said a file none of our probes knows is, when it names
 * something definite (not "data"). */
static bool named_by_magic(const struct tsk_result *tsk)
{
	const char *c = tsk->inside.content;

	return tsk->inside.status == INSIDE_DONE && c[0] && strcmp(c, "data") && strcmp(c, "other") &&
	       strcmp(c, "empty");
}

static void decide_other(const struct tsk_result *tsk, struct verdict *v)
{
	static const struct { const char *content, *ext; } exts[] = {
		{"html", "html"}, {"xml", "xml"}, {"text", "txt"}, {"pdf", "pdf"}, {"postscript", "ps"},
		{"tar", "tar"}, {"cpio", "cpio"}, {"debian-package", "deb"}, {"rpm", "rpm"},
	};
	const char *c = tsk->inside.content;

	set_kind(v, KIND_OTHER, NULL);
	add_detail(v, tsk->inside.magic[0] ? tsk->inside.magic : c);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!strcmp(c, exts[i].content))
			snprintf(v->inner_ext, sizeof(v->inner_ext), "%s", exts[i].ext);
}

static void decide_by_hit_class(const struct probe_hit *h, struct verdict *v)
{
	char what[200];

	if (h->cls == HIT_ARCHIVE) {
		bool cpio = !strcmp(h->name, "cpio");
		set_kind(v, cpio ? KIND_INITRAMFS : KIND_ARCHIVE, NULL);
		add_detail(v, cpio ? "cpio archive (an initramfs)" : "tar archive (files, not a disk image)");
		snprintf(v->inner_ext, sizeof(v->inner_ext), "%.15s", h->name);
		return;
	}
	set_kind(v, h->cls == HIT_BOOT ? KIND_BOOT : !strcmp(h->name, "high-entropy") ? KIND_HIGH_ENTROPY
										   : KIND_ENCRYPTED, NULL);
	snprintf(what, sizeof(what), "%s%s%s", h->name, h->detail[0] ? ": " : "", h->detail);
	add_detail(v, what);
}

/* The kind, from the strongest evidence first. */
static void decide_kind(const struct ident *id, const struct tsk_result *tsk, const struct verdict_input *in,
			struct verdict *v)
{
	const struct probe_hit *h;

	if (in->size == 0 && in->size_known) {
		set_kind(v, KIND_EMPTY, NULL);
	} else if ((h = first_hit(id, HIT_CONTAINER, 0))) {
		decide_container(h, id, tsk, v);
	} else if ((h = first_hit(id, HIT_COMPRESSED, 0))) {
		decide_compressed(h, tsk, v);
	} else if ((h = first_hit(id, HIT_ARCHIVE, 0)) || (h = first_hit(id, HIT_BOOT, 0)) ||
		   ((h = first_hit(id, HIT_ENCRYPTED, 0)) && strcmp(h->name, "high-entropy"))) {
		decide_by_hit_class(h, v);
	} else if ((h = first_hit(id, HIT_RAWCD, 0))) {
		set_kind(v, KIND_RAWCD, NULL);
		add_detail(v, h->detail);
	} else if (udf_disk_layout(id)) {
		char what[64];
		set_kind(v, KIND_DISK, NULL);
		snprintf(what, sizeof(what), "UDF, hard-disk layout (%u-byte blocks)", named_hit(id, "udf")->block_size);
		add_detail(v, what);
	} else if (named_hit(id, "iso9660") || named_hit(id, "udf")) {
		decide_optical(id, v);
	} else if ((h = first_hit(id, HIT_ENCRYPTED, 0)) && id->nhits == 1 && !tsk_found_something(tsk)) {
		decide_by_hit_class(h, v); /* high-entropy, nothing else */
	} else if (id->nhits || tsk_found_something(tsk)) {
		set_kind(v, KIND_DISK, NULL);
		describe_filesystems(id, tsk, v);
	} else if (in->all_zero) {
		set_kind(v, KIND_ZERO, NULL);
	} else if (!in->size_known && in->size > 0) {
		set_kind(v, KIND_UNREADABLE, NULL);
	} else if (named_by_magic(tsk)) {
		decide_other(tsk, v);
	} else {
		set_kind(v, KIND_UNRECOGNISED, NULL);
	}
}

struct finding *verdict_add_finding(struct verdict *v, const char *code, const char *severity)
{
	struct finding *f;

	if (v->nfindings >= VERDICT_MAX_FINDINGS)
		return NULL;
	f = &v->findings[v->nfindings++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->severity = severity;
	return f;
}

/* Is ext one some compressor's rule accepts ("gz", "xz", "zip")? */
static bool compression_ext(const struct imgscan_config *cfg, const char *ext)
{
	for (size_t i = 0; ext[0] && i < cfg->nrules; i++)
		if (!strncmp(cfg->rules[i].key, "compressed:", 11) && naming_rule_accepts(&cfg->rules[i], ext))
			return true;
	return false;
}

/* The file name with its extension replaced (or appended to: a
 * compressor's extension; one that names another compressor is replaced,
 * disk.img.gz holding xz becomes disk.img.xz). */
static void suggest_name(const struct verdict_input *in, const struct naming_rule *rule,
			 const struct imgscan_config *cfg, char *out, size_t len)
{
	size_t stem = strlen(in->basename);

	if (rule->append[0] && !compression_ext(cfg, in->ext)) {
		snprintf(out, len, "%s.%s", in->basename, rule->append);
		return;
	}
	if (in->ext[0])
		stem -= strlen(in->ext) + 1;
	snprintf(out, len, "%.*s.%s", (int)stem, in->basename, rule->append[0] ? rule->append : rule->suggest);
}

static bool ext_is(const char *ext, const char *want)
{
	return !strcasecmp(ext, want);
}

/* The file name with its extension replaced by ext. */
static void replace_ext(const struct verdict_input *in, const char *ext, char *out, size_t len)
{
	size_t stem = strlen(in->basename);

	if (in->ext[0])
		stem -= strlen(in->ext) + 1;
	snprintf(out, len, "%.*s.%s", (int)stem, in->basename, ext);
}

/* Why content of this sort is where an image should be. */
static const char *other_hint(const char *content)
{
	if (!strcmp(content, "html"))
		return ": a web page saved under the image's name, usually a failed download";
	if (!strcmp(content, "text"))
		return ": a text file";
	if (!strcmp(content, "executable"))
		return ": an executable program";
	return "";
}

/* Kinds that are not images, named as one: an archive of files, a web
 * page, a compressed image named as the image itself.  True when the
 * finding was made (or there was no room). */
static bool not_image_finding(const struct tsk_result *tsk, const struct verdict_input *in,
			      const struct imgscan_config *cfg, struct verdict *v)
{
	const struct naming_rule *optical = config_rule(cfg, "optical"), *rule = config_rule(cfg, v->kind_key);
	bool on_optical = optical && naming_rule_accepts(optical, in->ext);
	const char *ext = in->ext[0] ? in->ext : "(none)";
	struct finding *f;

	if (v->kind_id == KIND_ARCHIVE && !on_optical) {
		if ((f = verdict_add_finding(v, "ARCHIVE_MISNAMED", "medium"))) {
			snprintf(f->message, sizeof(f->message), "%s named .%s: it holds files, not a disk; name it .%s",
				 v->detail, ext, v->inner_ext);
			replace_ext(in, v->inner_ext, f->suggested_name, sizeof(f->suggested_name));
		}
		return true;
	}
	if (!(v->kind_id == KIND_OTHER || v->kind_id == KIND_ARCHIVE ||
	      (on_optical && (v->kind_id == KIND_COMPRESSED || v->kind_id == KIND_INITRAMFS || v->kind_id == KIND_BOOT))))
		return false;
	/* Medium where a disc was expected, or for a web page (a failed
	 * download); other programs name their own files .dd, .raw or .img
	 * (Data::Dumper dumps, raw audio): there, an info note. */
	if (!(f = verdict_add_finding(v, "NOT_AN_IMAGE", on_optical || v->kind_id != KIND_OTHER ||
						    !strcmp(tsk->inside.content, "html") ? "medium" : "info")))
		return true;
	snprintf(f->message, sizeof(f->message), "named .%s but not %s image: %s%s", ext,
		 on_optical ? "an optical disc" : "a disk", v->detail,
		 v->kind_id == KIND_OTHER ? other_hint(tsk->inside.content) : "");
	if (!strcmp(f->severity, "info"))
		return true; /* a note, not a claim that the name is wrong */
	if (v->kind_id == KIND_COMPRESSED && rule && rule->append[0])
		suggest_name(in, rule, cfg, f->suggested_name, sizeof(f->suggested_name));
	else if (v->inner_ext[0])
		replace_ext(in, v->inner_ext, f->suggested_name, sizeof(f->suggested_name));
	return true;
}

static void naming_finding(const struct ident *id, const struct tsk_result *tsk, const struct verdict_input *in,
			   const struct imgscan_config *cfg, struct verdict *v)
{
	const struct naming_rule *rule = config_rule(cfg, v->kind_key);
	const struct naming_rule *optical = config_rule(cfg, "optical");
	const char *ext = in->ext[0] ? in->ext : "(none)";
	struct finding *f;

	if (not_image_finding(tsk, in, cfg, v) || !rule || naming_rule_accepts(rule, in->ext))
		return;
	if (v->kind_id == KIND_OPTICAL && first_hit(id, HIT_PTABLE, 0)) {
		if (!(f = verdict_add_finding(v, "ISOHYBRID_MISNAMED", "low")))
			return;
		snprintf(f->message, sizeof(f->message),
			 "isohybrid ISO 9660 image named .%s: rename to .%s for optical use; harmless as it is, it also boots when written raw to a USB stick",
			 ext, rule->suggest);
	} else if (v->kind_id == KIND_OPTICAL) {
		if (!(f = verdict_add_finding(v, "ISO_MISNAMED", "medium")))
			return;
		snprintf(f->message, sizeof(f->message), "%s image named .%s: it is an ISO image; just rename it to .%s",
			 v->detail, ext, rule->suggest);
	} else if (v->kind_id == KIND_RAWCD) {
		if (!(f = verdict_add_finding(v, ext_is(in->ext, "iso") ? "RAWCD_NAMED_ISO" : "RAWCD_MISNAMED", "high")))
			return;
		snprintf(f->message, sizeof(f->message),
			 "raw CD image with 2352-byte sectors named .%s: not an ISO 9660 image; it needs conversion (imgscan convert FILE OUT.iso), not a rename; keep it as .%s",
			 ext, rule->suggest);
	} else if ((v->kind_id == KIND_DISK || v->kind_id == KIND_ENCRYPTED) && optical &&
		   naming_rule_accepts(optical, in->ext)) {
		if (!(f = verdict_add_finding(v, "DISK_NAMED_OPTICAL", "medium")))
			return;
		snprintf(f->message, sizeof(f->message),
			 "raw disk image (%s) named .%s: it is not an ISO 9660/UDF image; rename it to .%s",
			 v->detail, ext, rule->suggest);
	} else if (v->kind_id == KIND_CONTAINER || v->kind_id == KIND_COMPRESSED) {
		bool container = v->kind_id == KIND_CONTAINER;
		if (!(f = verdict_add_finding(v, container ? "CONTAINER_MISNAMED" : "COMPRESSED_MISNAMED", "medium")))
			return;
		snprintf(f->message, sizeof(f->message), "%s file named .%s: %s", v->detail, ext,
			 container ? "a virtual-disk container, not a raw image; name it for its format"
				   : "compressed; decompress it before use, and name it for what it is");
	} else {
		if (!(f = verdict_add_finding(v, "EXTENSION_MISMATCH", "low")))
			return;
		snprintf(f->message, sizeof(f->message), "%s image (%s) named .%s", image_kind_name(v->kind_id),
			 v->detail, ext);
	}
	suggest_name(in, rule, cfg, f->suggested_name, sizeof(f->suggested_name));
}

/* The furthest byte any structure claims, and what claims it.  Sums and
 * products saturate (probe.h): SIZE_OVERFLOW when a structure claims more
 * than 64 bits hold, never a wrapped, small end. */
static uint64_t content_end(const struct ident *id, const struct tsk_result *tsk, const char **who)
{
	uint64_t end = 0, e;

	for (int i = 0; i < id->nhits; i++) {
		const struct probe_hit *h = &id->hits[i];
		if (h->claimed_size && (e = size_add(h->offset, h->claimed_size)) > end) {
			end = e;
			*who = h->name;
		}
	}
	for (int i = 0; i < id->nparts; i++)
		if ((e = size_add(id->parts[i].start, id->parts[i].length)) > end) {
			end = e;
			*who = "a partition";
		}
	for (uint32_t i = 0; tsk->status == TSK_DONE && i < tsk->nfs && i < TSK_MAX_FS; i++) {
		const struct tsk_fs *fs = &tsk->fs[i];
		e = size_add(fs->offset, size_mul(size_add(fs->last_block, 1), fs->block_size));
		if (fs->block_size && e > end) {
			end = e;
			*who = fs->type;
		}
	}
	return end;
}

static void truncated_message(struct finding *f, const char *who, uint64_t end, uint64_t size)
{
	if (end == SIZE_OVERFLOW)
		snprintf(f->message, sizeof(f->message),
			 "%s claims more bytes than any disk holds (its size overflows 64 bits) but the file has %llu: a damaged or crafted size field",
			 who, (unsigned long long)size);
	else
		snprintf(f->message, sizeof(f->message),
			 "%s claims %llu bytes but the file has only %llu (%llu missing): a truncated copy or download",
			 who, (unsigned long long)end, (unsigned long long)size, (unsigned long long)(end - size));
}

static void integrity_findings(const struct ident *id, const struct tsk_result *tsk, const struct verdict_input *in,
			       const struct imgscan_config *cfg, struct verdict *v)
{
	const char *who = "?";
	uint64_t end, slack;
	struct finding *f;

	bool cut_only = v->kind_id == KIND_BOOT || v->kind_id == KIND_ARCHIVE || v->kind_id == KIND_INITRAMFS ||
			v->kind_id == KIND_ENCRYPTED;

	if (v->kind_id != KIND_OPTICAL && v->kind_id != KIND_RAWCD && v->kind_id != KIND_DISK && !cut_only)
		return; /* containers and compressed files hold other sizes */
	end = content_end(id, tsk, &who);
	v->content_bytes = end;
	if (!end)
		return;
	if (end > in->size) {
		if ((f = verdict_add_finding(v, "TRUNCATED", "high")))
			truncated_message(f, who, end, in->size);
		return;
	}
	if (cut_only)
		return; /* signatures, footers and padding follow these: no slack finding */
	slack = size_mul(end / 100, cfg->trailing_slack_pct);
	if (slack < cfg->trailing_slack_min)
		slack = cfg->trailing_slack_min;
	if (in->size - end > slack &&
	    (f = verdict_add_finding(v, "TRAILING_DATA", v->kind_id != KIND_DISK ? "low" : "info")))
		snprintf(f->message, sizeof(f->message),
			 "the file is %llu bytes longer than its content accounts for (%llu bytes, up to the end of %s): appended data, or unallocated space",
			 (unsigned long long)(in->size - end), (unsigned long long)end, who);
}

static void content_findings(const struct verdict_input *in, const struct tsk_result *tsk, struct verdict *v)
{
	struct finding *f;

	if (v->kind_id == KIND_EMPTY && (f = verdict_add_finding(v, "EMPTY_FILE", "medium")))
		snprintf(f->message, sizeof(f->message), "the file is empty: a failed copy or download?");
	else if (v->kind_id == KIND_ZERO && (f = verdict_add_finding(v, "ALL_ZERO", "low")))
		snprintf(f->message, sizeof(f->message), "all %llu bytes are zero: nothing to identify",
			 (unsigned long long)in->size);
	else if (v->kind_id == KIND_UNRECOGNISED && (f = verdict_add_finding(v, "UNRECOGNISED", "low")))
		snprintf(f->message, sizeof(f->message), "no known partition table, file system or container");
	else if (v->kind_id == KIND_ENCRYPTED && (f = verdict_add_finding(v, "ENCRYPTED_VOLUME", "info")))
		snprintf(f->message, sizeof(f->message),
			 "an encrypted volume (%s): what it holds cannot be identified without its key", v->detail);
	else if (v->kind_id == KIND_HIGH_ENTROPY && (f = verdict_add_finding(v, "HIGH_ENTROPY", "info")))
		snprintf(f->message, sizeof(f->message),
			 "no structure and random-looking bytes (%.100s): an encrypted volume without a header (VeraCrypt, TrueCrypt), media wiped with random data, or compressed data of a format not known here",
			 v->detail);
	/* A container with a failure but done is a differencing image whose
	 * parent is elsewhere: said in inside, not a finding. */
	if ((tsk->inside.status == INSIDE_FAILED || tsk->inside.truncated ||
	     (tsk->inside.failure[0] && v->kind_id == KIND_COMPRESSED)) &&
	    strcmp(tsk->inside.layer, "magic") && strncmp(tsk->inside.failure, "the worker ", 11) &&
	    (f = verdict_add_finding(v, "INSIDE_UNREADABLE", "low")))
		snprintf(f->message, sizeof(f->message), "what the %s holds cannot be read: %s%s", tsk->inside.layer,
			 tsk->inside.failure, tsk->inside.truncated ? " (it ends early: a cut copy?)" : "");
}

/* Where our probes and The Sleuth Kit name different file systems at the
 * same offset, say who said what. */
static void agreement_findings(const struct ident *id, const struct tsk_result *tsk, struct verdict *v)
{
	for (uint32_t i = 0; tsk->status == TSK_DONE && i < tsk->nfs && i < TSK_MAX_FS; i++)
		for (int k = 0; k < id->nhits; k++) {
			const struct probe_hit *h = &id->hits[k];
			struct finding *f;
			if (h->cls != HIT_FS || h->offset != tsk->fs[i].offset || !strcmp(h->name, tsk->fs[i].type))
				continue;
			if (!strncmp(h->name, "hfs", 3) && !strcmp(tsk->fs[i].type, "hfs"))
				continue; /* TSK calls HFS+ "hfs" */
			if ((f = verdict_add_finding(v, "SOURCES_DISAGREE", "info")))
				snprintf(f->message, sizeof(f->message),
					 "at byte %llu our probe says %s, The Sleuth Kit says %s",
					 (unsigned long long)h->offset, h->name, tsk->fs[i].type);
		}
}

void verdict_decide(const struct ident *id, const struct tsk_result *tsk, const struct verdict_input *in,
		    const struct imgscan_config *cfg, struct verdict *out)
{
	memset(out, 0, sizeof(*out));
	decide_kind(id, tsk, in, out);
	verdict_acquisition(&tsk->acq, out); /* first: the most severe there is */
	/* Nothing read: the error says it all. */
	if (in->size_known || id->nhits) {
		/* Media is named as its acquisition tool names segments: no rule applies. */
		if (!in->is_device && !in->media)
			naming_finding(id, tsk, in, cfg, out);
		if (in->size_known)
			integrity_findings(id, tsk, in, cfg, out);
		content_findings(in, tsk, out);
		agreement_findings(id, tsk, out);
	}
	if (in->media)
		verdict_media(in->media, tsk, out);
}
