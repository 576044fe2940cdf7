/*
 * shard.h - which walked entries belong to this shard (`scan --shard K/N`),
 * so that N machines sharing an archive can each scan a part of it and
 * `imgscan merge` can put the parts back together as one report.
 *
 * Every machine walks the whole tree (listing is cheap; reading is not) and
 * takes the entries of its shard.  An entry's key is its path relative to
 * the PATH it was found under (README, "Sharded scans"):
 *
 *   --shard-by path (default)  shard = XXH3-64(relative path) mod N: the same
 *                              on every machine and architecture, decided by
 *                              the name alone (`printf %s REL | xxhsum -H3`)
 *   --shard-by size            a first walk lists every entry with its size;
 *                              sorted by size (largest first, then by path),
 *                              each goes to the shard with the fewest bytes
 *                              so far.  Balanced by bytes, but every shard
 *                              must see the same tree: entries the first
 *                              walk did not see fall back to the path rule
 *
 * Every entry the walk meets (files, media, links, special files) is in
 * exactly one shard, so the shards' counts add up.  A walk error is taken
 * by every shard whose walk meets it: the entries under an unlistable
 * directory are every shard's, so each shard that could not list it must
 * say so (an NFS error on one machine only), and merge lists it once.
 */
#ifndef IMGSCAN_SHARD_H
#define IMGSCAN_SHARD_H

#include "walk.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scan_options;
struct shard_plan;

/* The path relative to root (as the walk joins them); for an entry that is
 * root itself (a file named as PATH), its last component. */
const char *shard_relpath(const char *path, const char *root);
/* The documented rule: XXH3-64 of the relative path's bytes, mod count. */
unsigned shard_by_path(const char *rel, unsigned count);

/* The plan for this run's --shard (NULL without one).  With --shard-by
 * size this walks the tree first.  Returns 0, or -errno with err set. */
int shard_plan_create(const struct scan_options *opt, struct shard_plan **out, char *err, size_t errlen);
/* Called once for every entry the scan's walk meets, in walk order: true
 * when it is this shard's (a walk error always is).  Counts and digests
 * what it sees. */
bool shard_plan_take(struct shard_plan *p, const struct walk_entry *e);
/* A path under one of the run's PATHs (a catalog row, say) that is not
 * this shard's to call gone: by the path rule another shard's; with size,
 * one the first walk gave to another shard.  (What is under a walk error
 * is never called gone: every walk error is taken, and the catalog keeps
 * its own list of them.) */
bool shard_plan_foreign(const struct shard_plan *p, const char *path, size_t len);
/* Two PATHs of which one is (or is under) the other: their files would be
 * met twice, under two relative paths, so in two shards.  *a is under *b. */
bool shard_paths_overlap(const struct scan_options *opt, int *a, int *b);
/* summary.shard (SCHEMA.md): what was walked, taken and planned. */
cJSON *shard_plan_summary_json(const struct shard_plan *p);
/* run.shard: index, count, by, roots. */
cJSON *shard_run_json(const struct scan_options *opt);
void shard_plan_free(struct shard_plan *p);

#endif
