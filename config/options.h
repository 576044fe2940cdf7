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
enum out_format { FMT_JSON, FMT_JSONL };

struct scan_options {
	char **paths;              /* PATH... (argv storage) */
	int npaths;
	const char *output;        /* NULL or "-": stdout; strftime fields already expanded */
	char output_expanded[4096];/* storage for output when -o held strftime fields */
	enum out_format format;
	unsigned jobs;             /* hashing worker threads */
	unsigned queue_depth;      /* reads in flight, = number of read buffers */
	size_t read_size;          /* bytes per read, a multiple of sector_size */
	unsigned sector_size;
	unsigned max_images;       /* images streamed at once */
	enum io_choice io;
	enum read_mode read_mode;
	bool no_fixed_buffers;     /* do not register the buffers with io_uring */
	const char *sector_hash_dir;
	bool all_files;
	bool follow_symlinks;
	bool quiet;
	bool no_tsk;
	unsigned crypto_mask;      /* --hash: bits 1 << HASH_MD5, HASH_SHA1, HASH_SHA256 */
	const char *config_path;
	const char *state_path;    /* --state FILE (or the config's "state"), NULL: no catalog */
	bool rehash;               /* read everything again, refresh the catalog */
	bool wait_lock;            /* --wait: wait for another run's catalog lock */
	unsigned tsk_timeout_s;    /* 0: from config */
	unsigned tsk_memory_mib;   /* 0: from config */
	unsigned tsk_workers;      /* 0: from config, then -j */
	int argc;                  /* the whole command line, for the report */
	char **argv;
};

/* Parse argv.  Returns 0 to run a scan, or an exit status (0 after --help or
 * --version, EXIT_USAGE after a usage error, already explained on stderr). */
int options_parse(int argc, char **argv, struct scan_options *opt, int *exit_now);

#endif
