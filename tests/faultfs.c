/*
 * faultfs.c - a FUSE file system for the tests: it mirrors a backing
 * directory read-only and injects the faults a rules file describes, so the
 * scanner's error paths can be driven deterministically: a directory whose
 * listing fails half way, a bad sector, a /sys-like file whose size lies, a
 * file that shrinks while it is read, a slow disk, a file swapped for a
 * symlink between the walk's lstat and the open.
 *
 * Usage: faultfs [--trace] BACKING_DIR RULES_FILE MOUNTPOINT [FUSE_OPTIONS...]
 * It always runs in the foreground and single-threaded (-f -s): the counters
 * below rely on requests being served one at a time, in arrival order.  It
 * unmounts and exits on SIGTERM, SIGINT or SIGHUP, and when its parent dies
 * (so a killed test leaves no mount behind: start it from a process that
 * stays, not from a subshell that exits); fusermount3 -u MOUNTPOINT (or
 * umount -l) unmounts it from outside.  --trace logs every request (and each
 * read's size and offset) to stderr.
 * tests/itlib.py's faultfs() does all this for the Python tests.
 *
 * The kernel's caches are defeated so that every fault is seen: entry,
 * negative and attribute timeouts are 0 (every path walk asks again), every
 * file is opened direct_io (no page cache, no readahead: each read(2) reaches
 * faultfs as one read request, or as several when it needs more than 256
 * pages of buffer, about 1 MiB), and directory listings are never cached.
 * Opens with O_DIRECT, O_NOATIME and O_NONBLOCK work; opens for writing fail
 * with EROFS.  Only the user who mounted it may use it (root in the tests);
 * pass "-o allow_other" to change that.
 *
 * Rules file
 * ----------
 * One rule per line: KIND PATH [ARGS...], separated by blanks.  Blank lines
 * and lines starting with '#' are ignored.  PATH is relative to the mount
 * point, without a leading '/' ("." is the mount's root); a blank or a
 * backslash in PATH or TARGET is written \040 or \134 (octal, as in fstab).
 * Numbers are decimal (or 0x hexadecimal), never negative.  A path may have
 * rules of several kinds, at most one of each.  A mistake in the file is
 * reported with its line number and faultfs exits 2 without mounting.
 * Counts (reads, lookups) are per rule, over all processes and descriptors,
 * from the mount on.
 *
 *   readdir-eio PATH [AFTER]
 *       Listing directory PATH yields its first AFTER entries (default 0;
 *       "." and ".." are not counted; entries come in strcmp order), then
 *       fails with EIO: getdents(2) returns them (in one call, or several
 *       if they are many), the next call fails with EIO (readdir(3) returns
 *       NULL with errno EIO), and so does every later one; rewinding starts
 *       over.
 *   eio PATH OFF LEN
 *       A read of PATH whose range overlaps [OFF, OFF+LEN) fails whole with
 *       EIO, like a bad sector.  Reads elsewhere work.
 *   lie-size PATH N
 *       stat and fstat report size N; the content stays the backing file's,
 *       so reads past its real end return 0 bytes or short (like /sys files:
 *       stat says 4096, the content is 23 bytes).
 *   shrink PATH N [AFTER_READS]
 *       Reads of PATH after the first AFTER_READS (default 0) see the content
 *       end at N: reads past N return short or 0 bytes.  stat keeps reporting
 *       the old size until PATH is next closed (the first close(2) of any
 *       descriptor of it once the shrink has happened), then reports N, the
 *       way NFS's cached attributes catch up at close-to-open.
 *   regrow PATH N [AFTER_READS]
 *       Read number AFTER_READS + 1 of PATH (default 0: the first read) sees
 *       the content end at N; every other read sees the whole file, and stat
 *       always reports the whole size: a file truncated and rewritten while
 *       it was read.
 *   delay PATH MS
 *       Each read of PATH first sleeps MS milliseconds (faultfs serves one
 *       request at a time, so other requests wait too).
 *   hang PATH [AFTER_READS]
 *       Read number AFTER_READS + 1 of PATH (default 0: the first) never
 *       returns: it waits until faultfs is told to exit (SIGTERM, or its
 *       parent dies), then fails with EIO.  Every later request to the
 *       mount waits behind it, as with a dead NFS server.
 *   grow PATH N [AFTER_READS]
 *   change PATH [AFTER_READS]
 *       After AFTER_READS reads of PATH (default 0), the file is another:
 *       grow makes it N bytes longer (reads past the old end give 0x5A
 *       bytes), change inverts every byte it holds; either way stat then
 *       shows an mtime and a ctime one second later, as after a write.
 *   swap PATH TARGET [AFTER_LOOKUPS]
 *       Once PATH has been looked up AFTER_LOOKUPS times (default 1), it is a
 *       symlink to TARGET (absolute, or relative to PATH's directory): lstat
 *       says symlink (with another inode number), readlink returns TARGET,
 *       open follows it, listings show a symlink.  Each stat(2), lstat(2) or
 *       open(2) of PATH is one lookup, so with the default the walk's lstat
 *       sees the file and the open that follows gets TARGET.  The backing
 *       file is left alone; PATH need not exist in it.
 *
 * "Reads" are the read requests faultfs gets for PATH, counted from 1, failed
 * ones included.  "Lookups": the high-level FUSE API calls getattr both for
 * the kernel's LOOKUP (resolving a name) and for its GETATTR (attributes of
 * an inode it holds; with attr_timeout=0 every stat(2) sends one right after
 * its LOOKUP).  faultfs counts a getattr of PATH as a lookup unless it is
 * the first getattr of PATH after a lookup of PATH (then it is that stat's
 * GETATTR, whatever other requests came between: other threads' reads may),
 * or comes while PATH is open (it may be an fstat).  A swap takes effect only on a lookup: a
 * GETATTR answering with another file type makes the kernel mark the inode
 * bad and fail with EIO.  So a swap never happens while the file is open: a
 * file swapped under an open descriptor stays that file for it anyway.
 *
 * Growing it: a new kind is one entry in rule_kinds[] (its name and
 * arguments) and a check in the operation it affects.
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

enum rule_kind { R_READDIR_EIO, R_EIO, R_LIE_SIZE, R_SHRINK, R_REGROW, R_DELAY, R_SWAP, R_HANG, R_GROW, R_CHANGE,
		 R_NKINDS };

#define MAX_NUMS 2

/* A kind's arguments after PATH: an optional TARGET string, then between
 * min_nums and max_nums numbers; the missing optional ones take defaults. */
