#!/bin/bash
# types_module: libmemlens-types.so's api, driven directly (dlopen, no
# runtime): static_type on the program's globals (base and size of the
# whole variable from an interior address), a function-static variable, a
# function (its code range and type), and a variable in a dlopen'ed
# library (path and bias from dl_iterate_phdr); NULL for an object without
# DWARF; equal structs from two libraries are one pointer, a different
# struct of the same tag gets "<tag>$<hash>"; a struct seen first only
# declared (incomplete) is completed in place by its definition in
# another library; frame_type on an -O0
# function's own frame (unwound with _Unwind_Backtrace) puts each local
# and parameter at (char *)&local - base; all for gcc (DWARF 5 and 4)
# and clang builds;
# array_of / pointer_to / base_type / by_name names and identity; main's
# function type name; site_type with a hand-made .memlens_sites section
# (two calls on one line told apart by column, an unrecorded call).
. "$ROOT/tests/lib.sh"
TYPES_SO=$BUILD/lib/libmemlens-types.so
[ -e "$TYPES_SO" ] || fail "$TYPES_SO missing (make failed?)"

cat > shared.h <<'C'
struct shared_pt { int x; double y; struct shared_pt *next; };
C
cat > liba.c <<'C'
#include "shared.h"
struct shared_pt liba_pt = { 1, 2.0, 0 };
int liba_table[50] = { 1 };
struct shared_pt *liba_addr(void) { return &liba_pt; }
C
cat > libb.c <<'C'
#include "shared.h"
struct shared_pt libb_pts[3];
C
cat > libc.c <<'C'
struct shared_pt { char z; };
struct shared_pt libc_pt;
C
cat > libd.c <<'C'
struct opaque;
struct opaque *libd_ptr;
C
cat > libe.c <<'C'
struct opaque { int a, b; };
struct opaque libe_obj;
C
cat > drv.c <<'C'
#include <dlfcn.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unwind.h>
#include "types_module.h"

static const struct ml_types_api *api;
static int failures;
#define CHECK(c, ...) do { if (!(c)) { printf("FAIL line %d: ", __LINE__); printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

/* The loaded object containing addr: path and bias. */
struct found { uintptr_t addr; char path[PATH_MAX]; uintptr_t bias; int ok; };
static int phdr_cb(struct dl_phdr_info *i, size_t sz, void *arg)
{
	(void)sz;
	struct found *f = arg;
	for (int k = 0; k < i->dlpi_phnum; k++) {
		const ElfW(Phdr) *p = &i->dlpi_phdr[k];
		if (p->p_type != PT_LOAD || f->addr - (i->dlpi_addr + p->p_vaddr) >= p->p_memsz)
			continue;
		if (!i->dlpi_name[0]) {
			if (!realpath("/proc/self/exe", f->path))
				return 0;
		} else
			snprintf(f->path, sizeof f->path, "%s", i->dlpi_name);
		f->bias = i->dlpi_addr;
		f->ok = 1;
		return 1;
	}
	return 0;
}
static struct ml_types_obj obj_of(const void *p, struct found *f)
{
	memset(f, 0, sizeof *f);
	f->addr = (uintptr_t)p;
	dl_iterate_phdr(phdr_cb, f);
	struct ml_types_obj o = { f->path, f->bias, NULL, 0 };
	return o;
}
static const struct uniqtype *stype(const void *p, uintptr_t *base, size_t *size)
{
	struct found f;
	struct ml_types_obj o = obj_of(p, &f);
	if (!f.ok)
		return NULL;
	*base = 0;
	*size = 0;
	return api->static_type(&o, (uintptr_t)p, base, size);
}
static const char *nm(const struct uniqtype *t) { return t ? t->name : "(null)"; }
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct pt { int x, y; };
struct pt g_pt = { 1, 2 };
long g_arr[10];
char g_str[] = "hello";
int add(int a, int b) { return a + b; }
int *counter_addr(void) { static int counter; counter++; return &counter; }

