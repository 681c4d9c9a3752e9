/* util.c: memlens-cc's processes, temporary files, strings and lists. */
#include "cc.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int cc_verbose;

void cc_note(const char *fmt, ...)
{
	if (!cc_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("memlens-cc: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("memlens-cc: out of memory\n", stderr);
		cc_cleanup();
		_exit(1);
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("memlens-cc: out of memory\n", stderr);
		cc_cleanup();
		_exit(1);
	}
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

void str_add(struct str *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void str_addf(struct str *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		str_add(b, small);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	str_add(b, big);
	free(big);
}

void str_prepend(struct str *b, const char *s)
{
	size_t n = strlen(s);
	str_add(b, s); /* grows the buffer */
	memmove(b->s + n, b->s, b->len - n);
	memcpy(b->s, s, n);
}

/* Calls from one macro expansion share one location (GLib's g_new expands
 * to three calls, one per size case), and a return address maps to one
 * record: of those at one place, a typed record beats a byte count (C), and
 * otherwise the first stays. */
void cc_sites_add(struct sitelist *l, struct site *s)
{
	for (size_t i = 0; i < l->n; i++) {
		struct site *o = &l->v[i];
		if (o->line != s->line || o->col != s->col || strcmp(o->file, s->file))
			continue;
		if (o->shape == 'C' && s->shape != 'C') {
			free(o->file);
			free(o->type);
			*o = *s;
		} else {
			free(s->file);
			free(s->type);
		}
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = *s;
}

void cc_sites_free(struct sitelist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].file);
		free(l->v[i].type);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* ---- processes ---- */

static void print_argv(const char *what, char *const *argv)
{
	if (!cc_verbose)
		return;
	fprintf(stderr, "memlens-cc: %s:", what);
	for (; *argv; argv++)
		fprintf(stderr, " %s", *argv);
	fputc('\n', stderr);
}

int cc_spawn(char *const *argv)
{
	print_argv("running", argv);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "memlens-cc: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "memlens-cc: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	return pid;
}

int cc_wait(int pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

int cc_run(char *const *argv)
{
	int pid = cc_spawn(argv);
	return pid < 0 ? -1 : cc_wait(pid);
}

/* ---- temporary files ---- */

static char *tmpdir;
static unsigned ntmp;

static void on_signal(int sig)
{
	cc_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *cc_tmpdir(void)
{
	if (tmpdir)
		return tmpdir;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + 32;
	char *d = xmalloc(n);
	snprintf(d, n, "%s/memlens-cc.XXXXXX", base);
	if (!mkdtemp(d)) {
		fprintf(stderr, "memlens-cc: cannot make a temporary directory in %s: %s\n", base, strerror(errno));
		free(d);
		return NULL;
	}
	tmpdir = d;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	atexit(cc_cleanup);
	return tmpdir;
}

char *cc_tmppath(const char *suffix)
{
	const char *d = cc_tmpdir();
	if (!d)
		return NULL;
	size_t n = strlen(d) + strlen(suffix) + 32;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/t%u%s", d, ntmp++, suffix);
	return p;
}

void cc_forget_tmpdir(void)
{
	tmpdir = NULL;
}

void cc_cleanup(void)
{
	char *d = tmpdir;
	if (!d)
		return;
	tmpdir = NULL;
	DIR *dir = opendir(d);
	if (dir) {
		struct dirent *e;
		char path[4096];
		while ((e = readdir(dir)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(path, sizeof path, "%s/%s", d, e->d_name);
				unlink(path);
			}
		closedir(dir);
	}
	rmdir(d);
}
