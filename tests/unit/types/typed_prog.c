/* typed_prog.c: the program tests/unit/types_query.sh builds with memlens-cc
 * (at -O0 and -O2, with gcc and clang) and runs linked and preloaded.  Every
 * check compares alloc_get_type's answer with what the compiler says of the
 * same object (sizeof, offsetof, the address of a local). */
#include "harness.h"
#include <allocs.h>
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

struct point { int x, y; };
struct s { long id; struct point at; int tail[]; };   /* trailing array */
struct node { struct node *next; int *slot; double weight; };
struct only_sized { int a; char b[3]; };              /* appears in sizeof alone */
struct point gpoint = { 1, 2 };
int global_array[10];
static int slots[10];
struct node *(*node_maker)(void);
const char *greeting = "hello, types";

/* Layouts checked member by member through the public accessors. */
enum colour { RED = -1, GREEN = 5, BLUE };
typedef unsigned int u32;
typedef u32 word_t;                 /* a typedef chain */
struct layout {
	struct point corner[2];         /* nested struct array */
	union { int i; float f; } num;  /* anonymous union member */
	enum colour tint;
	unsigned flag : 1, level : 5;   /* bit-fields */
	word_t word;
	int (*cb)(int, char **);        /* function pointer */
	char tail[];                    /* flexible array member */
};
struct layout glayout;

void *xmalloc(size_t n);   /* declared in MEMLENS_ALLOC_FNS at build time */
__attribute__((noinline)) void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	return p;
}

static const char *tname(const void *p) { return UNIQTYPE_NAME(alloc_get_type(p)); }

/* Keeps the compiler from knowing n (so n * sizeof is not a constant). */
static volatile size_t opaque = 7;

static void check_heap(int argc)
{
	size_t n = opaque;
	struct s *one = malloc(sizeof(struct s));                       /* S s */
	CHECK_STREQ(tname(one), "s");
	CHECK_STREQ(tname(&one->at.y), "s");
	struct s *many = calloc(n, sizeof(struct s));                    /* U s */
	CHECK_STREQ(tname(many), "__ARR0_s");
	struct point *pts = malloc(n * sizeof *pts);                     /* U point */
	CHECK_STREQ(tname(pts), "__ARR0_point");
	pts = realloc(pts, 2 * n * sizeof *pts);                         /* U point */
	CHECK_STREQ(tname(pts), "__ARR0_point");
	int *ints = malloc(sizeof(int) * 42);                            /* A 42 int */
	CHECK_STREQ(tname(ints), "__ARR42_int$32");
	CHECK_EQ(alloc_get_size(ints), 168);
	struct s *tr1 = calloc(1, offsetof(struct s, tail) + n);         /* T s */
	CHECK_STREQ(tname(tr1), "s");
	struct s *tr2 = malloc(sizeof(struct s) - sizeof(int) + 24);     /* T s */
	CHECK_STREQ(tname(tr2), "s");
	int (*rows)[10] = malloc(argc * sizeof global_array);            /* U int[10] */
	CHECK_STREQ(tname(rows), "__ARR0___ARR10_int$32");
	char *bytes = malloc(42);                                        /* C 42 */
	CHECK_STREQ(tname(bytes), "__ARR42_signed_char$8");
	char *chars = malloc(42 * sizeof(char));                         /* A 42 char */
	CHECK_STREQ(tname(chars), "__ARR42_signed_char$8");
	struct point *wrapped = xmalloc(sizeof(struct point));           /* S point, via the wrapper */
	CHECK_STREQ(tname(wrapped), "point");
	void *sized = malloc(sizeof(struct only_sized));                 /* S, a type DWARF keeps only when asked */
	CHECK_STREQ(tname(sized), "only_sized");
	CHECK_EQ(uniqtype_size(alloc_get_type(sized)), sizeof(struct only_sized));
	free(sized);
	char *untyped = malloc(n + 3);                                   /* no record */
	CHECK(alloc_get_type(untyped) == NULL);
	CHECK_STREQ(tname(untyped), "(no type)");
	/* Equal types are one uniqtype. */
	struct point *other = malloc(sizeof(struct point));
	CHECK_PTR(alloc_get_type(other), alloc_get_type(wrapped));
	CHECK_PTR(uniqtype_member_type(alloc_get_type(one), 1), alloc_get_type(other));
	/* alloc_get_info's type is filled once the site is known. */
	struct alloc_info ai;
	CHECK_EQ(alloc_get_info(one, &ai), 0);
	CHECK_PTR(ai.type, alloc_get_type(one));
	/* The C spelling. */
	char buf[128];
	uniqtype_cname(alloc_get_type(ints), buf, sizeof buf);
	CHECK_STREQ(buf, "int[42]");
	uniqtype_cname(alloc_get_type(one), buf, sizeof buf);
	CHECK_STREQ(buf, "struct s");
	free(one); free(many); free(pts); free(ints); free(tr1); free(tr2); free(rows);
	free(bytes); free(chars); free(wrapped); free(untyped); free(other);
}

