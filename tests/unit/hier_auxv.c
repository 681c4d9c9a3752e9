/* hier_auxv: the process start-up area at the top of the main stack answers
 * "auxv": the chain stack -> start-up area (from &argv[-1], argc's slot, to
 * the top of the stack) -> argv array (base argv, size (argc+1)*8) / envp
 * array (base envp, size (nenv+1)*8) / auxv array (after envp's NULL,
 * entries incl. AT_NULL * 16, as long as /proc/self/auxv) / strings area
 * -> one string (base its start, size strlen+1).  AT_RANDOM's bytes lie in
 * the area but in no array.  The program re-executes itself with three
 * extra arguments and checks again with argc == 4. */
#include "hier_util.h"
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/auxv.h>

static uintptr_t stack_hi;

static void find_stack_top(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			stack_hi = hi;
	}
	fclose(f);
	CHECK(stack_hi != 0);
}

static size_t proc_auxv_len(void)
{
	char buf[4096];
	int fd = open("/proc/self/auxv", O_RDONLY);
	CHECK(fd >= 0);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		n += (size_t)r;
	close(fd);
	return n;
}

static char **g_argv;

/* Checks p's chain: stack -> area -> (array or strings area) [-> string];
 * returns the levels in c. */
static int start_chain(const void *p, struct alloc_info *c, int want_levels, const char *what)
{
	int n = hu_chain(p, c);
	CHECKF(n == want_levels, "%s: %p: %s, want %d levels", what, p, hu_chain_str(p), want_levels);
	CHECKF(!strcmp(hu_name(&c[0]), "stack"), "%s: %p: outermost %s (%s)", what, p, hu_name(&c[0]),
	       hu_chain_str(p));
	CHECKF((uintptr_t)c[0].base + c[0].size == stack_hi, "%s: stack level ends at %#lx, [stack] at %#lx", what,
	       (unsigned long)((uintptr_t)c[0].base + c[0].size), (unsigned long)stack_hi);
	for (int i = 1; i < n; i++)
		CHECKF(!strcmp(hu_name(&c[i]), "auxv"), "%s: %p: level %d is %s (%s)", what, p, i, hu_name(&c[i]),
		       hu_chain_str(p));
	CHECKF(c[1].base == (void *)(g_argv - 1) && (uintptr_t)c[1].base + c[1].size == stack_hi,
	       "%s: %p: start-up area %p+%#zx, want &argv[-1] %p to the stack top %#lx", what, p, c[1].base, c[1].size,
	       (void *)(g_argv - 1), (unsigned long)stack_hi);
	CHECKF(hu_is(p, "auxv"), "%s: allocator %s", what, hu_alloc(p));
	return n;
}

/* [base, base+size) is an array of the start-up area: at its first, second,
 * and last byte. */
static void expect_array(const void *base, size_t size, const char *what)
{
	const char *b = base;
	size_t offs[] = { 0, 1, size / 2, size - 8, size - 1 };
	for (unsigned k = 0; k < sizeof offs / sizeof *offs; k++) {
		struct alloc_info c[HU_MAX];
		start_chain(b + offs[k], c, 3, what);
		CHECKF(c[2].base == base && c[2].size == size, "%s+%zu: %p+%#zx, want %p+%#zx", what, offs[k], c[2].base,
		       c[2].size, base, size);
	}
	/* one past the end is not this array */
	CHECKF(alloc_get_base(b + size) != base, "%s: one past the end answers the array", what);
}

static uintptr_t strings_lo;

static void expect_string(const char *s, const char *what)
{
	size_t len = strlen(s) + 1;
	size_t offs[] = { 0, len / 2, len - 1 };
	for (unsigned k = 0; k < sizeof offs / sizeof *offs; k++) {
		struct alloc_info c[HU_MAX];
		start_chain(s + offs[k], c, 4, what);
		CHECKF(c[2].base == (void *)strings_lo && (uintptr_t)c[2].base + c[2].size == stack_hi,
		       "%s: strings area %p+%#zx, want %#lx to the stack top %#lx", what, c[2].base, c[2].size,
		       (unsigned long)strings_lo, (unsigned long)stack_hi);
		CHECKF(c[3].base == (void *)s && c[3].size == len, "%s \"%s\"+%zu: %p+%#zx, want %p+%#zx", what, s, offs[k],
		       c[3].base, c[3].size, (const void *)s, len);
	}
}

