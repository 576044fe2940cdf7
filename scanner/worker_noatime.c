/*
 * worker_noatime.c - in the worker program, every read-only open asks for
 * O_NOATIME, as imgscan's own opens of an image do (scanner/admit.c).
 *
 * The libraries the worker links open images by name: libewf (through The
 * Sleuth Kit, and for the acquisition check), libvmdk, libvhdi (both also
 * through The Sleuth Kit) and libqcow, each given a /proc/self/fd name for
 * the descriptor the scanner opened (tsk_worker.c link_container(),
 * formats/vdisk.h).  Such a name opens a new file description, without the
 * scanner's O_NOATIME: on a file system that keeps access times
 * (strictatime; relatime once a day) every E01, VMDK, VHD and qcow2
 * scanned got a new atime.
 *
 * Why here, and this way: The Sleuth Kit takes only file names for those
 * containers (tsk_img_open_utf8), so giving them descriptors would mean
 * rebuilding its image layer over libewf, libvmdk and libvhdi with libbfio
 * handles of our own; setting O_NOATIME afterwards (fcntl F_SETFL) is too
 * late, the libraries read inside their open calls, on descriptors they
 * keep.  All of them call open() through the PLT (libcfile), and a
 * definition in the program comes before libc's in symbol lookup.  So
 * open, openat, their 64 forms and the fortified __open_2 forms are defined
 * here, in imgscan-worker only (imgscan opens its files itself), for every
 * library at once and for any the worker links later.  Not covered: opens
 * inside libc (fopen, opendir) and the dynamic loader's, which no library
 * uses for an image (tests/it_evidence.py checks every atime after scanning
 * every container kind).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef O_LARGEFILE
#define O_LARGEFILE 0
#endif

/* The C names are ours; the symbols are libc's. */
int noatime_open(const char *path, int flags, ...) __asm__("open");
int noatime_open64(const char *path, int flags, ...) __asm__("open64");
int noatime_openat(int dir, const char *path, int flags, ...) __asm__("openat");
int noatime_openat64(int dir, const char *path, int flags, ...) __asm__("openat64");
int noatime_open_2(const char *path, int flags) __asm__("__open_2");
int noatime_open64_2(const char *path, int flags) __asm__("__open64_2");
int noatime_openat_2(int dir, const char *path, int flags) __asm__("__openat_2");
int noatime_openat64_2(int dir, const char *path, int flags) __asm__("__openat64_2");

/* The open itself: read-only opens (not O_PATH) first with O_NOATIME, and
 * again without it on EPERM (only the file's owner or CAP_FOWNER may ask
 * for it).  A descriptor, or -1 with errno, as open(2). */
static int open_keeping_atime(int dir, const char *path, int flags, int mode)
{
	int saved = errno;
	long fd;

	if ((flags & O_ACCMODE) == O_RDONLY && !(flags & O_PATH)) {
		fd = syscall(SYS_openat, dir, path, flags | O_NOATIME, mode);
		if (fd >= 0 || errno != EPERM)
			return (int)fd;
		errno = saved; /* the caller sees only the open it asked for */
	}
	return (int)syscall(SYS_openat, dir, path, flags, mode);
}

/* open's mode argument: there only when the flags create a file. */
static int mode_of(int flags, va_list ap)
{
	return flags & O_CREAT || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

int noatime_open(const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return open_keeping_atime(AT_FDCWD, path, flags, mode);
}

int noatime_open64(const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return open_keeping_atime(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

int noatime_openat(int dir, const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return open_keeping_atime(dir, path, flags, mode);
}

int noatime_openat64(int dir, const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	va_start(ap, flags);
	mode = mode_of(flags, ap);
	va_end(ap);
	return open_keeping_atime(dir, path, flags | O_LARGEFILE, mode);
}

/* _FORTIFY_SOURCE's forms, for opens that pass no mode. */
int noatime_open_2(const char *path, int flags)
{
	return open_keeping_atime(AT_FDCWD, path, flags, 0);
}

int noatime_open64_2(const char *path, int flags)
{
	return open_keeping_atime(AT_FDCWD, path, flags | O_LARGEFILE, 0);
}

int noatime_openat_2(int dir, const char *path, int flags)
{
	return open_keeping_atime(dir, path, flags, 0);
}

int noatime_openat64_2(int dir, const char *path, int flags)
{
	return open_keeping_atime(dir, path, flags | O_LARGEFILE, 0);
}