/* ---- frames ---- */
struct unw { int n; uintptr_t cfa[16], ip[16]; };
static _Unwind_Reason_Code unw_cb(struct _Unwind_Context *c, void *arg)
{
	struct unw *u = arg;
	int before = 0;
	u->cfa[u->n] = _Unwind_GetCFA(c);
	u->ip[u->n] = _Unwind_GetIPInfo(c, &before) - !before;
	return ++u->n == 16 ? _URC_END_OF_STACK : _URC_NO_REASON;
}
/* The frame of this function's caller, whose frame pointer is rbp (so its
 * CFA is rbp + 16): [the SP at its call to here, its CFA), as the runtime
 * sees stack frames. */
__attribute__((noinline)) static void caller_frame(struct ml_types_frame *f, uintptr_t rbp)
{
	struct unw u = { 0 };
	_Unwind_Backtrace(unw_cb, &u);
	memset(f, 0, sizeof *f);
	for (int k = 1; k < u.n; k++)
		if (u.cfa[k] == rbp + 16) {
			f->pc = u.ip[k - 1]; /* (libgcc pairs a CFA with the next context's IP) */
			f->base = u.cfa[k - 1];
			f->size = u.cfa[k] - u.cfa[k - 1];
			f->rbp = rbp;
		}
}
static const struct uniqtype *memb_type(const struct uniqtype *t, const char *name, size_t *off)
{
	for (unsigned i = 0; t && i < t->nmemb; i++)
		if (t->memb[i].name && !strcmp(t->memb[i].name, name)) {
			*off = t->memb[i].offset;
			return t->memb[i].type;
		}
	return NULL;
}
#define LOCAL(v, tn) do { size_t off = (size_t)-1; const struct uniqtype *mt = memb_type(t, #v, &off); \
	CHECK(mt && !strcmp(mt->name, tn), "frame member %s: type %s, want %s", #v, nm(mt), tn); \
	CHECK(off == (size_t)((char *)&v - (char *)f.base), "frame member %s at %zu, want %td", #v, off, \
	      (char *)&v - (char *)f.base); } while (0)
__attribute__((noinline)) int probe(int param, char **argv)
{
	int local_i = param * 2;
	double local_d[3] = { 1, 2, 3 };
	struct pt local_pt = { 3, 4 };
	char *local_s = argv[0];
	struct ml_types_frame f;
	caller_frame(&f, (uintptr_t)__builtin_frame_address(0));
	CHECK(f.size, "unwinding found no frame for probe");
	struct found fo;
	struct ml_types_obj o = obj_of((void *)f.pc, &fo);
	const struct uniqtype *t = api->frame_type(&o, &f);
	CHECK(t && t->kind == 4 && t->size == f.size, "frame type %s kind %d size %zu (frame %zu)", nm(t), t ? t->kind : -1,
	      t ? t->size : 0, (size_t)f.size);
	CHECK(t && strstr(t->name, "drv_c_probe_vaddrs_0x") == t->name, "frame type name %s", nm(t));
	LOCAL(param, "int$32");
	LOCAL(argv, "__PTR___PTR_signed_char$8");
	LOCAL(local_i, "int$32");
	LOCAL(local_d, "__ARR3_double$64");
	LOCAL(local_pt, "pt");
	LOCAL(local_s, "__PTR_signed_char$8");
	for (unsigned i = 1; t && i < t->nmemb; i++)
		CHECK(t->memb[i - 1].offset <= t->memb[i].offset, "frame members not sorted");
	/* The same frame again: the same type. */
	CHECK(api->frame_type(&o, &f) == t, "frame type not cached");
	printf("frame %s: %u members, size %zu\n", nm(t), t ? t->nmemb : 0, (size_t)f.size);
	for (unsigned i = 0; t && i < t->nmemb; i++)
		printf("  +%zu %s : %s\n", t->memb[i].offset, t->memb[i].name, nm(t->memb[i].type));
	return local_i + (int)local_d[1] + local_pt.x + (local_s != 0);
}