static const struct rule_kind_desc {
	const char *name;
	bool target;
	int min_nums, max_nums;
	long long defaults[MAX_NUMS];
} rule_kinds[R_NKINDS] = {
	[R_READDIR_EIO] = {"readdir-eio", false, 0, 1, {0}},
	[R_EIO] = {"eio", false, 2, 2, {0}},
	[R_LIE_SIZE] = {"lie-size", false, 1, 1, {0}},
	[R_SHRINK] = {"shrink", false, 1, 2, {0, 0}},
	[R_REGROW] = {"regrow", false, 1, 2, {0, 0}},
	[R_DELAY] = {"delay", false, 1, 1, {0}},
	[R_SWAP] = {"swap", true, 0, 1, {1}},
	[R_HANG] = {"hang", false, 0, 1, {0}},
	[R_GROW] = {"grow", false, 1, 2, {0, 0}},
	[R_CHANGE] = {"change", false, 0, 1, {0}},
};

struct rule {
	enum rule_kind kind;
	char *path;               /* as FUSE names it: "/" or "/a/b" */
	char *target;             /* swap */
	long long num[MAX_NUMS];  /* the numbers, in the order of the spec */
	/* Run state (one request at a time: no lock). */
	uint64_t count;           /* reads (shrink, regrow, hang, grow, change) or lookups (swap) so far */
	bool fired;               /* shrink: content cut; swap: now a symlink; grow, change: done */
	bool settled;             /* shrink: a close since: stat reports N */
	bool getattr_due;         /* swap: its last lookup's GETATTR has not come yet */
	unsigned opens;           /* swap: open descriptors of the file */
};

static struct {
	int backing;              /* directory fd of the backing tree */
	struct rule *rules;
	size_t nrules;
	bool trace;
	uint64_t seq;             /* requests served so far */
} fs;

