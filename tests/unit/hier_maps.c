/* hier_maps: memlens_print_maps writes a header and one line per
 * /proc/self/maps line (the same ranges and permissions, nothing that is
 * not a mapping of the program before or after the call), each with its
 * allocator: the executable's and libc's text "static" with a symbol count
 * > 0, [heap] "brk" counting the test's 100 live chunks, [stack] "stack" of
 * the main thread, another thread's stack "stack" of that thread, a mapping
 * of the test "mmap", a SysV segment "mmap(shm)"; the chunk counts of every
 * line are at least the test's live chunks in it. */
#include "hier_util.h"
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

struct mline { uintptr_t lo, hi; char perm[5]; char alloc[32]; char contents[128]; char path[256]; };

/* /proc/self/maps read with read(2) into a static buffer (no malloc). */
static char maps_before[1 << 17], maps_after[1 << 17];

static void read_maps(char *buf, size_t cap)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	CHECK(fd >= 0);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(fd);
	CHECK(n < cap - 1);
}

/* the maps line [lo, hi) with perms is in buf */
static int in_maps(const char *buf, uintptr_t lo, uintptr_t hi, const char *perm)
{
	char key[80];
	snprintf(key, sizeof key, "%lx-%lx %s ", (unsigned long)lo, (unsigned long)hi, perm);
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, strlen(key)))
			return 1;
	return 0;
}

static struct mline out[4096];
static int nout;
static char outbuf[1 << 20];

static void parse_output(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	CHECK(f != NULL);
	CHECK(fgets(line, sizeof line, f) != NULL);
	CHECKF(!strncmp(line, "address", 7), "the first line is not a header: %s", line);
	while (fgets(line, sizeof line, f)) {
		CHECK(nout < 4096);
		struct mline *m = &out[nout];
		unsigned long lo, hi, off;
		int pos = 0;
		line[strcspn(line, "\n")] = 0;
		CHECKF(sscanf(line, "%lx-%lx %4s %lx %31s %n", &lo, &hi, m->perm, &off, m->alloc, &pos) == 5 && pos > 0,
		       "unparsable line: \"%s\"", line);
		m->lo = lo;
		m->hi = hi;
		/* then the contents ("-" or counts) and the path, if any, which
		 * starts with '/' or '[' */
		const char *rest = line + pos;
		const char *p = strchr(rest, '/') ? strchr(rest, '/') : strchr(rest, '[');
		if (p) {
			snprintf(m->path, sizeof m->path, "%s", p);
			snprintf(m->contents, sizeof m->contents, "%.*s", (int)(p - rest), rest);
		} else
			snprintf(m->contents, sizeof m->contents, "%s", rest);
		nout++;
	}
	fclose(f);
	CHECKF(nout > 10, "only %d lines", nout);
}

static const struct mline *line_of(const void *p)
{
	for (int i = 0; i < nout; i++)
		if ((uintptr_t)p >= out[i].lo && (uintptr_t)p < out[i].hi)
			return &out[i];
	return NULL;
}

static unsigned long count_after(const char *contents, const char *what)
{
	const char *s = strstr(contents, what);
	if (!s)
		return 0;
	while (s > contents && (s[-1] == ' ' || (s[-1] >= '0' && s[-1] <= '9')))
		s--;
	return strtoul(s, NULL, 10);
}

static pthread_barrier_t b1, b2;
static volatile int *thread_local_addr;
static pid_t thread_tid;

static void *thread_main(void *arg)
{
	volatile int x = 1;
	(void)arg;
	thread_local_addr = &x;
	thread_tid = gettid();
	pthread_barrier_wait(&b1);
	pthread_barrier_wait(&b2);
	return NULL;
}

