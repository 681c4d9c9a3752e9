/* outfile_rules.c: the rules of memlens's output files (outfile_rules.h). */
#include "base/outfile_rules.h"
#include "base/prim.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

/* Non-blocking so that opening a FIFO nobody reads fails (ENXIO) instead
 * of hanging; the writes themselves block as usual. */
int memlens__out_open_in_place(const char *path, int flags, int mode)
{
	long fd = ML_SYS(SYS_openat, AT_FDCWD, path, flags | O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode, 0, 0);
	if (fd < 0)
		return (int)fd;
	long fl = ML_SYS(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
	if (fl >= 0)
		ML_SYS(SYS_fcntl, fd, F_SETFL, fl & ~O_NONBLOCK, 0, 0, 0);
	return (int)fd;
}

/* "PATH.tmp.PID" into tmp; 0 when it does not fit. */
static int tmp_name(const char *path, char *tmp, size_t tmplen)
{
	char digits[24];
	size_t nd = 0, len = strlen(path);
	for (unsigned pid = (unsigned)memlens__getpid(); nd == 0 || pid; pid /= 10)
		digits[nd++] = (char)('0' + pid % 10);
	if (len + 5 + nd >= tmplen)
		return 0;
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp.", 5);
	len += 5;
	while (nd)
		tmp[len++] = digits[--nd];
	tmp[len] = '\0';
	return 1;
}

int memlens__out_open(const char *path, int own_name, char *tmp, size_t tmplen, struct stat *st)
{
	struct stat own;
	long fd;
	if (!st)
		st = &own;
	tmp[0] = '\0';
	/* A device or FIFO the user named is the destination itself: never
	 * renamed over (MEMLENS_PROFILE=/dev/null stays /dev/null). */
	if (own_name || ML_SYS(SYS_newfstatat, AT_FDCWD, path, st, 0, 0, 0) != 0)
		st->st_mode = 0;
	else if (S_ISDIR(st->st_mode))
		return -EISDIR;
	else if (!S_ISREG(st->st_mode))
		return memlens__out_open_in_place(path, 0, 0);
	if (!tmp_name(path, tmp, tmplen)) {
		tmp[0] = '\0';
		return -ENAMETOOLONG;
	}
	/* Exclusive and not following links: a name planted in advance (a
	 * symlink to someone else's file) is removed, never written through. */
	for (int tries = 0;; tries++) {
		fd = ML_SYS(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
		            0600, 0, 0);
		if (fd != -EEXIST || tries)
			break;
		ML_SYS(SYS_unlink, tmp, 0, 0, 0, 0, 0);
	}
	if (fd < 0)
		tmp[0] = '\0';
	return (int)fd;
}

int memlens__out_finish(const char *path, const char *tmp, int err)
{
	if (!tmp[0])
		return err;
	if (!err) {
		long r = ML_SYS(SYS_rename, tmp, path, 0, 0, 0, 0);
		if (r < 0)
			err = (int)-r;
	}
	if (err)
		ML_SYS(SYS_unlink, tmp, 0, 0, 0, 0, 0);
	return err;
}
