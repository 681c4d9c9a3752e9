/* output.c: the CLI's output files (output.h). */
#include "output.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_in_place(const char *path, int flags, int mode)
{
	int fd = open(path, flags | O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int output_open(struct cli_output *out, const char *path)
{
	struct stat st;
	int fd, exists = stat(path, &st) == 0;
	out->path = path;
	out->tmp = NULL;
	out->f = NULL;
	if (exists && S_ISDIR(st.st_mode))
		return EISDIR;
	if (exists && !S_ISREG(st.st_mode)) {
		fd = open_in_place(path, 0, 0);
	} else {
		if (asprintf(&out->tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
			return ENOMEM;
		fd = open(out->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST && unlink(out->tmp) == 0) /* stale, or planted: never followed */
			fd = open(out->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
		/* The new file takes the replaced one's permissions, or the usual
		 * ones of a new file (the temporary name was private meanwhile). */
		mode_t um = umask(0);
		umask(um);
		if (fd >= 0)
			fchmod(fd, exists ? st.st_mode & 07777 : 0666 & ~um);
	}
	if (fd < 0 || !(out->f = fdopen(fd, "w"))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	return 0;
}

int output_close(struct cli_output *out)
{
	int err = 0;
	if (fflush(out->f) != 0 || ferror(out->f))
		err = errno ? errno : EIO;
	if (fclose(out->f) != 0 && !err)
		err = errno ? errno : EIO;
	out->f = NULL;
	if (out->tmp) {
		if (!err && rename(out->tmp, out->path) != 0)
			err = errno;
		if (err)
			unlink(out->tmp);
		free(out->tmp);
		out->tmp = NULL;
	}
	return err;
}

int output_start_log(const char *path)
{
	int fd = open_in_place(path, O_CREAT | O_APPEND, 0600);
	struct stat st;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}
