/*
 * walk.c - recursive directory walk as an iterator (see walk.h).
 * Directory loops through followed symlinks are caught by comparing
 * (device, inode) with the directories on the current path.  Each
 * directory on that path is held open and its entries are looked up
 * relative to it (fstatat, openat), never by their whole path again.
 */
#include "walk.h"
#include "open_noatime.h"
#include "../formats/segments.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories held open at once: the first WALK_HELD_DIRS levels of the
 * current path (a descriptor each).  Deeper ones are listed and closed,
 * and their entries looked up by path, as far as PATH_MAX lets us. */
#define WALK_HELD_DIRS 256

struct frame {
	char *dir;
	int fd;                /* dir, open; -1 past WALK_HELD_DIRS levels */
	char **names;
	size_t n, next;
	dev_t dev;
	ino_t ino;
	/* Segment sets of this directory: media[k] is returned (and set to
	 * NULL) at the first of its names; set_of[i] is name i's set, or -1. */
	struct walk_media **media;
	size_t nmedia;
	int *set_of;
};

struct walker {
	char **args;
	int nargs, next_arg;
	bool follow;
	bool group;            /* segment sets as media (walk_open()) */
	struct frame *stack;
	size_t depth, cap;
};

int walk_open(char **paths, int npaths, bool follow, bool group, struct walker **out)
{
	struct walker *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->args = paths;
	w->nargs = npaths;
	w->follow = follow;
	w->group = group;
	*out = w;
	return 0;
}

void walk_media_free(struct walk_media *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->segs[i].path);
	free(m->segs);
	free(m);
}

static void frame_free(struct frame *f)
{
	if (f->fd >= 0)
		close(f->fd);
	for (size_t i = f->next; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->dir);
	for (size_t k = 0; k < f->nmedia; k++)
		walk_media_free(f->media[k]);
	free(f->media);
	free(f->set_of);
}