/* One directory listing, taken at opendir so offsets stay stable. */
struct listing {
	size_t n;
	struct listing_entry {
		char *name;
		ino_t ino;
		unsigned char type;
	} *e;
};

/* ---- rules file -------------------------------------------------------- */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("faultfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Decode \ooo escapes in place.  Returns false on a malformed escape. */
static bool unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*out++ = *s;
			continue;
		}
		if (s[1] < '0' || s[1] > '3' || s[2] < '0' || s[2] > '7' || s[3] < '0' || s[3] > '7')
			return false;
		*out = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
		if (!*out++)
			return false; /* \000 would cut the name short */
		s += 3;
	}
	*out = '\0';
	return true;
}

/* The path as FUSE will name it: "." -> "/", "a/b/" -> "/a/b".  NULL for
 * an absolute path, or an empty, "." or ".." component. */
static char *fuse_path(const char *rel)
{
	size_t n = strlen(rel);
	char *p;

	while (n > 1 && rel[n - 1] == '/')
		n--;
	if (n == 1 && rel[0] == '.')
		return strdup("/");
	if (!(p = malloc(n + 2)))
		die("out of memory");
	p[0] = '/';
	memcpy(p + 1, rel, n);
	p[n + 1] = '\0';
	/* Every component of "/a/b/": between a '/' and the next one. */
	for (const char *c = p; c; c = strchr(c + 1, '/')) {
		size_t len = strcspn(c + 1, "/");
		if (!len || (len == 1 && c[1] == '.') || (len == 2 && c[1] == '.' && c[2] == '.')) {
			free(p);
			return NULL;
		}
	}
	return p;
}

static bool parse_num(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 0);
	return !errno && end != s && !*end && *out >= 0;
}

static struct rule *find_rule(const char *path, enum rule_kind kind);

/* Parse one rule from its blank-separated words. */
static void parse_rule(char **w, int nw, int line, struct rule *r)
{
	const struct rule_kind_desc *d = NULL;
	int k, i = 2;

	for (k = 0; k < R_NKINDS && !d; k++)
		if (!strcmp(w[0], rule_kinds[k].name))
			d = &rule_kinds[k];
	if (!d)
		die("rules line %d: unknown kind \"%s\"", line, w[0]);
	memset(r, 0, sizeof(*r));
	r->kind = (enum rule_kind)(d - rule_kinds);
	if (nw < 2 || !unescape(w[1]) || !(r->path = fuse_path(w[1])))
		die("rules line %d: %s needs a relative PATH", line, d->name);
	if (d->target && (nw < 3 || !unescape(w[2]) || !*w[2] || !(r->target = strdup(w[2]))))
		die("rules line %d: %s needs a TARGET", line, d->name);
	i += d->target;
	if (nw - i < d->min_nums || nw - i > d->max_nums)
		die("rules line %d: %s takes %d to %d numbers", line, d->name, d->min_nums, d->max_nums);
	memcpy(r->num, d->defaults, sizeof(r->num));
	for (k = 0; i < nw; i++, k++)
		if (!parse_num(w[i], &r->num[k]))
			die("rules line %d: \"%s\" is not a number", line, w[i]);
	if (find_rule(r->path, r->kind))
		die("rules line %d: a second %s rule for %s", line, d->name, w[1]);
}

static void load_rules(const char *file)
{
	FILE *f = fopen(file, "r");
	char buf[8192];
	int line = 0;

	if (!f)
		die("%s: %s", file, strerror(errno));
	while (fgets(buf, sizeof(buf), f)) {
		char *w[8], *save = NULL, *tok;
		int nw = 0;

		line++;
		if (!strchr(buf, '\n') && !feof(f))
			die("rules line %d: longer than %zu bytes", line, sizeof(buf) - 2);
		if (buf[strspn(buf, " \t")] == '#')
			continue;
		for (tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (nw == 8)
				die("rules line %d: too many words", line);
			w[nw++] = tok;
		}
		if (!nw)
			continue;
		struct rule *grown = realloc(fs.rules, (fs.nrules + 1) * sizeof(*grown));
		if (!grown)
			die("out of memory");
		fs.rules = grown;
		parse_rule(w, nw, line, &fs.rules[fs.nrules]);
		fs.nrules++;
	}
	if (ferror(f))
		die("%s: read error", file);
	fclose(f);
}