int main(int argc, char **argv, char **envp)
{
	g_argv = argv;
	find_stack_top();
	if (argc == 1) {
		/* again with three more arguments, one of them empty */
		char *nargv[] = { argv[0], "one", "", "three three three", NULL };
		fflush(NULL);
		execv("/proc/self/exe", nargv);
		CHECKF(0, "execv: %s", strerror(errno));
	}
	CHECK_EQ(argc, 4);
	CHECK_STREQ(argv[3], "three three three");

	/* argv: (argc+1) pointers */
	expect_array(argv, (argc + 1) * sizeof *argv, "argv");
	CHECK_EQ(alloc_get_size(argv), 40);
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(&argv[2], &in), 0);
	CHECK_PTR(in.base, argv);
	CHECK_EQ(in.size, 40);
	CHECK_EQ(in.level, 2);
	char buf[512];
	hu_describe(&argv[1], buf, sizeof buf);
	CHECKF(strstr(buf, "argv"), "argv: \"%s\" does not say argv", buf);

	/* envp: (nenv+1) pointers, right after argv's NULL */
	CHECK_PTR(envp, argv + argc + 1);
	int nenv = 0;
	while (envp[nenv])
		nenv++;
	CHECK(nenv > 0);
	expect_array(envp, (nenv + 1) * sizeof *envp, "envp");
	hu_describe(envp, buf, sizeof buf);
	CHECKF(strstr(buf, "envp") || strstr(buf, "environ"), "envp: \"%s\"", buf);

	/* auxv: after envp's NULL, entries up to and including AT_NULL */
	ElfW(auxv_t) *av = (ElfW(auxv_t) *)(envp + nenv + 1);
	size_t nav = 0;
	while (av[nav].a_type != AT_NULL)
		nav++;
	nav++;
	CHECK_EQ(nav * sizeof *av, proc_auxv_len());
	CHECK_EQ(sizeof *av, 16);
	expect_array(av, nav * sizeof *av, "auxv");
	hu_describe(&av[1], buf, sizeof buf);
	CHECKF(strstr(buf, "auxv"), "auxv: \"%s\"", buf);

	/* the strings: argv's and envp's, end to end */
	strings_lo = UINTPTR_MAX;
	for (int i = 0; i < argc; i++)
		if ((uintptr_t)argv[i] < strings_lo)
			strings_lo = (uintptr_t)argv[i];
	for (int i = 0; i < nenv; i++)
		if ((uintptr_t)envp[i] < strings_lo)
			strings_lo = (uintptr_t)envp[i];
	for (int i = 0; i < argc; i++)
		expect_string(argv[i], "an argv string");
	for (int i = 0; i < nenv; i++)
		expect_string(envp[i], "an envp string");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	if (execfn && (uintptr_t)execfn > strings_lo && (uintptr_t)execfn < stack_hi)
		expect_string(execfn, "AT_EXECFN");
	hu_describe(argv[3] + 2, buf, sizeof buf);
	CHECKF(strstr(buf, "three three three"), "argv[3]+2: \"%s\" does not quote the string", buf);

	/* AT_RANDOM's 16 bytes: in the area, in none of its arrays */
	const char *rnd = (const char *)getauxval(AT_RANDOM);
	CHECK(rnd != NULL);
	CHECK((uintptr_t)rnd > (uintptr_t)(av + nav) && (uintptr_t)rnd < strings_lo);
	struct alloc_info c[HU_MAX];
	start_chain(rnd, c, 2, "AT_RANDOM");
	start_chain(rnd + 15, c, 2, "AT_RANDOM+15");
	/* argc's slot: the area's first word */
	start_chain(argv - 1, c, 2, "argc's slot");

	/* none of it is a malloc chunk */
	UT_CHECK_NOT_CHUNK(argv);
	UT_CHECK_NOT_CHUNK(argv[1]);
	UT_CHECK_NOT_CHUNK(envp);

	/* setenv moves environ to the heap; the original array stays auxv */
	extern char **environ;
	CHECK_EQ(setenv("HIER_AUXV_NEW_VARIABLE", "1", 1), 0);
	if (environ != envp && !th_asan())
		CHECKF(ut_is_malloc(environ), "the new environ %p answers %s", (void *)environ, hu_chain_str(environ));
	expect_array(envp, (nenv + 1) * sizeof *envp, "envp after setenv");
	return 0;
}
