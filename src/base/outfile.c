/* outfile.c: the runtime's output files (outfile.h), by the rules of
 * outfile_rules.h, each failure reported through diag.h. */
#include "base/outfile.h"
#include "base/diag.h"
#include "base/outfile_rules.h"
#include "base/prim.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>

const char *memlens__errno_text(int err)
{
	switch (err) {
	case ENOSPC: return "no space left on device";
	case EDQUOT: return "disk quota exceeded";
	case EFBIG: return "file too large";
	case EIO: return "input/output error";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such file or directory";
	case ENOTDIR: return "not a directory";
	case EISDIR: return "is a directory";
	case EROFS: return "read-only file system";
	case EEXIST: return "file exists";
	case ELOOP: return "too many levels of symbolic links";
	case ENAMETOOLONG: return "file name too long";
	case ENXIO: return "a FIFO without a reader (or a device without its driver)";
	case EPIPE: return "broken pipe";
	case EAGAIN: return "would block";
	case EMFILE: case ENFILE: return "too many open files";
	case EBADF: return "bad file descriptor";
	default: return "error";
	}
}

static void report(const struct ml_outfile *f, const char *name, int err)
{
	memlens__warn("%s: cannot write %s: %s (errno %d)", f->what, name, memlens__errno_text(err), err);
}

int memlens__outfile_open(struct ml_outfile *f, const char *what, const char *path, int own_name)
{
	f->what = what;
	f->path = path;
	f->err = 0;
	f->fd = memlens__out_open(path, own_name, f->tmp, sizeof f->tmp, NULL);
	if (f->fd < 0) {
		report(f, path, -f->fd);
		f->fd = -1;
		return -1;
	}
	return 0;
}

int memlens__outfile_write(struct ml_outfile *f, const void *buf, size_t len)
{
	const char *c = buf;
	if (f->err || f->fd < 0)
		return -1;
	while (len) {
		long r = ML_SYS(SYS_write, f->fd, c, len, 0, 0, 0);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			f->err = r ? (int)-r : ENOSPC; /* a write of 0 bytes: nothing fits */
			return -1;
		}
		c += r;
		len -= (size_t)r;
	}
	return 0;
}

int memlens__outfile_close(struct ml_outfile *f)
{
	long r;
	if (f->fd < 0)
		return -1;
	r = ML_SYS(SYS_close, f->fd, 0, 0, 0, 0, 0);
	f->fd = -1;
	if (r < 0 && r != -EINTR && !f->err)
		f->err = (int)-r; /* NFS and quotas report late */
	f->err = memlens__out_finish(f->path, f->tmp, f->err);
	if (f->err) {
		report(f, f->path, f->err);
		return -1;
	}
	return 0;
}

int memlens__outfile_open_append(const char *path)
{
	return memlens__out_open_in_place(path, O_CREAT | O_APPEND, 0600);
}
