/* partial.c: `memlens run` removes its processes' partial outputs
 * (partial.h). */
#include "partial.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Does name (without its .tmp.PID) come from the base name tmpl: tmpl's
 * text around its %p with digits in place of it, then nothing, .PID or
 * .execN (any of them, in that order)? */
static int made_from(const char *tmpl, const char *name, size_t len)
{
	const char *pp = strstr(tmpl, "%p");
	size_t pre = pp ? (size_t)(pp - tmpl) : strlen(tmpl);
	if (len < pre || memcmp(name, tmpl, pre))
		return 0;
	size_t i = pre;
	if (pp) {
		size_t d = i;
		while (i < len && isdigit((unsigned char)name[i]))
			i++;
		if (i == d)
			return 0;
		const char *post = pp + 2;
		size_t np = strlen(post);
		if (len - i < np || memcmp(name + i, post, np))
			return 0;
		i += np;
	}
	/* the rest: (.DIGITS)? (.execDIGITS)? */
	if (i < len && name[i] == '.' && i + 1 < len && isdigit((unsigned char)name[i + 1])) {
		for (i++; i < len && isdigit((unsigned char)name[i]); i++)
			;
	}
	if (i < len && len - i > 5 && !memcmp(name + i, ".exec", 5)) {
		size_t d = i + 5;
		for (i = d; i < len && isdigit((unsigned char)name[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i == len;
}

int remove_partials(const char *tmpl, const char *what, time_t since)
{
	const char *slash = strrchr(tmpl, '/');
	if (!slash || !slash[1])
		return 0;
	char dir[PATH_MAX];
	size_t dl = slash == tmpl ? 1 : (size_t)(slash - tmpl);
	if (dl >= sizeof dir)
		return 0;
	memcpy(dir, tmpl, dl);
	dir[dl] = '\0';
	const char *base = slash + 1;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *t = strstr(e->d_name, ".tmp.");
		if (!t)
			continue;
		while (strstr(t + 1, ".tmp.")) /* the last one */
			t = strstr(t + 1, ".tmp.");
		const char *digits = t + 5;
		char *end;
		errno = 0;
		long pid = strtol(digits, &end, 10);
		if (!isdigit((unsigned char)*digits) || *end || errno || pid <= 0 || pid > INT_MAX)
			continue;
		if (!made_from(base, e->d_name, (size_t)(t - e->d_name)))
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) /* still running (or not ours to know) */
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid() || st.st_mtime < since)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0)
			continue;
		fprintf(stderr, "memlens: process %ld ended while writing its %s: the partial file %s%s%s was removed\n",
		        pid, what, dir, strcmp(dir, "/") ? "/" : "", e->d_name);
		removed++;
	}
	closedir(d);
	return removed;
}
