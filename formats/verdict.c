/*
 * verdict.c - what an image really is (its kind) and what is wrong with it
 * (findings): a name that does not fit the kind, with the name it should
 * have, and a size that does not fit the content.  Extension rules come from
 * the configuration; severities and wording are decided here.
 */
#include "verdict.h"
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
};

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

static bool tsk_found_something(const struct tsk_result *tsk)
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
	if (id->scheme)
		add_detail(v, !strcmp(id->scheme, "gpt") ? "GPT" : "MBR");
	else if (tsk->vs_type[0])
		add_detail(v, tsk->vs_type);
	for (int i = 0; i < id->nhits; i++)
		if (id->hits[i].cls == HIT_FS)
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

/* The kind, from the strongest evidence first. */
static void decide_kind(const struct ident *id, const struct tsk_result *tsk, const struct verdict_input *in,
			struct verdict *v)
{
	const struct probe_hit *h;
	char key[40];

	if (in->size == 0 && in->size_known) {
		set_kind(v, KIND_EMPTY, NULL);
	} else if ((h = first_hit(id, HIT_CONTAINER, 0))) {
		snprintf(key, sizeof(key), "container:%s", !strcmp(h->name, "qcow") ? "qcow2" : h->name);
		set_kind(v, KIND_CONTAINER, key);
		add_detail(v, h->name);
		if (tsk_found_something(tsk) || first_hit(id, HIT_FS, 0) || id->scheme) {
			add_detail(v, "contains");
			describe_filesystems(id, tsk, v);
		}
	} else if ((h = first_hit(id, HIT_COMPRESSED, 0))) {
		snprintf(key, sizeof(key), "compressed:%s", h->name);
		set_kind(v, KIND_COMPRESSED, key);
		add_detail(v, h->name);
	} else if ((h = first_hit(id, HIT_RAWCD, 0))) {
		set_kind(v, KIND_RAWCD, NULL);
		add_detail(v, h->detail);
	} else if (named_hit(id, "iso9660") || named_hit(id, "udf")) {
		decide_optical(id, v);
	} else if (id->nhits || tsk_found_something(tsk)) {
		set_kind(v, KIND_DISK, NULL);
		describe_filesystems(id, tsk, v);
	} else if (in->all_zero) {
		set_kind(v, KIND_ZERO, NULL);
	} else if (!in->size_known && in->size > 0) {
		set_kind(v, KIND_UNREADABLE, NULL);
	} else {
		set_kind(v, KIND_UNRECOGNISED, NULL);
	}
}

static struct finding *add_finding(struct verdict *v, const char *code, const char *severity)
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

/* The file name with its extension replaced (or appended to). */
static void suggest_name(const struct verdict_input *in, const struct naming_rule *rule, char *out, size_t len)
{
	size_t stem = strlen(in->basename);

	if (rule->append[0]) {
		snprintf(out, len, "%s.%s", in->basename, rule->append);
		return;
	}
	if (in->ext[0])
		stem -= strlen(in->ext) + 1;
	snprintf(out, len, "%.*s.%s", (int)stem, in->basename, rule->suggest);
}

static bool ext_is(const char *ext, const char *want)
{
	return !strcasecmp(ext, want);
}