static void check_static(void)
{
	const struct uniqtype *t = alloc_get_type(&gpoint.y);
	CHECK_STREQ(UNIQTYPE_NAME(t), "point");
	CHECK_EQ(uniqtype_kind(t), MEMLENS_TYPE_STRUCT);
	CHECK_EQ(uniqtype_size(t), sizeof(struct point));
	CHECK_EQ(uniqtype_member_count(t), 2);
	CHECK_STREQ(uniqtype_member_name(t, 1), "y");
	CHECK_EQ(uniqtype_member_offset(t, 1), offsetof(struct point, y));
	CHECK_STREQ(UNIQTYPE_NAME(uniqtype_member_type(t, 1)), "int$32");
	CHECK_STREQ(tname(&global_array[3]), "__ARR10_int$32");
	CHECK_STREQ(tname(&slots[9]), "__ARR10_int$32");
	CHECK_STREQ(tname(&node_maker), "__PTR___FUN_FROM___FUN_TO___PTR_node");
	CHECK_STREQ(tname(&greeting), "__PTR_signed_char$8");
	char buf[128];
	uniqtype_cname(alloc_get_type(&greeting), buf, sizeof buf);
	CHECK_STREQ(buf, "char *");
	CHECK_STREQ(alloc_get_allocator(greeting)->name, "static");
}

/* A string literal: from its first character, with its NUL.  (Found by
 * scanning for NULs: clang may put a constant without a NUL, such as a
 * 16-byte memset pattern, right before a literal, which then seems to start
 * earlier; the gcc builds are checked.) */
static void check_string_literal(void)
{
	CHECK_PTR(alloc_get_base(greeting + 4), greeting);
	CHECK_EQ(alloc_get_size(greeting + 4), strlen(greeting) + 1);
	CHECK_STREQ(tname(greeting + 4), "__ARR13_signed_char$8");
	CHECK_STREQ(alloc_get_allocator(greeting)->name, "static");
}

/* A frame with locals at known places (built at -O0 only: at -O2 they live
 * in registers). */
__attribute__((noinline)) static void check_frame(void)
{
	volatile int counter = 3;
	volatile double ratio = 0.5;
	char name[24];
	memset(name, 'x', sizeof name);
	struct alloc_info ai;
	CHECK_EQ(alloc_get_info((const void *)&counter, &ai), 0);
	CHECK_STREQ(ai.allocator->name, "stackframe");
	const struct uniqtype *t = alloc_get_type((const void *)&ratio);
	CHECKF(t && strstr(UNIQTYPE_NAME(t), "_check_frame_vaddrs_0x"), "frame type %s", UNIQTYPE_NAME(t));
	CHECK_EQ(uniqtype_kind(t), MEMLENS_TYPE_STRUCT);
	CHECK_EQ(uniqtype_size(t), ai.size);
	int seen = 0;
	for (unsigned i = 0; i < uniqtype_member_count(t); i++) {
		const char *m = uniqtype_member_name(t, i);
		size_t off = uniqtype_member_offset(t, i);
		const char *at = (const char *)ai.base + off;
		if (m && !strcmp(m, "counter")) {
			CHECK_PTR(at, (const void *)&counter);
			CHECK_STREQ(UNIQTYPE_NAME(uniqtype_member_type(t, i)), "int$32");
			seen++;
		} else if (m && !strcmp(m, "ratio")) {
			CHECK_PTR(at, (const void *)&ratio);
			seen++;
		} else if (m && !strcmp(m, "name")) {
			CHECK_PTR(at, name);
			CHECK_STREQ(UNIQTYPE_NAME(uniqtype_member_type(t, i)), "__ARR24_signed_char$8");
			seen++;
		}
	}
	CHECK_EQ(seen, 3);
	(void)counter;
}

