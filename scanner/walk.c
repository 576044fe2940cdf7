/*
 * walk.c - recursive directory walk as an iterator (see walk.h).
 * Directory loops through followed symlinks are caught by comparing
 * (device, inode) with the directories on the current path.
 */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct frame {
	char *dir;
	char **names;
	size_t n, next;
	dev_t dev;
	ino_t ino;
};

struct walker {
	char **args;
	int nargs, next_arg;
	bool follow;
	struct frame *stack;
	size_t depth, cap;
};

int walk_open(char **paths, int npaths, bool follow, struct walker **out)
{
	struct walker *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->args = paths;
	w->nargs = npaths;
	w->follow = follow;
	*out = w;
	return 0;
}

static void frame_free(struct frame *f)
{
	for (size_t i = f->next; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->dir);
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

/* Read a directory's names, sorted.  Returns 0, or -errno when it could not
 * be opened (nothing listed) or memory ran out.  readdir() returns NULL both
 * at the end and on an error (EIO, ESTALE on NFS...): only errno tells them
 * apart, so it is cleared before each call.  A listing that fails part way,
 * or a failing closedir(), still returns 0 with the names read so far;
 * *err and *what then say what failed (else *err is 0). */
static int read_names(const char *dir, char ***names, size_t *n, int *err, const char **what)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int rc = 0;

	*names = NULL;
	*n = 0;
	*err = 0;
	*what = NULL;
	if (!d)
		return -errno;
	for (;;) {
		errno = 0;
		if (!(de = readdir(d))) {
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

/* Enter a directory.  Returns 0 when it was entered; 1 when e became a
 * WALK_ERROR: either the directory was not entered (a loop, opendir failed)
 * or it was entered with the names its listing gave before failing (then e
 * is a copy of its path, and its entries follow); -ENOMEM. */
static int push_dir(struct walker *w, struct walk_entry *e)
{
	struct frame f = {0};
	const char *what;
	char *copy = NULL;
	int rc, err;

	if (on_stack(w, &e->st)) {
		set_error(e, ELOOP, "loop");
		return 1;
	}
	rc = read_names(e->path, &f.names, &f.n, &err, &what);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		set_error(e, -rc, "opendir");
		return 1;
	}
	if (grow_stack(w) || (err && !(copy = strdup(e->path)))) {
		frame_free(&f);
		return -ENOMEM;
	}
	f.dir = e->path;
	f.dev = e->st.st_dev;
	f.ino = e->st.st_ino;
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

/* stat one path; returns 1 with e filled (maybe WALK_ERROR), 0 if it was a
 * directory that got pushed, -ENOMEM. */
static int visit(struct walker *w, char *path, bool explicit_arg, struct walk_entry *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	e->path = path;
	/* Command-line arguments are followed like any tool does; inside a walk
	 * symlinks are followed only on request. */
	e->followed = explicit_arg || w->follow;
	rc = e->followed ? stat(path, &e->st) : lstat(path, &e->st);
	if (rc && !explicit_arg && w->follow && errno == ENOENT) {
		e->followed = false;
		rc = lstat(path, &e->st); /* dangling link: report the link */
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

int walk_next(struct walker *w, struct walk_entry *e)
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
		path = join(top->dir, top->names[top->next]);
		free(top->names[top->next++]);
		if (!path)
			return -ENOMEM;
		rc = visit(w, path, false, e);
		if (rc)
			return rc;
	}
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