static void naming_finding(const struct ident *id, const struct verdict_input *in,
			   const struct imgscan_config *cfg, struct verdict *v)
{
	const struct naming_rule *rule = config_rule(cfg, v->kind_key);
	const struct naming_rule *optical = config_rule(cfg, "optical");
	const char *ext = in->ext[0] ? in->ext : "(none)";
	struct finding *f;

	if (!rule || naming_rule_accepts(rule, in->ext))
		return;
	if (v->kind_id == KIND_OPTICAL && first_hit(id, HIT_PTABLE, 0)) {
		if (!(f = add_finding(v, "ISOHYBRID_MISNAMED", "low")))
			return;
		snprintf(f->message, sizeof(f->message),
			 "isohybrid ISO 9660 image named .%s: rename to .%s for optical use; harmless as it is, it also boots when written raw to a USB stick",
			 ext, rule->suggest);
	} else if (v->kind_id == KIND_OPTICAL) {
		if (!(f = add_finding(v, "ISO_MISNAMED", "medium")))
			return;
		snprintf(f->message, sizeof(f->message), "%s image named .%s: it is an ISO image; just rename it to .%s",
			 v->detail, ext, rule->suggest);
	} else if (v->kind_id == KIND_RAWCD) {
		if (!(f = add_finding(v, ext_is(in->ext, "iso") ? "RAWCD_NAMED_ISO" : "RAWCD_MISNAMED", "high")))
			return;
		snprintf(f->message, sizeof(f->message),
			 "raw CD image with 2352-byte sectors named .%s: not an ISO 9660 image; it needs conversion (e.g. bchunk with a .cue sheet), not a rename; keep it as .%s",
			 ext, rule->suggest);
	} else if (v->kind_id == KIND_DISK && optical && naming_rule_accepts(optical, in->ext)) {
		if (!(f = add_finding(v, "DISK_NAMED_OPTICAL", "medium")))
			return;
		snprintf(f->message, sizeof(f->message),
			 "raw disk image (%s) named .%s: it is not an ISO 9660/UDF image; rename it to .%s",
			 v->detail, ext, rule->suggest);
	} else if (v->kind_id == KIND_CONTAINER || v->kind_id == KIND_COMPRESSED) {
		bool container = v->kind_id == KIND_CONTAINER;
		if (!(f = add_finding(v, container ? "CONTAINER_MISNAMED" : "COMPRESSED_MISNAMED", "medium")))
			return;
		snprintf(f->message, sizeof(f->message), "%s file named .%s: %s", v->detail, ext,
			 container ? "a virtual-disk container, not a raw image; name it for its format"
				   : "compressed; decompress it before use, and name it for what it is");
	} else {
		if (!(f = add_finding(v, "EXTENSION_MISMATCH", "low")))
			return;
		snprintf(f->message, sizeof(f->message), "%s image (%s) named .%s", image_kind_name(v->kind_id),
			 v->detail, ext);
	}
	suggest_name(in, rule, f->suggested_name, sizeof(f->suggested_name));
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

	if (v->kind_id != KIND_OPTICAL && v->kind_id != KIND_RAWCD && v->kind_id != KIND_DISK)
		return; /* containers and compressed files hold other sizes */
	end = content_end(id, tsk, &who);
	v->content_bytes = end;
	if (!end)
		return;
	if (end > in->size) {
		if ((f = add_finding(v, "TRUNCATED", "high")))
			truncated_message(f, who, end, in->size);
		return;
	}
	slack = size_mul(end / 100, cfg->trailing_slack_pct);
	if (slack < cfg->trailing_slack_min)
		slack = cfg->trailing_slack_min;
	if (in->size - end > slack &&
	    (f = add_finding(v, "TRAILING_DATA", v->kind_id != KIND_DISK ? "low" : "info")))
		snprintf(f->message, sizeof(f->message),
			 "the file is %llu bytes longer than its content accounts for (%llu bytes, up to the end of %s): appended data, or unallocated space",
			 (unsigned long long)(in->size - end), (unsigned long long)end, who);
}

static void content_findings(const struct verdict_input *in, struct verdict *v)
{
	struct finding *f;

	if (v->kind_id == KIND_EMPTY && (f = add_finding(v, "EMPTY_FILE", "medium")))
		snprintf(f->message, sizeof(f->message), "the file is empty: a failed copy or download?");
	else if (v->kind_id == KIND_ZERO && (f = add_finding(v, "ALL_ZERO", "low")))
		snprintf(f->message, sizeof(f->message), "all %llu bytes are zero: nothing to identify",
			 (unsigned long long)in->size);
	else if (v->kind_id == KIND_UNRECOGNISED && (f = add_finding(v, "UNRECOGNISED", "low")))
		snprintf(f->message, sizeof(f->message), "no known partition table, file system or container");
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
			if ((f = add_finding(v, "SOURCES_DISAGREE", "info")))
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
	if (!in->size_known && !id->nhits)
		return; /* nothing was read: the error says it all */
	if (!in->is_device)
		naming_finding(id, in, cfg, out);
	if (in->size_known)
		integrity_findings(id, tsk, in, cfg, out);
	content_findings(in, out);
	agreement_findings(id, tsk, out);
}