int main(void)
{
	enum { N = 100 };
	char *chunks[N];
	for (int i = 0; i < N; i++) {
		chunks[i] = malloc(50 + i);
		CHECK(chunks[i] != NULL);
	}
	/* a page of its own protection between two PROT_NONE pages */
	char *res = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(res != MAP_FAILED);
	char *mine = mmap(res + 4096, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(mine == res + 4096);
	int shmid = shmget(IPC_PRIVATE, 4 * 4096, IPC_CREAT | 0600);
	char *shm = shmid >= 0 ? shmat(shmid, NULL, SHM_RDONLY) : (void *)-1;
	if (shmid >= 0)
		shmctl(shmid, IPC_RMID, NULL);
	pthread_t t;
	CHECK_EQ(pthread_barrier_init(&b1, NULL, 2), 0);
	CHECK_EQ(pthread_barrier_init(&b2, NULL, 2), 0);
	CHECK_EQ(pthread_create(&t, NULL, thread_main, NULL), 0);
	pthread_barrier_wait(&b1);

	/* once to /dev/null: whatever memlens reads lazily is read now */
	FILE *dn = fopen("/dev/null", "w");
	CHECK(dn != NULL);
	memlens_print_maps(dn);
	fclose(dn);
	memlens_print_maps(NULL); /* no crash */

	FILE *f = fopen("maps.txt", "w");
	CHECK(f != NULL);
	setvbuf(f, outbuf, _IOFBF, sizeof outbuf);
	read_maps(maps_before, sizeof maps_before);
	memlens_print_maps(f);
	read_maps(maps_after, sizeof maps_after);
	CHECK_EQ(fclose(f), 0);
	pthread_barrier_wait(&b2);
	CHECK_EQ(pthread_join(t, NULL), 0);
	parse_output("maps.txt");

	/* every line has an allocator */
	for (int i = 0; i < nout; i++) {
		const struct mline *m = &out[i];
		if (i > 0)
			CHECKF(m->lo >= out[i - 1].hi, "line %d is not in address order", i + 2);
		CHECKF(!strcmp(m->alloc, "static") || !strcmp(m->alloc, "mmap") || !strcmp(m->alloc, "mmap(shm)") ||
		       !strcmp(m->alloc, "brk") || !strcmp(m->alloc, "stack") ||
		       (!strcmp(m->alloc, "-") && m->lo >= 0x800000000000ul),
		       "line %d %lx-%lx %s: allocator \"%s\"", i + 2, (unsigned long)m->lo, (unsigned long)m->hi, m->path,
		       m->alloc);
	}

	/* the executable's text */
	char exe[PATH_MAX];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
	CHECK(el > 0);
	exe[el] = 0;
	const struct mline *m = line_of((const void *)main);
	CHECKF(m && !strcmp(m->alloc, "static") && !strcmp(m->path, exe), "main's line: %s %s", m ? m->alloc : "none",
	       m ? m->path : "");
	CHECKF(m->perm[2] == 'x' && count_after(m->contents, "symbols") > 0, "main's line: \"%s\"", m->contents);
	/* libc's text */
	m = line_of((const void *)getpid);
	CHECKF(m && !strcmp(m->alloc, "static") && strstr(m->path, "libc") && count_after(m->contents, "symbols") > 100,
	       "getpid's line: %s \"%s\" %s", m ? m->alloc : "none", m ? m->contents : "", m ? m->path : "");
	/* the heap */
	m = line_of(chunks[0]);
	CHECK(m != NULL);
	if (!th_asan()) {
		CHECKF(!strcmp(m->path, "[heap]") && !strcmp(m->alloc, "brk"), "the first chunk's line: %s %s", m->alloc,
		       m->path);
		CHECKF(count_after(m->contents, "chunks") >= N, "[heap]: \"%s\", want at least %d chunks", m->contents, N);
	}
	for (int i = 0; i < nout; i++) {
		unsigned long mine_here = 0;
		for (int k = 0; k < N; k++)
			mine_here += (uintptr_t)chunks[k] >= out[i].lo && (uintptr_t)chunks[k] < out[i].hi;
		CHECKF(count_after(out[i].contents, "chunks") >= mine_here, "line %lx-%lx: \"%s\", %lu of the test's chunks",
		       (unsigned long)out[i].lo, (unsigned long)out[i].hi, out[i].contents, mine_here);
	}
	/* the main stack and the thread's */
	int here = 0;
	m = line_of(&here);
	char want[64];
	snprintf(want, sizeof want, "thread %d", (int)getpid());
	CHECKF(m && !strcmp(m->alloc, "stack") && !strcmp(m->path, "[stack]") && strstr(m->contents, want),
	       "the main stack's line: %s \"%s\" %s", m ? m->alloc : "none", m ? m->contents : "", m ? m->path : "");
	m = line_of((const void *)thread_local_addr);
	snprintf(want, sizeof want, "thread %d", (int)thread_tid);
	CHECKF(m && !strcmp(m->alloc, "stack") && strstr(m->contents, want), "the thread's stack line: %s \"%s\"",
	       m ? m->alloc : "none", m ? m->contents : "");
	/* the test's own mappings */
	m = line_of(mine);
	CHECKF(m && m->lo == (uintptr_t)mine && m->hi == (uintptr_t)mine + 4096 && !strcmp(m->alloc, "mmap"),
	       "the test's page: %s %lx-%lx", m ? m->alloc : "none", m ? (unsigned long)m->lo : 0ul,
	       m ? (unsigned long)m->hi : 0ul);
	m = line_of(res);
	CHECKF(m && !strcmp(m->alloc, "mmap"), "the test's PROT_NONE page: %s", m ? m->alloc : "none");
	if (shm != (void *)-1) {
		m = line_of(shm);
		CHECKF(m && !strncmp(m->alloc, "mmap", 4) && m->lo == (uintptr_t)shm && m->hi == (uintptr_t)shm + 4 * 4096,
		       "the shm segment: %s", m ? m->alloc : "none");
		CHECK_EQ(shmdt(shm), 0);
	}
	/* the same lines as /proc/self/maps: none that is a mapping neither
	 * before nor after the call (memlens's own scratch memory for the
	 * report), and every line there before and after */
	for (int i = 0; i < nout; i++) {
		const struct mline *m = &out[i];
		CHECKF(in_maps(maps_before, m->lo, m->hi, m->perm) || in_maps(maps_after, m->lo, m->hi, m->perm),
		       "line %d %lx-%lx %s (%s %s) is a mapping neither before nor after the call", i + 2,
		       (unsigned long)m->lo, (unsigned long)m->hi, m->perm, m->alloc, m->path);
	}
	int both = 0;
	for (const char *l = maps_before; *l; l = strchr(l, '\n') + 1) {
		unsigned long lo, hi;
		char perm[5];
		CHECK(sscanf(l, "%lx-%lx %4s", &lo, &hi, perm) == 3);
		if (in_maps(maps_after, lo, hi, perm)) {
			both++;
			int found = 0;
			for (int i = 0; i < nout && !found; i++)
				found = out[i].lo == lo && out[i].hi == hi && !strcmp(out[i].perm, perm);
			CHECKF(found, "maps line %lx-%lx %s (there before and after) is not in the output", lo, hi, perm);
		}
		if (!strchr(l, '\n'))
			break;
	}
	CHECK(both > 10);

	for (int i = 0; i < N; i++)
		free(chunks[i]);
	munmap(res, 3 * 4096);
	return 0;
}
