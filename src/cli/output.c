/* output.c: the CLI's output files (output.h), as stdio streams, by the
 * runtime's own rules: src/base/outfile_rules.c is linked in. */
#include "output.h"
#include "base/outfile_rules.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int output_open(struct cli_output *out, const char *path)
{
	struct stat st;
	out->path = path;
	out->f = NULL;
	int fd = memlens__out_open(path, 0, out->tmp, sizeof out->tmp, &st);
	if (fd < 0)
		return -fd;
	if (out->tmp[0]) {
		/* The new file takes the replaced one's permissions, or the usual
		 * ones of a new file (the temporary name was private meanwhile). */
		mode_t um = umask(0);
		umask(um);
		fchmod(fd, st.st_mode ? st.st_mode & 07777 : 0666 & ~um);
	}
	if (!(out->f = fdopen(fd, "w"))) {
		int e = errno;
		close(fd);
		memlens__out_finish(path, out->tmp, e);
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
	return memlens__out_finish(out->path, out->tmp, err);
}

void output_abandon(struct cli_output *out)
{
	fclose(out->f);
	out->f = NULL;
	memlens__out_finish(out->path, out->tmp, ECANCELED);
}

int output_start_log(const char *path)
{
	int fd = memlens__out_open_in_place(path, O_CREAT | O_APPEND, 0600);
	struct stat st;
	if (fd < 0)
		return -fd;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}