/* The rule of this kind for this path, or NULL. */
static struct rule *find_rule(const char *path, enum rule_kind kind)
{
	for (size_t i = 0; i < fs.nrules; i++)
		if (fs.rules[i].kind == kind && !strcmp(fs.rules[i].path, path))
			return &fs.rules[i];
	return NULL;
}

/* ---- helpers ----------------------------------------------------------- */

/* Count the request, and log it with --trace. */
static void begin(const char *op, const char *path)
{
	fs.seq++;
	if (fs.trace)
		fprintf(stderr, "faultfs: #%llu %s %s\n", (unsigned long long)fs.seq, op, path);
}

/* A FUSE path as a path relative to the backing directory. */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- swap -------------------------------------------------------------- */

/* Whether this getattr sees PATH swapped for its symlink.  Counts lookups
 * (see the header: the getattr that follows a lookup of the same path is
 * that stat's GETATTR, one while the file is open may be an fstat: neither
 * counts nor changes the type). */
static bool swapped(const char *path, const struct fuse_file_info *fi)
{
	struct rule *r = find_rule(path, R_SWAP);
	bool lookup;

	if (!r)
		return false;
	lookup = !fi && !r->opens && !r->getattr_due;
	if (!fi && !r->opens && r->getattr_due)
		r->getattr_due = false; /* this is that GETATTR */
	if (!lookup || r->fired)
		return r->fired;
	r->getattr_due = true;
	if (r->count++ >= (uint64_t)r->num[0])
		r->fired = true;
	return r->fired;
}

/* Attributes of the symlink a swap put at PATH: the backing file's owner
 * and times where it exists, another inode number (it is another file). */
static void symlink_stat(const struct rule *r, struct stat *st)
{
	if (fstatat(fs.backing, rel(r->path), st, AT_SYMLINK_NOFOLLOW)) {
		memset(st, 0, sizeof(*st));
		st->st_uid = getuid();
		st->st_gid = getgid();
		st->st_ino = 1;
	}
	st->st_ino ^= (ino_t)1 << (sizeof(ino_t) * CHAR_BIT - 2);
	st->st_mode = S_IFLNK | 0777;
	st->st_nlink = 1;
	st->st_size = (off_t)strlen(r->target);
	st->st_blocks = 0;
}

/* ---- operations -------------------------------------------------------- */

static void *ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Ask the file system every time: faults must not hide behind caches. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 1;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	/* Plain READDIR only: one request per getdents, so a listing fails at
	 * the entry the rule names. */
	conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	return NULL;
}

