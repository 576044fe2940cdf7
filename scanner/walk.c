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

/* Read a directory's names, sorted.  Returns 0 or -errno. */
static int read_names(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			char **grown = realloc(*names, (cap = cap ? 2 * cap : 64) * sizeof(char *));
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			*names = grown;
		}
		if (!((*names)[*n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (rc) {
		while (*n)
			free((*names)[--*n]);
		free(*names);
		*names = NULL;
		return rc;
	}
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

/* Enter a directory; on failure the entry is turned into a WALK_ERROR. */
static int push_dir(struct walker *w, struct walk_entry *e)
{
	struct frame f = {0};
	int rc;

	if (on_stack(w, &e->st)) {
		e->type = WALK_ERROR;
		e->err = ELOOP;
		e->what = "loop";
		return 1;
	}
	rc = read_names(e->path, &f.names, &f.n);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		e->type = WALK_ERROR;
		e->err = -rc;
		e->what = "opendir";
		return 1;
	}
	if (w->depth == w->cap) {
		struct frame *grown = realloc(w->stack, (w->cap = w->cap ? 2 * w->cap : 16) * sizeof(*grown));
		if (!grown) {
			frame_free(&f);
			return -ENOMEM;
		}
		w->stack = grown;
	}
	f.dir = e->path;
	f.dev = e->st.st_dev;
	f.ino = e->st.st_ino;
	w->stack[w->depth++] = f;
	e->path = NULL;
	return 0;
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
	rc = (explicit_arg || w->follow) ? stat(path, &e->st) : lstat(path, &e->st);
	if (rc && !explicit_arg && w->follow && errno == ENOENT)
		rc = lstat(path, &e->st); /* dangling link: report the link */
	if (rc) {
		e->type = WALK_ERROR;
		e->err = errno;
		e->what = "stat";
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