static void check_auxv(int argc, char **argv, char **envp)
{
	char want[64];
	snprintf(want, sizeof want, "__ARR%d___PTR_signed_char$8", argc + 1);
	CHECK_STREQ(tname(argv), want);
	int nenv = 0;
	while (envp[nenv])
		nenv++;
	snprintf(want, sizeof want, "__ARR%d___PTR_signed_char$8", nenv + 1);
	CHECK_STREQ(tname(envp), want);
	snprintf(want, sizeof want, "__ARR%zu_signed_char$8", strlen(argv[0]) + 1);
	CHECK_STREQ(tname(argv[0] + 1), want);
}

static void check_main_type(int (*m)(int, char **, char **))
{
	CHECK_STREQ(tname((const void *)m),
	            "__FUN_FROM___ARG0_int$32__ARG1___PTR___PTR_signed_char$8__ARG2___PTR___PTR_signed_char$8__FUN_TO_int$32");
	const struct uniqtype *t = alloc_get_type((const void *)m);
	CHECK_EQ(uniqtype_kind(t), MEMLENS_TYPE_FUNCTION);
	CHECK_EQ(uniqtype_member_count(t), 3);
	CHECK_STREQ(UNIQTYPE_NAME(uniqtype_return_type(t)), "int$32");
	CHECK_STREQ(UNIQTYPE_NAME(uniqtype_pointee(uniqtype_arg_type(t, 1))), "__PTR_signed_char$8");
	CHECK(!uniqtype_is_variadic(t));
}

/* libc's types come from its separate debug file (libc6-dbg:
 * /usr/lib/debug/.build-id/xx/yyy.debug). */
static void check_libc(void)
{
	CHECK_STREQ(tname((const void *)printf), "__FUN_FROM___ARG0___PTR_signed_char$8__VA___FUN_TO_int$32");
	CHECK(uniqtype_is_variadic(alloc_get_type((const void *)printf)));
	CHECK_STREQ(tname(&stdout), "__PTR__IO_FILE");
	const struct uniqtype *f = uniqtype_pointee(alloc_get_type(&stdout));
	CHECK_EQ(uniqtype_size(f), sizeof(FILE));
	CHECK_STREQ(uniqtype_member_name(f, 0), "_flags");
}

