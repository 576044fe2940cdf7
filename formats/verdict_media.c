/*
 * verdict_media.c - what is wrong with evidence media as a whole: segments
 * missing or of the wrong size, and, for EWF, the media no longer matching
 * the hashes taken at acquisition, or chunks failing their checksums.
 */
#include "verdict.h"

#include <stdio.h>
#include <string.h>

static void describe_media(const struct verdict_media *m, struct verdict *v)
{
	char detail[sizeof(v->detail)];

	snprintf(detail, sizeof(detail), "%s, %u segments%s%.120s", strcmp(m->scheme, "ewf") ? "split raw" : "EWF",
		 m->segments, v->detail[0] ? ": " : "", v->detail);
	memcpy(v->detail, detail, sizeof(v->detail));
}

/* An EWF set is a container of a disk: say what the disk is. */
static enum image_kind content_of(const struct verdict_media *m, const struct tsk_result *tsk, enum image_kind kind)
{
	if (strcmp(m->scheme, "ewf") || kind != KIND_CONTAINER)
		return kind;
	for (uint32_t i = 0; i < tsk->nfs && i < TSK_MAX_FS; i++)
		if (!strcmp(tsk->fs[i].type, "iso9660") && tsk->fs[i].offset == 0)
			return KIND_OPTICAL;
	return tsk_found_something(tsk) ? KIND_DISK : KIND_UNRECOGNISED;
}

void verdict_media(const struct verdict_media *m, const struct tsk_result *tsk, struct verdict *v)
{
	struct finding *f;

	v->content_kind = content_of(m, tsk, v->kind_id);
	v->kind_id = KIND_MEDIA;
	snprintf(v->kind_key, sizeof(v->kind_key), "media");
	describe_media(m, v);
	if (m->gaps && (f = verdict_add_finding(v, "SEGMENT_MISSING", "high")))
		snprintf(f->message, sizeof(f->message),
			 "%u segment%s of the set missing, the first %.200s: the media is incomplete", m->gaps,
			 m->gaps == 1 ? "" : "s", m->first_gap ? m->first_gap : "?");
	if (m->wrong_sizes && (f = verdict_add_finding(v, "SEGMENT_SIZE", "medium")))
		snprintf(f->message, sizeof(f->message),
			 "%u segment%s not of the set's size, the first %.200s: %llu bytes where the others have %llu (cut short, or not of this set?)",
			 m->wrong_sizes, m->wrong_sizes == 1 ? "" : "s", m->first_wrong ? m->first_wrong : "?",
			 (unsigned long long)m->first_wrong_size, (unsigned long long)m->expected_size);
}

static const char *match_word(int match)
{
	return match == EWF_HASH_MATCH ? "matches" : match == EWF_HASH_MISMATCH ? "DOES NOT MATCH" : "";
}

static void hash_findings(const struct ewf_acquisition *q, struct verdict *v)
{
	struct finding *f;

	if (q->md5_match == EWF_HASH_MISMATCH || q->sha1_match == EWF_HASH_MISMATCH) {
		if ((f = verdict_add_finding(v, "ACQUISITION_HASH_MISMATCH", "critical")))
			snprintf(f->message, sizeof(f->message),
				 "the media read now is not what was acquired: MD5 %s (stored %s, now %s)%s%s",
				 match_word(q->md5_match), q->stored_md5[0] ? q->stored_md5 : "none", q->md5,
				 q->sha1_match == EWF_HASH_MISMATCH ? ", SHA-1 DOES NOT MATCH" : "",
				 q->sha1_match == EWF_HASH_MATCH ? ", SHA-1 matches" : "");
	} else if (q->md5_match == EWF_HASH_MATCH || q->sha1_match == EWF_HASH_MATCH) {
		if ((f = verdict_add_finding(v, "ACQUISITION_VERIFIED", "info")))
			snprintf(f->message, sizeof(f->message), "the media matches its acquisition hash%s%s%s",
				 q->md5_match == EWF_HASH_MATCH ? " (MD5" : " (", q->sha1_match == EWF_HASH_MATCH
				 ? (q->md5_match == EWF_HASH_MATCH ? " and SHA-1" : "SHA-1") : "", ")");
	} else if (q->status == EWF_ACQ_DONE && (f = verdict_add_finding(v, "ACQUISITION_HASH_ABSENT", "low"))) {
		snprintf(f->message, sizeof(f->message), "the EWF file stores no MD5 or SHA-1 of the media: nothing to verify it against");
	}
}

void verdict_acquisition(const struct ewf_acquisition *q, struct verdict *v)
{
	struct finding *f;

	if (q->status == EWF_ACQ_NONE)
		return;
	if (q->status != EWF_ACQ_DONE && (f = verdict_add_finding(v, "EWF_UNREADABLE", "high")))
		snprintf(f->message, sizeof(f->message), "%s%.200s",
			 q->status == EWF_ACQ_OPEN_FAILED ? "libewf cannot open the segments: "
							  : "libewf could not read the media to the end: ",
			 q->error);
	if (q->checksum_errors && (f = verdict_add_finding(v, "EWF_CHECKSUM_ERROR", "high")))
		snprintf(f->message, sizeof(f->message),
			 "%u range%s of chunks fail%s their checksum, the first at sector %llu (%llu sectors)",
			 q->checksum_errors, q->checksum_errors == 1 ? "" : "s", q->checksum_errors == 1 ? "s" : "",
			 (unsigned long long)q->bad[0].first_sector, (unsigned long long)q->bad[0].sectors);
	hash_findings(q, v);
}