static int ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const struct rule *r;

	begin(fi ? "fgetattr" : "getattr", path);
	if (swapped(path, fi)) {
		symlink_stat(find_rule(path, R_SWAP), st);
		return 0;
	}
	if (fstatat(fs.backing, rel(path), st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if ((r = find_rule(path, R_LIE_SIZE)))
		st->st_size = r->num[0];
	if ((r = find_rule(path, R_SHRINK)) && r->settled && st->st_size > r->num[0])
		st->st_size = r->num[0];
	if ((r = find_rule(path, R_GROW)) && r->fired)
		st->st_size += r->num[0];
	if (((r = find_rule(path, R_GROW)) && r->fired) || ((r = find_rule(path, R_CHANGE)) && r->fired)) {
		st->st_mtim.tv_sec++; /* as a write would */
		st->st_ctim.tv_sec++;
	}
	return 0;
}

static int ff_readlink(const char *path, char *buf, size_t size)
{
	const struct rule *r = find_rule(path, R_SWAP);
	ssize_t n;

	begin("readlink", path);
	if (!size)
		return -EINVAL;
	if (r && r->fired) {
		snprintf(buf, size, "%s", r->target);
		return 0;
	}
	if ((n = readlinkat(fs.backing, rel(path), buf, size - 1)) < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
	struct rule *swap = find_rule(path, R_SWAP);
	int fd;

	begin("open", path);
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		return -EROFS;
	/* Only the access mode matters to the backing file: O_DIRECT and
	 * O_NOATIME are the caller's business with this mount. */
	fd = openat(fs.backing, rel(path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (swap)
		swap->opens++;
	return 0;
}

/* Where this read sees the content end (shrink, regrow); counts the read. */
static off_t content_end(const char *path)
{
	struct rule *r;
	off_t end = (off_t)LLONG_MAX;

	if ((r = find_rule(path, R_SHRINK)) && r->count++ >= (uint64_t)r->num[1])
		r->fired = true;
	if (r && r->fired)
		end = r->num[0];
	if ((r = find_rule(path, R_REGROW)) && r->count++ == (uint64_t)r->num[1] && r->num[0] < end)
		end = r->num[0];
	return end;
}

/* grow, change: counts the read; true once the file is the other one. */
static bool rewritten(const char *path, enum rule_kind kind)
{
	struct rule *r = find_rule(path, kind);

	if (r && !r->fired && r->count++ >= (uint64_t)r->num[kind == R_GROW])
		r->fired = true;
	return r && r->fired;
}

/* grow: the bytes past the backing file's end, up to N more. */
static ssize_t grown_bytes(struct fuse_file_info *fi, char *buf, size_t size, off_t off, long long extra)
{
	struct stat st;
	off_t end;

	if (fstat((int)fi->fh, &st))
		return 0;
	end = st.st_size + (off_t)extra;
	if (off >= end)
		return 0;
	if ((off_t)size > end - off)
		size = (size_t)(end - off);
	memset(buf, 0x5A, size);
	return (ssize_t)size;
}

/* hang: the read that never returns, until faultfs is told to exit. */
static bool hung(const char *path)
{
	struct rule *r = find_rule(path, R_HANG);
	struct fuse_session *se = fuse_get_session(fuse_get_context()->fuse);

	if (!r || r->count++ != (uint64_t)r->num[0])
		return false;
	while (!fuse_session_exited(se))
		sleep_ms(50);
	return true;
}

static bool overlaps(off_t off, size_t size, long long start, long long len)
{
	return size && len && off < start + len && start < off + (off_t)size;
}

static int ff_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	const struct rule *r;
	bool changed, grown;
	off_t end;
	ssize_t n;

	begin("read", path);
	if (fs.trace)
		fprintf(stderr, "faultfs:   %zu bytes at %lld\n", size, (long long)off);
	if ((r = find_rule(path, R_DELAY)))
		sleep_ms(r->num[0]);
	if (hung(path))
		return -EIO;
	changed = rewritten(path, R_CHANGE);
	grown = rewritten(path, R_GROW);
	end = content_end(path);
	if ((r = find_rule(path, R_EIO)) && overlaps(off, size, r->num[0], r->num[1]))
		return -EIO;
	if (off >= end)
		return 0;
	if ((off_t)size > end - off)
		size = (size_t)(end - off);
	n = pread((int)fi->fh, buf, size, off);
	if (n >= 0 && changed)
		for (ssize_t i = 0; i < n; i++)
			buf[i] = (char)~buf[i];
	if (n >= 0 && (size_t)n < size && grown)
		n += grown_bytes(fi, buf + n, size - (size_t)n, off + n, find_rule(path, R_GROW)->num[0]);
	return n < 0 ? -errno : (int)n;
}

/* close(2) of any descriptor: a shrink that happened is now seen by stat. */
static int ff_flush(const char *path, struct fuse_file_info *fi)
{
	struct rule *r = find_rule(path, R_SHRINK);

	(void)fi;
	begin("flush", path);
	if (r && r->fired)
		r->settled = true;
	return 0;
}

static int ff_release(const char *path, struct fuse_file_info *fi)
{
	struct rule *swap = find_rule(path, R_SWAP);

	begin("release", path);
	if (swap && swap->opens)
		swap->opens--;
	close((int)fi->fh);
	return 0;
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	free(l);
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct listing_entry *)a)->name, ((const struct listing_entry *)b)->name);
}

/* Read the backing directory, without "." and "..", sorted.  Returns 0 or
 * -errno. */
static int read_listing(const char *path, struct listing *l)
{
	int fd = openat(fs.backing, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;
	int rc = 0;

	if (!d) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l->n == cap) {
			struct listing_entry *grown = realloc(l->e, (cap = cap ? 2 * cap : 32) * sizeof(*grown));
			if (!grown)
				die("out of memory");
			l->e = grown;
		}
		if (!(l->e[l->n].name = strdup(de->d_name)))
			die("out of memory");
		l->e[l->n].ino = de->d_ino;
		l->e[l->n++].type = de->d_type;
	}
	rc = errno ? -errno : 0;
	closedir(d);
	if (l->n)
		qsort(l->e, l->n, sizeof(*l->e), cmp_entries);
	return rc;
}