static void check_layout(void)
{
	const struct uniqtype *t = alloc_get_type(&glayout);
	CHECK_STREQ(UNIQTYPE_NAME(t), "layout");
	CHECK_EQ(uniqtype_size(t), sizeof(struct layout));
	CHECK_EQ(uniqtype_member_count(t), 8);
	const char *names[] = { "corner", "num", "tint", "flag", "level", "word", "cb", "tail" };
	size_t offs[] = { offsetof(struct layout, corner), offsetof(struct layout, num), offsetof(struct layout, tint),
	                  (size_t)-1, (size_t)-1, offsetof(struct layout, word), offsetof(struct layout, cb),
	                  offsetof(struct layout, tail) };
	for (unsigned i = 0; i < 8; i++) {
		const char *m = uniqtype_member_name(t, i);
		if (i == 1)
			CHECK(m == NULL || !strcmp(m, "num"));
		else
			CHECK_STREQ(m, names[i]);
		if (offs[i] != (size_t)-1)
			CHECK_EQ(uniqtype_member_offset(t, i), offs[i]);
	}
	const struct uniqtype *corner = uniqtype_member_type(t, 0);
	CHECK_EQ(uniqtype_kind(corner), MEMLENS_TYPE_ARRAY);
	CHECK_EQ(uniqtype_element_count(corner), 2);
	CHECK_PTR(uniqtype_element_type(corner), alloc_get_type(&gpoint));
	CHECK_EQ(uniqtype_kind(uniqtype_member_type(t, 1)), MEMLENS_TYPE_UNION);
	CHECK_EQ(uniqtype_member_count(uniqtype_member_type(t, 1)), 2);
	const struct uniqtype *e = uniqtype_member_type(t, 2);
	CHECK_STREQ(UNIQTYPE_NAME(e), "colour");
	CHECK_EQ(uniqtype_kind(e), MEMLENS_TYPE_ENUM);
	CHECK_EQ(uniqtype_member_count(e), 3);
	long long v;
	CHECK_STREQ(uniqtype_enumerator(e, 0, &v), "RED");
	CHECK_EQ(v, RED);
	CHECK_STREQ(uniqtype_enumerator(e, 2, &v), "BLUE");
	CHECK_EQ(v, BLUE);
	/* the bit-fields: where a field set to all ones shows */
	unsigned bo, bs;
	struct layout probe;
	memset(&probe, 0, sizeof probe);
	probe.level = 31;
	const unsigned char *bytes = (const unsigned char *)&probe;
	CHECK(uniqtype_member_bitfield(t, 4, &bo, &bs));
	CHECK_EQ(bs, 5);
	size_t lo = uniqtype_member_offset(t, 4);
	for (unsigned b = 0; b < 8 * sizeof probe; b++) {
		int set = (bytes[b / 8] >> (b % 8)) & 1;
		int in = b >= 8 * lo + bo && b < 8 * lo + bo + bs;
		CHECKF(set == in, "level bit %u: set %d, memlens says %d", b, set, in);
	}
	CHECK(uniqtype_member_bitfield(t, 3, NULL, &bs) && bs == 1);
	CHECK(!uniqtype_member_bitfield(t, 5, NULL, NULL));
	CHECK_STREQ(UNIQTYPE_NAME(uniqtype_member_type(t, 5)), "unsigned_int$32");  /* word_t -> u32 -> unsigned */
	char buf[128];
	uniqtype_cname(uniqtype_member_type(t, 6), buf, sizeof buf);
	CHECK_STREQ(buf, "int (*)(int, char **)");
	const struct uniqtype *tail = uniqtype_member_type(t, 7);
	CHECK_EQ(uniqtype_kind(tail), MEMLENS_TYPE_ARRAY);
	CHECK_EQ(uniqtype_element_count(tail), 0);
	CHECK_PTR(uniqtype_by_name("layout"), t);
	CHECK_EQ(uniqtype_kind(NULL), -1);
	CHECK_EQ(uniqtype_member_count(NULL), 0);
}

/* A custom allocator's allocations have the type given to memlens_note_alloc,
 * which moves with memlens_note_resize and goes with memlens_note_free. */
static struct point pool[8];
static void check_custom(void)
{
	const struct uniqtype *pt = alloc_get_type(&gpoint);
	CHECK(pt != NULL);
	struct allocator *a = memlens_allocator_create("points");
	CHECK(a != NULL);
	CHECK_EQ(memlens_note_alloc(a, &pool[1], sizeof(struct point), pt), 0);
	CHECK_EQ(memlens_note_alloc(a, &pool[3], sizeof(struct point), NULL), 0);
	CHECK_PTR(alloc_get_type(&pool[1].y), pt);
	CHECK(alloc_get_type(&pool[3]) == NULL);
	struct alloc_info ai;
	CHECK_EQ(alloc_get_info(&pool[1], &ai), 0);
	CHECK_PTR(ai.type, pt);
	CHECK_EQ(memlens_note_resize(a, &pool[1], &pool[5], sizeof(struct point)), 0);
	CHECK_PTR(alloc_get_type(&pool[5]), pt);
	CHECK_STREQ(alloc_get_allocator(&pool[1])->name, "static");
	CHECK_EQ(memlens_note_free(a, &pool[5]), 0);
	CHECK_EQ(memlens_note_alloc(a, &pool[5], sizeof(struct point), NULL), 0);
	CHECK(alloc_get_type(&pool[5]) == NULL);
	memlens_allocator_destroy(a);
}

