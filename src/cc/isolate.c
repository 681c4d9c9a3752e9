/* isolate.c: the libclang analysis of a source runs in a child process, on
 * a thread with a big stack.  libclang recurses along the syntax tree (its
 * parser, Sema and cursor visitors), so a source plain cc compiles (a
 * 100 000-term sum, 10 000 nested casts, a 200 000-term macro) overflows
 * libclang's own 8 MiB parsing thread, and a crash in libclang must never
 * take the build with it.  The child sends the table block back through a
 * pipe; when it dies instead, the source gets the one warning of a source
 * that could not be analysed, and the compile goes on. */
#include "cc.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The analysis's stack: enough for the sources above with room to spare
 * (they need up to 64 MiB with libclang 14); reserved, not committed. */
#define DEFAULT_STACK (512UL << 20)

static size_t stack_size(void)
{
	const char *e = getenv("MEMLENS_CC_STACK");
	if (!e || !*e)
		return DEFAULT_STACK;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(e, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == e || *end || v > (64ULL << 30) >> shift || (v << shift) < (1ULL << 20)) {
		fprintf(stderr, "memlens-cc: MEMLENS_CC_STACK=%s is not a size from 1M to 64G; using 512M\n", e);
		return DEFAULT_STACK;
	}
	return (size_t)(v << shift);
}

struct job {
	const char *src;
	const char *const *args;
	int nargs;
	struct sitelist sites;
	char *why;
	int ret;
};

static void *analyse_job(void *p)
{
	struct job *j = p;
	j->ret = cc_analyse(j->src, j->args, j->nargs, &j->sites, &j->why);
	return NULL;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The child: analyses, then writes "T<nsites>\n<block>" or "E<why>". */
static void child(int fd, struct job *j, size_t stack)
{
	cc_forget_tmpdir();
	/* libclang's parse on the calling thread (ours, with the big stack),
	 * and a crash a plain death rather than a half-recovered LLVM */
	setenv("LIBCLANG_NOTHREADS", "1", 1);
	setenv("LIBCLANG_DISABLE_CRASH_RECOVERY", "1", 1);
	void *mem = mmap(NULL, stack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
	                 -1, 0);
	pthread_attr_t a;
	pthread_t t;
	int ran = 0;
	if (mem != MAP_FAILED && !pthread_attr_init(&a) && !pthread_attr_setstack(&a, mem, stack) &&
	    !pthread_create(&t, &a, analyse_job, j)) {
		pthread_join(t, NULL);
		ran = 1;
	}
	if (!ran) /* no room for the big stack: the ordinary one */
		analyse_job(j);
	struct str out = { 0 };
	if (j->ret == 0) {
		str_addf(&out, "T%zu\n", j->sites.n);
		cc_table_block(&j->sites, &out);
	} else
		str_addf(&out, "E%s", j->why ? j->why : "the analysis failed");
	_exit(write_all(fd, out.s, out.len) ? 1 : 0);
}

int cc_analyse_isolated(const char *src, const char *const *args, int nargs, struct str *table, size_t *nsites,
                        char **why)
{
	*why = NULL;
	*nsites = 0;
	size_t stack = stack_size();
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		*why = xstrdup("no pipe for the analysis");
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		*why = xstrdup("no process for the analysis");
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		struct job j = { src, args, nargs, { 0 }, NULL, -1 };
		child(p[1], &j, stack);
	}
	close(p[1]);
	struct str got = { 0 };
	char buf[65536];
	for (;;) {
		ssize_t r = read(p[0], buf, sizeof buf - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf[r] = 0;
		str_add(&got, buf); /* the block is text: no NUL in it */
	}
	close(p[0]);
	int st = cc_wait(pid);
	int ret = -1;
	char msg[256];
	if (st != -1 && WIFSIGNALED(st)) {
		snprintf(msg, sizeof msg, "libclang crashed (%s)", strsignal(WTERMSIG(st)));
		*why = xstrdup(msg);
	} else if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) || !got.s || (got.s[0] != 'T' && got.s[0] != 'E')) {
		snprintf(msg, sizeof msg, "the analysis failed (exit status %d)",
		         st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		*why = xstrdup(msg);
	} else if (got.s[0] == 'E')
		*why = xstrdup(got.s + 1);
	else {
		char *nl = strchr(got.s, '\n');
		*nsites = strtoul(got.s + 1, NULL, 10);
		if (nl) {
			str_add(table, nl + 1);
			ret = 0;
		} else
			*why = xstrdup("the analysis sent a truncated table");
	}
	free(got.s);
	return ret;
}