static int ff_opendir(const char *path, struct fuse_file_info *fi)
{
	struct listing *l = calloc(1, sizeof(*l));
	int rc;

	begin("opendir", path);
	if (!l)
		return -ENOMEM;
	if ((rc = read_listing(path, l))) {
		listing_free(l);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)l;
	fi->cache_readdir = 0;
	return 0;
}

/* The type a listing shows for entry e of directory dir (a swapped name
 * shows as the symlink it became). */
static mode_t entry_mode(const char *dir, const struct listing_entry *e)
{
	char path[PATH_MAX];
	const struct rule *r;

	snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", e->name);
	if ((r = find_rule(path, R_SWAP)) && r->fired)
		return S_IFLNK;
	return (mode_t)DTTOIF(e->type);
}

/* Offsets: entry i of [".", "..", names...] resumes at i + 1.  A
 * readdir-eio rule cuts the listing after AFTER names: the request that
 * reaches that point ends there, the next one fails. */
static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	const struct listing *l = (const struct listing *)(uintptr_t)fi->fh;
	const struct rule *r = find_rule(path, R_READDIR_EIO);
	uint64_t fail_at = r ? 2 + (uint64_t)r->num[0] : UINT64_MAX;

	(void)flags;
	begin("readdir", path);
	for (uint64_t i = (uint64_t)off;; i++) {
		struct stat st = {0};
		const char *name;

		if (i >= fail_at)
			return i == (uint64_t)off ? -EIO : 0;
		if (i >= 2 + l->n)
			return 0;
		if (i < 2) {
			name = i ? ".." : ".";
			st.st_mode = S_IFDIR;
		} else {
			name = l->e[i - 2].name;
			st.st_ino = l->e[i - 2].ino;
			st.st_mode = entry_mode(path, &l->e[i - 2]);
		}
		if (fill(buf, name, &st, (off_t)(i + 1), 0))
			return 0; /* the reply is full: the kernel asks again from i */
	}
}

static int ff_releasedir(const char *path, struct fuse_file_info *fi)
{
	begin("releasedir", path);
	listing_free((struct listing *)(uintptr_t)fi->fh);
	return 0;
}

static int ff_statfs(const char *path, struct statvfs *sv)
{
	begin("statfs", path);
	return fstatvfs(fs.backing, sv) ? -errno : 0;
}

static const struct fuse_operations ops = {
	.init = ff_init,
	.getattr = ff_getattr,
	.readlink = ff_readlink,
	.open = ff_open,
	.read = ff_read,
	.flush = ff_flush,
	.release = ff_release,
	.opendir = ff_opendir,
	.readdir = ff_readdir,
	.releasedir = ff_releasedir,
	.statfs = ff_statfs,
};

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: faultfs [--trace] BACKING_DIR RULES_FILE MOUNTPOINT [FUSE_OPTIONS...]\n"
			"(the rules are described at the top of tests/faultfs.c)\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	pid_t parent = getppid();
	char **fargs;
	int i = 1, n = 0;

	if (i < argc && !strcmp(argv[i], "--trace")) {
		fs.trace = true;
		i++;
	}
	if (argc - i < 3)
		usage();
	if ((fs.backing = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("%s: %s", argv[i], strerror(errno));
	load_rules(argv[i + 1]);
	/* A test killed before it could unmount takes the mount with it:
	 * SIGTERM makes fuse_main leave its loop and unmount. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		die("parent gone");
	if (!(fargs = calloc((size_t)(argc - i) + 5, sizeof(char *))))
		die("out of memory");
	fargs[n++] = argv[0];
	fargs[n++] = argv[i + 2];
	fargs[n++] = "-f";
	fargs[n++] = "-s";
	fargs[n++] = "-oro,fsname=faultfs,subtype=faultfs";
	for (i += 3; i < argc; i++)
		fargs[n++] = argv[i];
	return fuse_main(n, fargs, &ops, NULL);
}