/* The walk: 10 calloc'd nodes in a list, each pointing at its own
 * element of one static array: 11 allocations, each once. */
struct counted { int n, nodes, statics; const void *bases[64]; };
static int count_cb(void *ctx, const struct alloc_info *ai)
{
	struct counted *c = ctx;
	for (int i = 0; i < c->n && i < 64; i++)
		CHECKF(c->bases[i] != ai->base, "allocation %p visited twice", ai->base);
	if (c->n < 64)
		c->bases[c->n] = ai->base;
	c->n++;
	if (!strcmp(ai->allocator->name, "malloc"))
		c->nodes++;
	else if (!strcmp(ai->allocator->name, "static"))
		c->statics++;
	return 0;
}

static void check_walk(void)
{
	struct node *head = NULL;
	for (int i = 0; i < 10; i++) {
		struct node *n = calloc(1, sizeof(struct node));
		n->next = head;
		n->slot = &slots[i];
		head = n;
	}
	CHECK_STREQ(tname(head), "node");
	struct counted c = { 0 };
	CHECK_EQ(memlens_walk_reachable(head, count_cb, &c), 11);
	CHECK_EQ(c.n, 11);
	CHECK_EQ(c.nodes, 10);
	CHECK_EQ(c.statics, 1);
	CHECK_PTR(c.bases[0], head);
	/* Stopping early. */
	struct counted d = { 0 };
	CHECK_EQ(memlens_walk_reachable(&gpoint, count_cb, &d), 1);
	CHECK_EQ(memlens_walk_reachable((void *)16, count_cb, &d), -1);
	while (head) {
		struct node *nx = head->next;
		free(head);
		head = nx;
	}
}

/* A variable and a function in a library built with memlens-cc and
 * dlopen'ed: the same struct type is the same uniqtype. */
static void check_library(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	CHECKF(h != NULL, "dlopen %s: %s", path, dlerror());
	struct point *lp = dlsym(h, "lib_point");
	struct point *(*make)(void) = (struct point *(*)(void))dlsym(h, "lib_make_points");
	CHECK(lp && make);
	CHECK_PTR(alloc_get_type(lp), alloc_get_type(&gpoint));
	struct point *made = make();
	CHECK_STREQ(tname(made), "__ARR3_point");
	CHECK_STREQ(tname((const void *)make), "__FUN_FROM___FUN_TO___PTR_point");
	free(made);
}

int main(int argc, char **argv, char **envp)
{
	const char *what = getenv("TYPED_CHECKS");
	if (!what)
		what = "heap static auxv main walk custom";
	if (strstr(what, "heap"))
		check_heap(argc);
	if (strstr(what, "untyped")) { /* built without memlens-cc */
		struct s *one = malloc(sizeof(struct s));
		CHECK(alloc_get_type(one) == NULL);
		free(one);
	}
	if (strstr(what, "static"))
		check_static();
	if (strstr(what, "strlit"))
		check_string_literal();
	if (strstr(what, "frame"))
		check_frame();
	if (strstr(what, "auxv"))
		check_auxv(argc, argv, envp);
	if (strstr(what, "main"))
		check_main_type(main);
	if (strstr(what, "walk"))
		check_walk();
	if (strstr(what, "custom"))
		check_custom();
	if (strstr(what, "layout"))
		check_layout();
	if (strstr(what, "libc"))
		check_libc();
	if (getenv("TYPED_LIB"))
		check_library(getenv("TYPED_LIB"));
	CHECK(alloc_get_type(NULL) == NULL);
	CHECK_STREQ(UNIQTYPE_NAME(NULL), "(no type)");
	printf("typed_prog: %s: ok\n", what);
	return 0;
}