void walk_close(struct walker *w)
{
	if (!w)
		return;
	while (w->depth)
		frame_free(&w->stack[--w->depth]);
	free(w->stack);
	free(w);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (a && dir[a - 1] == '/')
		a--;
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

/* Append a copy of name to the list.  Returns 0 or -ENOMEM. */
static int add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t want = *cap ? 2 * *cap : 64;
		char **grown = realloc(*names, want * sizeof(char *));

		if (!grown)
			return -ENOMEM;
		*names = grown;
		*cap = want;
	}
	if (!((*names)[*n] = strdup(name)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Where to look up path, the name of an entry of frame f (NULL: a PATH
 * argument): relative to f's descriptor, or by the whole path. */
static int lookup_at(const struct frame *f, const char *path, const char **name)
{
	if (f && f->fd >= 0) {
		*name = strrchr(path, '/') + 1; /* join() put it there */
		return f->fd;
	}
	*name = path;
	return AT_FDCWD;
}

const char *walk_at_name(const struct walk_entry *e, const char *path)
{
	return e->at_fd == AT_FDCWD ? path : strrchr(path, '/') + 1;
}

/* Open directory name (relative to at_fd), keeping its access time where
 * the kernel lets us (O_NOATIME: the owner or CAP_FOWNER only; listing it
 * would set it on a strictatime or relatime mount), as the images are
 * opened; not through a symlink unless follow.  The descriptor, or -errno. */
static int open_dir(int at_fd, const char *name, bool follow)
{
	return openat_noatime(at_fd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
			      NULL);
}

/* Read the names of the directory open as fd (which stays open), sorted.
 * Returns 0, or -errno when it could not be listed at all or memory ran
 * out.  readdir() returns NULL both at the end and on an error (EIO, ESTALE
 * on NFS...): only errno tells them apart, so it is cleared before each
 * call.  A listing that fails part way, or a failing closedir(), still
 * returns 0 with the names read so far; *err and *what then say what failed
 * (else *err is 0). */
static int read_names(int fd, char ***names, size_t *n, int *err, const char **what)
{
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* closedir() closes its own */
	DIR *d = own >= 0 ? fdopendir(own) : NULL;
	struct dirent *de;
	size_t cap = 0;
	unsigned interrupted = 0;
	int rc = 0;

	*names = NULL;
	*n = 0;
	*err = 0;
	*what = NULL;
	if (!d) {
		rc = -errno;
		if (own >= 0)
			close(own);
		return rc;
	}
	for (;;) {
		errno = 0;
		if (!(de = readdir(d))) {
			/* A FUSE or NFS listing waits for a server, interruptibly: a
			 * signal is not the end of it (readdir() resumes where it was). */
			if (errno == EINTR && interrupted++ < 100)
				continue;
			if (errno) {
				*err = errno;
				*what = "readdir";
			}
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((rc = add_name(names, n, &cap, de->d_name)))
			break;
	}
	if (closedir(d) && !*err) {
		*err = errno;
		*what = "closedir";
	}
	if (rc) {
		while (*n)
			free((*names)[--*n]);
		free(*names);
		*names = NULL;
		return rc;
	}
	if (*n > 1) /* an empty directory has no list at all: qsort(NULL) is undefined */
		qsort(*names, *n, sizeof(char *), cmp_names);
	return 0;
}

static bool on_stack(const struct walker *w, const struct stat *st)
{
	for (size_t i = 0; i < w->depth; i++)
		if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
			return true;
	return false;
}

/* Room for one more frame.  Returns 0 or -ENOMEM. */
static int grow_stack(struct walker *w)
{
	size_t want = w->cap ? 2 * w->cap : 16;
	struct frame *grown;

	if (w->depth < w->cap)
		return 0;
	if (!(grown = realloc(w->stack, want * sizeof(*grown))))
		return -ENOMEM;
	w->stack = grown;
	w->cap = want;
	return 0;
}

static void set_error(struct walk_entry *e, int err, const char *what)
{
	e->type = WALK_ERROR;
	e->err = err;
	e->what = what;
}

/* The members of set that are regular files (as the walk stats them: stat
 * when following links, else lstat), in order, with the numbers missing
 * among them; NULL when fewer than two are (*oom on a failed allocation).
 * Each kept member's set_of entry becomes k. */
static struct walk_media *media_of_set(const struct walker *w, const struct frame *f, const struct seg_set *set,
				       int *set_of, int k, bool *oom)
{
	struct walk_media *m = calloc(1, sizeof(*m));
	unsigned expect = set->first_expected;

	if (!m || !(m->segs = calloc(set->n, sizeof(*m->segs))))
		goto oom;
	for (size_t i = 0; i < set->n; i++) {
		size_t idx = set->members[i].name;
		char *path = join(f->dir, f->names[idx]);
		const char *name;
		struct stat st;
		int at;

		if (!path)
			goto oom;
		at = lookup_at(f, path, &name);
		if (fstatat(at, name, &st, w->follow ? 0 : AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode)) {
			free(path); /* walked on its own, as any entry */
			continue;
		}
		m->segs[m->n++] = (struct walk_segment){path, st, set->members[i].number};
		set_of[idx] = k;
	}
	for (size_t i = 0; i < m->n; i++) {
		unsigned num = m->segs[i].number;

		if (num > expect && !m->gaps)
			segments_name_of(set, f->names[set->members[0].name], expect, m->first_gap, sizeof(m->first_gap));
		if (num > expect)
			m->gaps += num - expect;
		expect = num + 1;
	}
	m->scheme = (int)set->scheme;
	if (m->n >= 2)
		return m;
	for (size_t i = 0; i < set->n; i++)
		set_of[set->members[i].name] = -1;
	walk_media_free(m);
	return NULL;
oom:
	walk_media_free(m);
	*oom = true;
	return NULL;
}

/* Find the directory's segment sets.  Returns 0 or -ENOMEM. */
static int group_segments(const struct walker *w, struct frame *f)
{
	struct seg_set *sets;
	bool oom = false;
	int nsets = segments_group((const char *const *)f->names, f->n, &sets);

	if (nsets <= 0) {
		segments_free(sets, 0);
		return nsets < 0 ? -ENOMEM : 0;
	}
	f->media = calloc((size_t)nsets, sizeof(*f->media));
	f->set_of = malloc(f->n * sizeof(*f->set_of));
	if (!f->media || !f->set_of)
		oom = true;
	for (size_t i = 0; !oom && i < f->n; i++)
		f->set_of[i] = -1;
	for (int k = 0; k < nsets && !oom; k++)
		if ((f->media[f->nmedia] = media_of_set(w, f, &sets[k], f->set_of, (int)f->nmedia, &oom)))
			f->nmedia++;
	segments_free(sets, nsets);
	return oom ? -ENOMEM : 0;
}

/* Open the directory e names, where e's stat found it (not through a
 * symlink unless followed), into f, and list it.  Returns 0; 1 when e
 * became a WALK_ERROR and f holds nothing (a loop, it could not be opened
 * or listed); -ENOMEM.  *err and *what: a listing that failed part way. */
static int open_frame(const struct walker *w, struct walk_entry *e, struct frame *f, int *err, const char **what)
{
	int fd = open_dir(e->at_fd, walk_at_name(e, e->path), e->followed), rc;
	struct stat now;

	if (fd < 0) {
		set_error(e, -fd, "opendir");
		return 1;
	}
	f->fd = fd;
	/* Loops are told by the directory opened, which may have been swapped
	 * in since the stat. */
	rc = fstat(f->fd, &now) ? -errno : on_stack(w, &now) ? -ELOOP : 0;
	if (!rc)
		rc = read_names(f->fd, &f->names, &f->n, err, what);
	if (rc || w->depth >= WALK_HELD_DIRS) {
		close(f->fd);
		f->fd = -1;
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		set_error(e, -rc, rc == -ELOOP ? "loop" : "opendir");
		return 1;
	}
	f->dev = now.st_dev;
	f->ino = now.st_ino;
	return 0;
}

/* Enter a directory.  Returns 0 when it was entered; 1 when e became a
 * WALK_ERROR: either the directory was not entered (a loop, opendir failed)
 * or it was entered with the names its listing gave before failing (then e
 * is a copy of its path, and its entries follow); -ENOMEM. */
static int push_dir(struct walker *w, struct walk_entry *e)
{
	struct frame f = {.fd = -1};
	const char *what;
	char *copy = NULL;
	int rc, err;

	if (on_stack(w, &e->st)) {
		set_error(e, ELOOP, "loop");
		return 1;
	}
	if ((rc = open_frame(w, e, &f, &err, &what)))
		return rc;
	if (grow_stack(w) || (err && !(copy = strdup(e->path)))) {
		frame_free(&f);
		return -ENOMEM;
	}
	f.dir = e->path;
	if (w->group && group_segments(w, &f)) {
		e->path = NULL; /* the frame owns it now */
		frame_free(&f);
		free(copy);
		return -ENOMEM;
	}
	w->stack[w->depth++] = f;
	e->path = copy;
	if (!err)
		return 0;
	/* Walk what could be listed (nothing readable is lost) and report the
	 * directory, so the run cannot pass for complete. */
	set_error(e, err, what);
	return 1;
}

static void classify(struct walk_entry *e, bool explicit_arg)
{
	if (S_ISREG(e->st.st_mode))
		e->type = WALK_FILE;
	else if (S_ISLNK(e->st.st_mode))
		e->type = WALK_SYMLINK;
	else if (S_ISBLK(e->st.st_mode) && explicit_arg)
		e->type = WALK_BLOCKDEV;
	else
		e->type = WALK_SPECIAL;
}

/* stat one path (a PATH argument, or a name of the top frame); returns 1
 * with e filled (maybe WALK_ERROR), 0 if it was a directory that got
 * pushed, -ENOMEM. */
static int visit(struct walker *w, char *path, bool explicit_arg, struct walk_entry *e)
{
	const char *name;
	int rc;

	memset(e, 0, sizeof(*e));
	e->path = path;
	e->at_fd = lookup_at(explicit_arg ? NULL : &w->stack[w->depth - 1], path, &name);
	/* Command-line arguments are followed like any tool does; inside a walk
	 * symlinks are followed only on request. */
	e->followed = explicit_arg || w->follow;
	rc = fstatat(e->at_fd, name, &e->st, e->followed ? 0 : AT_SYMLINK_NOFOLLOW);
	if (rc && !explicit_arg && w->follow && errno == ENOENT) {
		e->followed = false;
		rc = fstatat(e->at_fd, name, &e->st, AT_SYMLINK_NOFOLLOW); /* dangling link: report the link */
	}
	if (rc) {
		set_error(e, errno, "stat");
		return 1;
	}
	if (S_ISDIR(e->st.st_mode)) {
		rc = push_dir(w, e);
		if (rc == 0)
			return 0;
		return rc < 0 ? rc : 1;
	}
	classify(e, explicit_arg);
	return 1;
}

/* A file named on the command line that is the first segment of a set
 * (disk.001, disk.000, disk.aa, case.E01) stands for the whole set, as its
 * directory's walk would have it: e becomes that set's entry.  Only then
 * is the directory listed.  0, or -ENOMEM. */
static int root_media(const struct walker *w, struct walk_entry *e)
{
	const char *slash = strrchr(e->path, '/'), *name = slash ? slash + 1 : e->path;
	struct frame f = {.fd = -1};
	const char *what;
	int err, rc = 0;

	if (!segments_first_name(name))
		return 0;
	f.dir = slash ? strndup(e->path, (size_t)(slash == e->path ? 1 : slash - e->path)) : strdup(".");
	if (!f.dir)
		return -ENOMEM;
	f.fd = open_dir(AT_FDCWD, f.dir, true); /* not listed: e stays a file */
	if ((f.fd >= 0 && read_names(f.fd, &f.names, &f.n, &err, &what) == -ENOMEM) || group_segments(w, &f)) {
		frame_free(&f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f.n && f.set_of; i++) {
		struct walk_media *m = f.set_of[i] >= 0 ? f.media[f.set_of[i]] : NULL;

		if (!m || strcmp(f.names[i], name) || m->segs[0].st.st_ino != e->st.st_ino ||
		    m->segs[0].st.st_dev != e->st.st_dev)
			continue;
		e->type = WALK_MEDIA;
		e->media = m;
		f.media[f.set_of[i]] = NULL;
		break;
	}
	frame_free(&f);
	return rc;
}

/* A name of a segment set: the set's entry at its first name met, nothing
 * at the others.  Returns 1 when e was filled, 0 to go on, -ENOMEM. */
static int take_media(const struct walker *w, struct frame *top, struct walk_entry *e)
{
	struct walk_media **m = &top->media[top->set_of[top->next]];

	free(top->names[top->next++]);
	if (!*m)
		return 0;
	memset(e, 0, sizeof(*e));
	if (!(e->path = strdup((*m)->segs[0].path)))
		return -ENOMEM;
	e->type = WALK_MEDIA;
	e->followed = w->follow;
	e->at_fd = top->fd >= 0 ? top->fd : AT_FDCWD;
	e->st = (*m)->segs[0].st;
	e->media = *m;
	*m = NULL;
	return 1;
}

static int next_entry(struct walker *w, struct walk_entry *e)
{
	for (;;) {
		struct frame *top;
		char *path;
		int rc;

		if (!w->depth) {
			if (w->next_arg >= w->nargs)
				return 0;
			path = strdup(w->args[w->next_arg++]);
			if (!path)
				return -ENOMEM;
			rc = visit(w, path, true, e);
			if (rc == 1 && e->type == WALK_FILE && w->group && root_media(w, e))
				return -ENOMEM;
			if (rc)
				return rc;
			continue;
		}
		top = &w->stack[w->depth - 1];
		if (top->next >= top->n) {
			frame_free(top);
			w->depth--;
			continue;
		}
		if (top->set_of && top->set_of[top->next] >= 0) {
			rc = take_media(w, top, e);
			if (rc)
				return rc;
			continue;
		}
		path = join(top->dir, top->names[top->next]);
		free(top->names[top->next++]);
		if (!path)
			return -ENOMEM;
		rc = visit(w, path, false, e);
		if (rc)
			return rc;
	}
}

int walk_next(struct walker *w, struct walk_entry *e)
{
	int rc = next_entry(w, e);

	if (rc == 1)
		e->root = w->next_arg - 1; /* the argument being walked */
	return rc;
}

bool walk_path_within(const char *path, size_t len, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (len < n || memcmp(path, dir, n))
		return false;
	return len == n || path[n] == '/' || (n == 1 && dir[0] == '/');
}

void walk_unlisted_add(struct walk_unlisted *u, const char *path)
{
	char *copy;

	if (u->overflow || u->n >= WALK_UNLISTED_MAX) {
		u->overflow = true;
		return;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 16;
		char **grown = realloc(u->paths, cap * sizeof(*grown));
		if (!grown) {
			u->overflow = true;
			return;
		}
		u->paths = grown;
		u->cap = cap;
	}
	if (!(copy = strdup(path)))
		u->overflow = true;
	else
		u->paths[u->n++] = copy;
}

bool walk_unlisted_covers(const struct walk_unlisted *u, const char *path, size_t len)
{
	if (u->overflow)
		return true;
	for (size_t i = 0; i < u->n; i++)
		if (walk_path_within(path, len, u->paths[i]))
			return true;
	return false;
}

void walk_unlisted_free(struct walk_unlisted *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->paths[i]);
	free(u->paths);
	memset(u, 0, sizeof(*u));
}
