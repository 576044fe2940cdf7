/*
 * options.h - the frozen options of one run, filled by the command line.
 *
 * After options_parse() returns, nothing writes to struct scan_options: every
 * thread may read it without a lock.
 */
#ifndef IMGSCAN_OPTIONS_H
#define IMGSCAN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define EXIT_CLEAN 0
#define EXIT_FINDINGS 1
#define EXIT_ERRORS 2
#define EXIT_USAGE 64
#define EXIT_LOCKED 75 /* EX_TEMPFAIL: another run holds the catalog */

enum io_choice { IO_AUTO, IO_URING, IO_PREAD };

/* Where the bytes come from.  auto: blocks already in the page cache are
 * copied from it, the rest read with O_DIRECT (so a scan neither fills the
 * cache nor evicts what others cached); buffered: everything through the
 * page cache, blocks we brought in dropped again after hashing; direct:
 * everything with O_DIRECT. */
enum read_mode { READ_AUTO, READ_BUFFERED, READ_DIRECT };
extern const char *const read_mode_names[3];

/* Cryptographic whole-image digests, besides XXH128 (--hash). */
enum crypto_hash { HASH_MD5, HASH_SHA1, HASH_SHA256, HASH_COUNT };
#define HASH_HEX_MAX 65
extern const char *const crypto_hash_names[HASH_COUNT];
enum out_format { FMT_JSON, FMT_JSONL, FMT_CASE };
extern const char *const format_names[3];
/* --inside: how far to look inside compressed files and containers. */
enum inside_mode { INSIDE_HEAD, INSIDE_NONE, INSIDE_FULL };
extern const char *const inside_mode_names[3];
/* --shard-by: how entries are divided among shards (scanner/shard.h). */
enum shard_by { SHARD_BY_PATH, SHARD_BY_SIZE };
extern const char *const shard_by_names[2];

struct scan_options {
	char **paths;              /* PATH... (argv storage) */
	int npaths;
	const char *output;        /* NULL or "-": stdout; strftime fields already expanded */
	char output_expanded[4096];/* storage for output when -o held strftime fields */
	enum out_format format;
	unsigned jobs;             /* hashing worker threads */
	unsigned queue_depth;      /* reads in flight at most (read buffers: 1.5 x) */
	bool queue_depth_set;      /* given by the user: not adapted (scanner/adapt.h) */
	size_t read_size;          /* bytes per read, a multiple of sector_size */
	unsigned sector_size;
	unsigned max_images;       /* images streamed at once, at most */
	bool max_images_set;       /* given by the user: not adapted */
	enum io_choice io;
	enum read_mode read_mode;
	bool no_fixed_buffers;     /* do not register the buffers with io_uring */
	const char *sector_hash_dir;
	bool all_files;
	bool follow_symlinks;
	bool quiet;
	bool no_tsk;
	enum inside_mode inside;    /* default INSIDE_HEAD */
	unsigned crypto_mask;      /* --hash: bits 1 << HASH_MD5, HASH_SHA1, HASH_SHA256 */
	const char *config_path;
	const char *state_path;    /* --state FILE (or the config's "state"), NULL: no catalog */
	bool rehash;               /* read everything again, refresh the catalog */
	bool wait_lock;            /* --wait: wait for another run's catalog lock */
	bool evidence;             /* --evidence: the tree is evidence (run.options.evidence; rename refuses it) */
	unsigned tsk_timeout_s;    /* 0: from config */
	unsigned read_timeout_s;   /* a read given up on after this long; 0: never */
	bool read_timeout_set;     /* --read-timeout given (else the config's) */
	unsigned tsk_memory_mib;   /* 0: from config */
	unsigned tsk_workers;      /* 0: from config, then -j */
	unsigned shard_index;      /* --shard K/N: K (0-based) */
	unsigned shard_count;      /* N; 0: no --shard, the whole tree */
	enum shard_by shard_by;
	bool shard_by_set;         /* --shard-by given (it needs --shard) */
	int argc;                  /* the whole command line, for the report */
	char **argv;
	const char *command;       /* "scan" or "verify": named in usage errors */
};

/* Parse argv.  Returns 0 to run a scan, or an exit status (0 after --help,
 * EXIT_USAGE after a usage error, already explained on stderr).  --version
 * is main.c's (it asks the kernel and the libraries). */
int options_parse(int argc, char **argv, struct scan_options *opt, int *exit_now);

/* For the other commands' parsers (verify/), which take a subset of scan's
 * options and must read each the same way. */

/* The long options' codes, shared by every command's getopt table. */
enum option_code {
	OPT_FORMAT = 256, OPT_SECTOR_HASHES, OPT_ALL_FILES, OPT_FOLLOW, OPT_CONFIG,
	OPT_PRINT_CONFIG, OPT_IO, OPT_DIRECT, OPT_QD, OPT_READ_SIZE, OPT_IMAGES,
	OPT_SECTOR_SIZE, OPT_NO_TSK, OPT_HASH, OPT_NO_FIXED, OPT_READ_MODE, OPT_TSK_TIMEOUT, OPT_TSK_MEMORY,
	OPT_TSK_WORKERS, OPT_STATE, OPT_REHASH, OPT_WAIT, OPT_INSIDE, OPT_SHARD, OPT_SHARD_BY, OPT_READ_TIMEOUT,
	OPT_EVIDENCE,
};

/* The defaults of every option; command names the command in usage errors. */
void options_defaults(struct scan_options *opt, const char *command, int argc, char **argv);
/* One option as scan reads it (c: a short option or an option_code; 'h'
 * prints scan's help, so other commands handle 'h' themselves).  Returns 0,
 * or EXIT_USAGE after saying why; *stop set: exit now with the return. */
int options_apply(int c, const char *arg, struct scan_options *opt, int *stop);
/* Expand -o's strftime fields (local time).  Returns 0 or EXIT_USAGE. */
int options_expand_output(struct scan_options *opt);
/* A usage error: the message, then "Try 'imgscan <command> --help'".
 * Returns EXIT_USAGE. */
int options_usage_error(const struct scan_options *opt, const char *msg, const char *arg);
/* Whether arg, as written on a scan's command line ("-o", "--state"), is
 * an option of scan that takes the next argument as its value. */
bool options_scan_takes_value(const char *arg);

#endif