int main(int argc, char **argv)
{
	void *h = dlopen(getenv("TYPES_SO"), RTLD_NOW);
	if (!h) { printf("FAIL dlopen: %s\n", dlerror()); return 1; }
	const struct ml_types_api *(*get)(void) = (const struct ml_types_api *(*)(void))dlsym(h, ML_TYPES_MODULE_SYM);
	if (!get || !(api = get()) || api->version != ML_TYPES_API_VERSION) { printf("FAIL no api\n"); return 1; }

	uintptr_t base;
	size_t size;
	double t0 = now_ms();
	const struct uniqtype *t = stype(&g_pt.y, &base, &size);
	printf("first static_type (executable): %.2f ms\n", now_ms() - t0);
	CHECK(t && !strcmp(t->name, "pt") && base == (uintptr_t)&g_pt && size == sizeof g_pt,
	      "g_pt: %s base %#lx size %zu", nm(t), (unsigned long)base, size);
	CHECK(t && t->nmemb == 2 && t->memb[1].offset == 4 && !strcmp(t->memb[1].name, "y"), "pt members");
	t = stype(&g_arr[7], &base, &size);
	CHECK(t && !strcmp(t->name, "__ARR10_long_int$64") && base == (uintptr_t)g_arr && size == sizeof g_arr,
	      "g_arr: %s base %#lx size %zu", nm(t), (unsigned long)base, size);
	t = stype(g_str + 2, &base, &size);
	CHECK(t && !strcmp(t->name, "__ARR6_signed_char$8") && base == (uintptr_t)g_str, "g_str: %s", nm(t));
	t = stype(counter_addr(), &base, &size);
	CHECK(t && !strcmp(t->name, "int$32") && base == (uintptr_t)counter_addr() && size == 4,
	      "function-static: %s", nm(t));
	t = stype((char *)add + 1, &base, &size);
	CHECK(t && !strcmp(t->name, "__FUN_FROM___ARG0_int$32__ARG1_int$32__FUN_TO_int$32") &&
	      base == (uintptr_t)add && size > 1, "add: %s base %#lx size %zu", nm(t), (unsigned long)base, size);
	t = stype((void *)main, &base, &size);
	CHECK(t && !strcmp(t->name, "__FUN_FROM___ARG0_int$32__ARG1___PTR___PTR_signed_char$8__FUN_TO_int$32"),
	      "main: %s", nm(t));
	CHECK(t && t->kind == 7 && t->nmemb == 2 && t->target && !strcmp(t->target->name, "int$32"), "main's type fields");
	int on_stack;
	CHECK(!stype(&on_stack, &base, &size), "a stack address has no static type");

	/* Libraries. */
	void *la = dlopen("./liba.so", RTLD_NOW), *lb = dlopen("./libb.so", RTLD_NOW),
	     *lc = dlopen("./libc_other.so", RTLD_NOW), *ln = dlopen("./libnodwarf.so", RTLD_NOW);
	if (!la || !lb || !lc || !ln) { printf("FAIL dlopen libs: %s\n", dlerror()); return 1; }
	char *a_pt = dlsym(la, "liba_pt"), *a_tab = dlsym(la, "liba_table"), *b_pts = dlsym(lb, "libb_pts"),
	     *c_pt = dlsym(lc, "libc_pt"), *n_var = dlsym(ln, "nodwarf_var");
	const struct uniqtype *ta = stype(a_pt + 8, &base, &size);
	CHECK(ta && !strcmp(ta->name, "shared_pt") && base == (uintptr_t)a_pt && size == 24, "liba_pt: %s size %zu",
	      nm(ta), size);
	CHECK(ta && ta->nmemb == 3 && ta->memb[2].type && !strcmp(ta->memb[2].type->name, "__PTR_shared_pt") &&
	      ta->memb[2].type->target == ta, "recursive struct: its pointer member points back at it");
	t = stype(a_tab + 40, &base, &size);
	CHECK(t && !strcmp(t->name, "__ARR50_int$32") && base == (uintptr_t)a_tab && size == 200, "liba_table %s", nm(t));
	t = stype(dlsym(la, "liba_addr"), &base, &size);
	CHECK(t && !strcmp(t->name, "__FUN_FROM___FUN_TO___PTR_shared_pt"), "liba_addr: %s", nm(t));
	const struct uniqtype *tb = stype(b_pts + 30, &base, &size);
	CHECK(tb && !strcmp(tb->name, "__ARR3_shared_pt") && tb->target == ta && size == 72,
	      "libb_pts: %s (element %p, liba's %p)", nm(tb), tb ? (void *)tb->target : NULL, (void *)ta);
	const struct uniqtype *tc = stype(c_pt, &base, &size);
	CHECK(tc && tc != ta && !strncmp(tc->name, "shared_pt$", 10) && strlen(tc->name) == 18 && size == 1,
	      "libc_pt: a different shared_pt: %s", nm(tc));
	CHECK(!stype(n_var, &base, &size), "a library without DWARF: NULL");
	struct found fn_;
	struct ml_types_obj o_nodwarf = obj_of(n_var, &fn_);
	CHECK(api->by_name("shared_pt") == ta, "by_name");

	/* A declaration first (incomplete), then its definition: completed in place. */
	void *ld = dlopen("./libd.so", RTLD_NOW), *le = dlopen("./libe.so", RTLD_NOW);
	if (!ld || !le) { printf("FAIL dlopen libd/libe: %s\n", dlerror()); return 1; }
	const struct uniqtype *tp = stype(dlsym(ld, "libd_ptr"), &base, &size);
	const struct uniqtype *op = tp ? tp->target : NULL;
	CHECK(tp && !strcmp(tp->name, "__PTR_opaque") && op && !strcmp(op->name, "opaque") && !op->complete,
	      "incomplete: %s complete %d", nm(op), op ? op->complete : -1);
	t = stype(dlsym(le, "libe_obj"), &base, &size);
	CHECK(t && t == op && t->complete && t->size == 8 && t->nmemb == 2, "completed in place: %s size %zu", nm(t),
	      t ? t->size : 0);

	/* Derived and built-in types. */
	const struct uniqtype *i32 = api->base_type("int", 32), *ch = api->base_type("signed_char", 8);
	CHECK(i32 && !strcmp(i32->name, "int$32") && i32->size == 4 && i32->kind == 1, "base_type int");
	CHECK(i32 == ta->memb[0].type, "base_type int is DWARF's int");
	CHECK(ch && ch->size == 1 && ch->cspell && !strcmp(ch->cspell, "char"), "signed_char cspell");
	const struct uniqtype *v = api->base_type("void", 0);
	CHECK(v && !strcmp(v->name, "void") && v->kind == 0 && v->size == 0, "void");
	CHECK(!api->base_type("no_such_type", 32), "unknown base type");
	const struct uniqtype *arr = api->array_of(i32, 42);
	CHECK(arr && !strcmp(arr->name, "__ARR42_int$32") && arr->size == 168 && arr->count == 42 && arr->target == i32,
	      "array_of: %s", nm(arr));
	CHECK(api->array_of(i32, 42) == arr, "array_of unique");
	const struct uniqtype *pp = api->pointer_to(api->pointer_to(ch));
	CHECK(pp && !strcmp(pp->name, "__PTR___PTR_signed_char$8") && pp->size == 8, "pointer_to: %s", nm(pp));
	CHECK(api->by_name("__PTR___PTR_signed_char$8") == pp, "by_name pointer");
	CHECK(api->array_of(i32, 0)->size == 0, "__ARR0 size 0");
	const char *names[2] = { "a_type", "a_val" };
	size_t offs[2] = { 0, 8 };
	const struct uniqtype *types[2] = { api->base_type("unsigned_long_int", 64), api->base_type("unsigned_long_int", 64) };
	const struct uniqtype *st = api->make_struct("Elf64_auxv_t", 16, 2, names, offs, types);
	CHECK(st && st->kind == 4 && st->size == 16 && st->nmemb == 2 && !strcmp(st->memb[1].name, "a_val") &&
	      st->memb[1].offset == 8, "make_struct");
	CHECK(api->make_struct("Elf64_auxv_t", 16, 2, names, offs, types) == st, "make_struct unique");

	probe(argc, argv);

	/* Typed allocation sites: two calls on one line (site.c). */
	void (*site_fn)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "site_alloc");
	void **site_ra = dlsym(RTLD_DEFAULT, "site_ra");
	CHECK(site_fn && site_ra, "site.c not linked");
	if (site_fn && site_ra) {
		site_fn();
		struct found fs;
		struct ml_types_obj so = obj_of(site_ra[0], &fs);
		char shape = 0;
		unsigned long count = 99;
		t = api->site_type(&so, (uintptr_t)site_ra[0], &shape, &count);
		CHECK(t && !strcmp(t->name, "pt") && shape == 'S' && count == 0, "site 0: %s shape %c count %lu", nm(t),
		      shape ? shape : '-', count);
		CHECK(t && t == stype(&g_pt, &base, &size), "site type is the program's pt");
		t = api->site_type(&so, (uintptr_t)site_ra[1], &shape, &count);
		CHECK(t && !strcmp(t->name, "int$32") && shape == 'A' && count == 4, "site 1: %s shape %c count %lu", nm(t),
		      shape ? shape : '-', count);
		CHECK(!api->site_type(&so, (uintptr_t)site_ra[2], &shape, &count), "an unrecorded call has no site type");
		CHECK(!api->site_type(&o_nodwarf, (uintptr_t)n_var, &shape, &count), "no DWARF: no site type");
	}
	printf("%d failures\n", failures);
	return failures != 0;
}
C
# Allocation calls at known places: line 6, two calls of my_alloc (the
# allocation function the table names), and an unrecorded one on line 7.
cat > site.c <<'C'
#include <stdlib.h>
struct pt { int x, y; };
void *site_ra[3];
__attribute__((noinline)) void *my_alloc(size_t n, int i) { site_ra[i] = __builtin_return_address(0); return malloc(n); }
void site_alloc(void) {
    void *p = my_alloc(sizeof(struct pt), 0); void *q = my_alloc(4 * sizeof(int), 1);
    void *r = my_alloc(100, 2);
    free(p); free(q); free(r);
}
C
col1=$(awk 'NR == 6 { print index($0, "my_alloc") }' site.c)
col2=$(awk 'NR == 6 { s = substr($0, index($0, "my_alloc") + 1); print index($0, "my_alloc") + index(s, "my_alloc") }' site.c)
printf 'memlens-sites 1\nF %s\n6 %d S 0 my_alloc Spt;\n6 %d A 4 my_alloc Bint$32;\n' "$PWD/site.c" "$col1" "$col2" > sites.txt
printf 'memlens-sites 1\nF /elsewhere/other.c\n7 5 S 0 my_alloc Bint$32;\n' >> sites.txt

