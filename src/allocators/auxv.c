/* auxv.c: the "auxv" allocator, the process start-up area at the top of
 * the main stack: argc, the argv, envp and auxv arrays, then the argument
 * and environment strings, one level each:
 *   start-up area -> argv/envp/auxv array, or the strings -> one string
 * (stack.c asks it before looking for a frame). */
#include "memlens.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "allocators/allocator.h"
#include "space/regions.h"
#include "allocators/types_access.h"
#include "allocators/sentence.h"
#include <elf.h>
#include <link.h>
#include <string.h>

static struct {
	char **argv, **envp;
	int argc, nenv;
	ElfW(auxv_t) *auxv;
	size_t nauxv;
	uintptr_t area_lo, strings_lo;
} av;

void memlens__auxv_init(int argc, char **argv, char **envp)
{
	if (!argv || !envp || (char **)envp != argv + argc + 1)
		return; /* not the kernel's layout: leave the area unknown */
	av.argc = argc;
	av.argv = argv;
	av.envp = envp;
	while (envp[av.nenv])
		av.nenv++;
	av.auxv = (ElfW(auxv_t) *)(envp + av.nenv + 1);
	while (av.auxv[av.nauxv].a_type != AT_NULL)
		av.nauxv++;
	av.nauxv++; /* the AT_NULL entry is part of the array */
	av.area_lo = (uintptr_t)(argv - 1); /* argc */
	uintptr_t lo = UINTPTR_MAX;
	for (int i = 0; i < argc; i++)
		if ((uintptr_t)argv[i] < lo)
			lo = (uintptr_t)argv[i];
	for (int i = 0; i < av.nenv; i++)
		if ((uintptr_t)envp[i] < lo)
			lo = (uintptr_t)envp[i];
	av.strings_lo = lo;
}

/* Levels for p in stack region r when it is the main stack and p is in its
 * start-up area [area_lo, end of the stack); else none. */
static int auxv_levels(const void *ptr, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	uintptr_t p = (uintptr_t)ptr, hi = r->end;
	int n = 0;
	const struct ml_allocator *a = &memlens__auxv_allocator;
	(void)max, (void)innermost_only;
	if (!(r->flags & ML_RF_MAIN) || !av.area_lo || p < av.area_lo || av.area_lo - r->start >= r->end - r->start)
		return 0;
	memlens__level_put(&out[n++], a, ML_LEVEL_AUXV_AREA, av.area_lo, hi - av.area_lo, NULL);
	uintptr_t argv = (uintptr_t)av.argv, envp = (uintptr_t)av.envp, auxv = (uintptr_t)av.auxv;
	if (p - argv < (size_t)(av.argc + 1) * sizeof(char *))
		memlens__level_put(&out[n++], a, ML_LEVEL_ARGV, argv, (size_t)(av.argc + 1) * sizeof(char *), NULL);
	else if (p - envp < (size_t)(av.nenv + 1) * sizeof(char *))
		memlens__level_put(&out[n++], a, ML_LEVEL_ENVP, envp, (size_t)(av.nenv + 1) * sizeof(char *), NULL);
	else if (p - auxv < av.nauxv * sizeof(ElfW(auxv_t)))
		memlens__level_put(&out[n++], a, ML_LEVEL_AUXV_ARRAY, auxv, av.nauxv * sizeof(ElfW(auxv_t)), NULL);
	else if (p >= av.strings_lo && p < hi) {
		memlens__level_put(&out[n++], a, ML_LEVEL_ARG_STRINGS, av.strings_lo, hi - av.strings_lo, NULL);
		/* The strings lie end to end, each with its NUL. */
		const char *s = (const char *)p, *lo = (const char *)av.strings_lo, *end = (const char *)hi;
		while (s > lo && s[-1])
			s--;
		const char *e = memchr((const char *)p, 0, (size_t)(end - (const char *)p));
		if (e)
			memlens__level_put(&out[n++], a, ML_LEVEL_ARG_STRING, (uintptr_t)s, (size_t)(e + 1 - s), NULL);
	}
	return n;
}

static const struct uniqtype *auxv_entry_type(const struct ml_types_api *a)
{
	const struct uniqtype *u64 = a->base_type("unsigned_long_int", 64);
	static const char *const names[] = { "a_type", "a_val" };
	static const size_t offs[] = { 0, 8 };
	const struct uniqtype *types[] = { u64, u64 };
	return a->make_struct("Elf64_auxv_t", 16, 2, names, offs, types);
}

static const struct uniqtype *auxv_type(const struct ml_level *l)
{
	const struct ml_types_api *a = memlens__types_api();
	if (!a)
		return NULL;
	const struct uniqtype *t = NULL;
	memlens__types_lock();
	if (l->kind == ML_LEVEL_ARGV || l->kind == ML_LEVEL_ENVP)
		t = a->array_of(a->pointer_to(memlens__types_char(a)), l->info.size / sizeof(char *));
	else if (l->kind == ML_LEVEL_AUXV_ARRAY)
		t = a->array_of(auxv_entry_type(a), l->info.size / 16);
	else if (l->kind == ML_LEVEL_ARG_STRING)
		t = a->array_of(memlens__types_char(a), l->info.size);
	memlens__types_unlock();
	return t;
}

static void auxv_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1];
	memlens__describe_where(b, p, in);
	if (in->kind == ML_LEVEL_ARG_STRING) {
		const char *s = in->info.base;
		memlens__bputs(b, "the string \"");
		for (size_t i = 0; i + 1 < in->info.size && i < 40; i++)
			memlens__bputc(b, s[i] >= ' ' && s[i] < 127 ? s[i] : '?');
		memlens__bfmt(b, "%s\" (%zu bytes) in the process start-up area", in->info.size > 41 ? "..." : "",
		              in->info.size);
	} else if (in->kind == ML_LEVEL_AUXV_AREA)
		memlens__bfmt(b, "the process start-up area (%zu bytes), in no array or string", in->info.size);
	else
		memlens__bfmt(b, "the %s (%zu bytes) in the process start-up area", memlens__level_what(in->kind),
		              in->info.size);
}

const struct ml_allocator memlens__auxv_allocator = {
	.pub = { .name = "auxv" },
	.levels = auxv_levels,
	.type = auxv_type,
	.describe = auxv_describe,
};
