/* badfree.c: what happens on bad frees and on overwrites next to a chunk
 * (built plain, run plain, under a prototype or under memlens).
 *
 *   badfree            every scenario, each in a forked child
 *
 * One line per scenario: its name, how the child ended ("ok" = it went on
 * and exited normally; "SIGABRT" etc. = it died) and the first diagnostic
 * lines it printed, if any (the prototypes' "proto: ...", glibc's own
 * "free(): ..."; memlens writes its reports to the stderr it found at
 * start-up, the parent's, so they appear above the table). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char static_buf[256] __attribute__((aligned(16)));
static size_t (*get_size)(const void *);

/* Keeps the compiler from reasoning about the pointers we abuse. */
static void *launder(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

static void say(const char *fmt, size_t v)
{
	fprintf(stdout, fmt, v);
	fflush(stdout);
}

static void s_stack(void)
{
	char local[64] __attribute__((aligned(16)));
	free(launder(local + 16));
}
static void s_static(void) { free(launder(static_buf + 16)); }
static void s_mmap(void)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	free(launder(m + 64));
}
static void s_interior(void)
{
	char *p = malloc(100);
	free(launder(p + 16));
}
static void s_double(void)
{
	char *volatile p = malloc(100);
	free(p);
	free(p);
}
/* The program writes the 8 bytes just before its chunk. */
static void s_underflow(void)
{
	char *p = malloc(100);
	memset(launder(p - 8), 0x41, 8);
	free(p);
}
/* The chunk before overruns into this one's first bytes: everything from
 * the end of a up to b is overwritten (glibc's header of b and, under
 * route B, memlens's). */
static void s_overflow(void)
{
	char *a = malloc(24), *b = malloc(24);
	if (b <= a || b - a > 256) {
		say("(chunks not adjacent: skipped)\n", 0);
		return;
	}
	memset(launder(a), 0x41, (size_t)(b - a));
	free(b);
	free(a);
}
/* A query on a chunk whose neighbouring bytes were overwritten. */
static void s_query_after(void)
{
	char *p = malloc(100);
	memset(launder(p - 8), 0x41, 8);
	if (get_size)
		say("size query answers %zd\n", get_size(p + 10));
}
/* The 16 bytes before d replaced by those before c (a program copying a
 * region across chunk boundaries): same-sized chunks, so glibc's part is
 * still plausible. */
static void s_copied_header(void)
{
	char *c = malloc(100), *d = malloc(100);
	memcpy((char *)launder(d) - 16, (char *)launder(c) - 16, 16);
	free(d);
	free(c);
}
static void s_realloc_bad(void)
{
	char local[64] __attribute__((aligned(16)));
	void *q = realloc(launder(local + 16), 10);
	say("realloc returned %zx\n", (size_t)(uintptr_t)q);
}
/* The program uses all of malloc_usable_size, as it may. */
static void s_usable(void)
{
	char *p = malloc(100), *q = malloc(100);
	size_t n = malloc_usable_size(p);
	memset(p, 0x42, n);
	free(q);
	free(p);
	say("usable %zu, all written, freed\n", n);
}
static void s_aligned(void)
{
	void *p = NULL, *q = aligned_alloc(64, 128), *r = memalign(256, 1000);
	int bad = 0;
	if (posix_memalign(&p, 4096, 100) || ((uintptr_t)p & 4095) || ((uintptr_t)q & 63) || ((uintptr_t)r & 255))
		bad = 1;
	if (get_size && (get_size((char *)p + 50) != 100 || get_size((char *)q + 1) != 128 || get_size(r) != 1000))
		bad = 1;
	r = realloc(r, 5000);
	memset(r, 1, 5000);
	free(p);
	free(q);
	free(r);
	say(bad ? "aligned chunks: WRONG alignment or size\n" : "aligned chunks: aligned and sized right\n", 0);
}
static void s_realloc(void)
{
	char *p = malloc(10);
	int ok = 1;
	for (size_t n = 20; n < 300000; n = n * 3 / 2) {
		p = realloc(p, n);
		p[n - 1] = 7;
		if (p[9] != 0 && n == 20)
			ok = 0;
		if (get_size && get_size(p + n - 1) != n)
			ok = 0;
	}
	p = realloc(p, 5);
	free(p);
	say(ok ? "realloc growth: sizes right\n" : "realloc growth: WRONG size\n", 0);
}

static const struct {
	const char *name;
	void (*fn)(void);
} scen[] = {
	{ "free of a stack address", s_stack },
	{ "free of a static address", s_static },
	{ "free of an mmap'd page", s_mmap },
	{ "free of an interior pointer", s_interior },
	{ "double free", s_double },
	{ "8 bytes before the chunk overwritten, then free", s_underflow },
	{ "previous chunk overruns to this one, then free", s_overflow },
	{ "size query after the 8 bytes before were overwritten", s_query_after },
	{ "16 bytes before the chunk copied from another's", s_copied_header },
	{ "realloc of a stack address", s_realloc_bad },
	{ "all of malloc_usable_size written", s_usable },
	{ "posix_memalign/aligned_alloc/memalign + realloc", s_aligned },
	{ "realloc growth 10 B .. 300 KB", s_realloc },
};

int main(void)
{
	get_size = (size_t (*)(const void *))dlsym(RTLD_DEFAULT, "proto_get_size");
	if (!get_size)
		get_size = (size_t (*)(const void *))dlsym(RTLD_DEFAULT, "alloc_get_size");
	for (size_t i = 0; i < sizeof scen / sizeof scen[0]; i++) {
		int out[2], st;
		char buf[4096], *line;
		ssize_t n, got = 0;
		pid_t pid;
		fflush(stdout);
		if (pipe(out))
			return 1;
		if ((pid = fork()) == 0) {
			dup2(out[1], 1);
			dup2(out[1], 2);
			close(out[0]);
			setenv("MALLOC_CHECK_", "0", 1);
			scen[i].fn();
			fflush(stdout);
			_exit(0);
		}
		close(out[1]);
		while ((n = read(out[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
			got += n;
		buf[got] = 0;
		close(out[0]);
		waitpid(pid, &st, 0);
		printf("%-52s %-8s", scen[i].name,
		       WIFEXITED(st) ? (WEXITSTATUS(st) ? "exit!=0" : "ok") : strsignal(WTERMSIG(st)));
		for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			printf(" | %s", line);
		printf("\n");
	}
	return 0;
}