CFL="-g -O0 -fno-omit-frame-pointer -fno-inline -D_GNU_SOURCE -I$ROOT/src/types"
# Under ASan the module is instrumented: its runtime must come first.
asan_env=()
if [ "$MEMLENS_TEST_ASAN" != 0 ]; then
	asan_env=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0)
fi
for cc in gcc "gcc -gdwarf-4" clang; do
	command -v ${cc%% *} > /dev/null || continue
	$cc $CFL -fPIC -shared -o liba.so liba.c && $cc $CFL -fPIC -shared -o libb.so libb.c &&
		$cc $CFL -fPIC -shared -o libc_other.so libc.c &&
		$cc $CFL -fPIC -shared -o libd.so libd.c && $cc $CFL -fPIC -shared -o libe.so libe.c &&
		echo 'int nodwarf_var[4];' | ${cc%% *} -O0 -fPIC -shared -o libnodwarf.so -x c - ||
		fail "$cc: building the libraries failed"
	$cc $CFL -rdynamic -o drv drv.c site.c -ldl || fail "$cc: building the driver failed"
	objcopy --add-section .memlens_sites=sites.txt drv || fail "objcopy --add-section failed"
	out=drv-${cc// /}
	run "$out" env "${asan_env[@]}" TYPES_SO="$TYPES_SO" ./drv
	cat "$out.out" >&2
	[ "$rc" = 0 ] || { show "$out.err"; fail "$cc: $(grep -m1 FAIL "$out.out")"; }
done
exit 0
