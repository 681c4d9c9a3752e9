/* dwarf_index.c: what lives at an address, from DWARF.
 *
 * Statics: on the first query in an object, one pass over every DIE of
 * every unit collects each variable with a static address (a location of
 * exactly DW_OP_addr / DW_OP_addrx: TLS and computed locations are not
 * addresses) at any depth, and each out-of-line function with code
 * (low_pc/high_pc or ranges, concrete inline instances included).  The
 * entries are sorted by address; their types are made on demand.
 *
 * Frames: the scopes at the frame's pc (dwarf_getscopes: the function, its
 * lexical blocks and the inlined calls live there), the frame base
 * (DW_AT_frame_base), and each variable or parameter whose location at pc
 * is in the frame become a synthesized struct (see types_module.h). */
#include "module_internal.h"
#include <ctype.h>
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

/* ---- statics ------------------------------------------------------------------- */
struct vec {
	struct ml_t_static *v;
	size_t n, cap;
};

static void push(struct vec *v, Dwarf_Addr lo, Dwarf_Addr len, Dwarf_Off off, int is_func)
{
	if (ml_t_grow(&v->v, &v->cap, v->n, sizeof *v->v, 1024))
		return;
	v->v[v->n++] = (struct ml_t_static){ .lo = lo, .len = len, .off = off, .is_func = is_func };
}

/* A variable's static address: a location that is one DW_OP_addr(x). */
static int static_addr(Dwarf_Die *die, Dwarf_Addr *addr)
{
	Dwarf_Attribute a, r;
	Dwarf_Op *ops;
	size_t n;
	if (!dwarf_attr(die, DW_AT_location, &a) || dwarf_getlocation(&a, &ops, &n) != 0 || n != 1)
		return 0;
	if (ops[0].atom == DW_OP_addr) {
		*addr = ops[0].number;
		return 1;
	}
	if ((ops[0].atom == DW_OP_addrx || ops[0].atom == DW_OP_GNU_addr_index) &&
	    dwarf_getlocation_attr(&a, &ops[0], &r) == 0 && dwarf_formaddr(&r, addr) == 0)
		return 1;
	return 0;
}

static void walk(Dwarf_Die *parent, struct vec *v, int depth)
{
	Dwarf_Die c;
	if (depth > 64 || dwarf_child(parent, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);
		Dwarf_Addr lo, hi, base;
		switch (tag) {
		case DW_TAG_variable:
			if (static_addr(&c, &lo))
				push(v, lo, 0, dwarf_dieoffset(&c), 0);
			break;
		case DW_TAG_subprogram:
			if (dwarf_lowpc(&c, &lo) == 0 && dwarf_highpc(&c, &hi) == 0 && hi > lo)
				push(v, lo, hi - lo, dwarf_dieoffset(&c), 1);
			else if (dwarf_hasattr(&c, DW_AT_ranges))
				for (ptrdiff_t off = 0; (off = dwarf_ranges(&c, off, &base, &lo, &hi)) > 0;)
					if (hi > lo)
						push(v, lo, hi - lo, dwarf_dieoffset(&c), 1);
			/* function-static variables */
			__attribute__((fallthrough));
		case DW_TAG_lexical_block:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_namespace:
		case DW_TAG_module:
			if (dwarf_haschildren(&c))
				walk(&c, v, depth + 1);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int cmp_static(const void *a, const void *b)
{
	const struct ml_t_static *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->is_func != y->is_func)
		return x->is_func - y->is_func;
	return x->off < y->off ? -1 : x->off > y->off;
}

int ml_t_build_statics(struct ml_t_obj *o)
{
	if (o->statics_built)
		return 0;
	o->statics_built = 1;
	struct vec v = { 0 };
	Dwarf_Die cu;
	for (Dwarf_Off off = 0; ml_t_next_cu(o, &off, &cu);)
		walk(&cu, &v, 0);
	if (v.n)
		qsort(v.v, v.n, sizeof *v.v, cmp_static);
	o->statics = v.v;
	o->nstatics = v.n;
	return 0;
}

const struct uniqtype *ml_t_static_entry_type(struct ml_t_obj *o, struct ml_t_static *s, size_t *size)
{
	if (!s->typed) {
		Dwarf_Die die;
		s->typed = 1;
		if (dwarf_offdie(o->dw, s->off, &die)) {
			s->type = s->is_func ? ml_t_function_of(o, &die) : ml_t_type_of(o, &die);
			if (!s->is_func && s->type)
				s->len = s->type->size;
		}
	}
	*size = s->len;
	return s->type;
}

const struct uniqtype *ml_t_static_type(struct ml_t_obj *o, uintptr_t addr, uintptr_t *base, size_t *size)
{
	ml_t_build_statics(o);
	Dwarf_Addr a = ml_t_to_dwarf(o, addr);
	size_t lo = 0, hi = o->nstatics;
	while (lo < hi) { /* first entry above a */
		size_t mid = (lo + hi) / 2;
		if (o->statics[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The innermost candidate is the nearest start below; a few more back
	 * cover entries that overlap (aliases, a function's cold part). */
	for (size_t j = lo, k = 0; j > 0 && k < 16; j--, k++) {
		struct ml_t_static *s = &o->statics[j - 1];
		size_t sz;
		const struct uniqtype *t = ml_t_static_entry_type(o, s, &sz);
		if (!t)
			continue;
		if (a - s->lo < sz || (sz == 0 && a == s->lo)) {
			if (base)
				*base = ml_t_to_run(o, s->lo);
			if (size)
				*size = sz;
			return t;
		}
	}
	return NULL;
}

/* ---- frames ------------------------------------------------------------------------ */
struct frame_memo {
	uintptr_t size;
	int rbp_known;             /* rbp-based locals need it */
	const struct uniqtype *t;
	struct frame_memo *next;
};

struct fmemb {
	const char *name;
	size_t offset;
	const struct uniqtype *type;
	unsigned seq;
};

static int cmp_fmemb(const void *a, const void *b)
{
	const struct fmemb *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (int)x->seq - (int)y->seq;
}

/* The single expression of a location attribute valid at pc. */
static int expr_at(Dwarf_Attribute *a, Dwarf_Addr pc, Dwarf_Op **ops, size_t *n)
{
	Dwarf_Op *e[1];
	size_t l[1];
	if (dwarf_getlocation_addr(a, pc, e, l, 1) < 1)
		return -1;
	*ops = e[0];
	*n = l[0];
	return 0;
}

struct fctx {
	struct ml_t_obj *o;
	const struct ml_types_frame *f;
	Dwarf_Addr pc;
	int have_fb;
	uintptr_t fb;
	struct fmemb *m;
	size_t n, cap;
};

static void frame_var(struct fctx *x, Dwarf_Die *v)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	if (!dwarf_attr(v, DW_AT_location, &a) || expr_at(&a, x->pc, &ops, &n) || n != 1)
		return;
	uintptr_t addr;
	const struct ml_types_frame *f = x->f;
	switch (ops[0].atom) {
	case DW_OP_fbreg:
		if (!x->have_fb)
			return;
		addr = x->fb + (Dwarf_Sword)ops[0].number;
		break;
	case DW_OP_breg7:
		addr = f->base + (Dwarf_Sword)ops[0].number;
		break;
	case DW_OP_breg6:
		if (!f->rbp)
			return;
		addr = f->rbp + (Dwarf_Sword)ops[0].number;
		break;
	default:
		return;
	}
	const struct uniqtype *t = ml_t_type_of(x->o, v);
	if (!t || addr < f->base || addr - f->base + t->size > f->size)
		return;
	if (ml_t_grow(&x->m, &x->cap, x->n, sizeof *x->m, 16))
		return;
	x->m[x->n] = (struct fmemb){ ml_t_die_name(v), addr - f->base, t, x->n };
	x->n++;
}

static int frame_base(struct fctx *x, Dwarf_Die *fn)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	const struct ml_types_frame *f = x->f;
	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) || expr_at(&a, x->pc, &ops, &n) || n != 1)
		return 0;
	switch (ops[0].atom) {
	case DW_OP_call_frame_cfa:
		x->fb = f->base + f->size;
		return 1;
	case DW_OP_reg6:
		x->fb = f->rbp;
		return f->rbp != 0;
	case DW_OP_breg6:
		x->fb = f->rbp + (Dwarf_Sword)ops[0].number;
		return f->rbp != 0;
	case DW_OP_reg7:
		x->fb = f->base;
		return 1;
	case DW_OP_breg7:
		x->fb = f->base + (Dwarf_Sword)ops[0].number;
		return 1;
	default:
		return 0;
	}
}

static const struct uniqtype *build_frame(struct ml_t_obj *o, const struct ml_types_frame *f, Dwarf_Addr pc)
{
	Dwarf_Die cu, *scopes = NULL;
	if (!ml_t_cu_at(o, pc, &cu))
		return NULL;
	int ns = dwarf_getscopes(&cu, pc, &scopes);
	int fi = -1;
	for (int i = 0; i < ns; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram) {
			fi = i;
			break;
		}
	if (fi < 0) {
		free(scopes);
		return NULL;
	}
	Dwarf_Die *fn = &scopes[fi];
	struct fctx x = { .o = o, .f = f, .pc = pc };
	x.have_fb = frame_base(&x, fn);
	for (int i = 0; i <= fi; i++) {
		Dwarf_Die c;
		if (dwarf_child(&scopes[i], &c) != 0)
			continue;
		do {
			int tag = dwarf_tag(&c);
			if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter)
				frame_var(&x, &c);
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	if (x.n)
		qsort(x.m, x.n, sizeof *x.m, cmp_fmemb);

	/* The name: <cu>_<function>_vaddrs_0x<lo>_0x<hi>. */
	Dwarf_Addr lo = 0, hi = 0, base, l, h;
	if (dwarf_lowpc(fn, &lo) != 0 || dwarf_highpc(fn, &hi) != 0) {
		lo = ~(Dwarf_Addr)0;
		for (ptrdiff_t off = 0; (off = dwarf_ranges(fn, off, &base, &l, &h)) > 0;) {
			lo = l < lo ? l : lo;
			hi = h > hi ? h : hi;
		}
	}
	struct ml_t_buf b = { 0 };
	const char *cuname = dwarf_diename(&cu);
	const char *s = cuname ? strrchr(cuname, '/') : NULL;
	ml_t_buf_add(&b, s ? s + 1 : cuname ? cuname : "unknown");
	for (size_t i = 0; b.s && i < b.len; i++)
		if (!isalnum((unsigned char)b.s[i]))
			b.s[i] = '_';
	const char *fname = ml_t_die_name(fn);
	ml_t_buf_addf(&b, "_%s_vaddrs_0x%llx_0x%llx", fname ? fname : "unknown", (unsigned long long)lo,
	              (unsigned long long)hi);
	/* The same function seen with another frame size (alloca, a
	 * different unwinder's view) gets its size in the name. */
	uint64_t fkey = ml_t_die_key(o, fn);
	uintptr_t first = (uintptr_t)ml_t_map_get(&o->frame_sizes, fkey);
	if (!first)
		ml_t_map_put(&o->frame_sizes, fkey, (void *)(f->size + 1));
	else if (first != f->size + 1)
		ml_t_buf_addf(&b, "_%zu", (size_t)f->size);
	free(scopes);

	const struct uniqtype *t = NULL;
	const char **names = malloc((x.n + 1) * sizeof *names);
	size_t *offs = malloc((x.n + 1) * sizeof *offs);
	const struct uniqtype **types = malloc((x.n + 1) * sizeof *types);
	if (b.s && names && offs && types) {
		for (unsigned i = 0; i < x.n; i++) {
			names[i] = x.m[i].name;
			offs[i] = x.m[i].offset;
			types[i] = x.m[i].type;
		}
		t = ml_t_struct_unique(b.s, f->size, x.n, names, offs, types);
	}
	free(names);
	free(offs);
	free(types);
	free(x.m);
	free(b.s);
	return t;
}

const struct uniqtype *ml_t_frame_type(struct ml_t_obj *o, const struct ml_types_frame *f)
{
	Dwarf_Addr pc = ml_t_to_dwarf(o, f->pc);
	/* Memo per (pc, size): a frame is usually asked about again. */
	uint64_t key = pc;
	struct frame_memo *m = ml_t_map_get(&o->frames, key);
	for (struct frame_memo *p = m; p; p = p->next)
		if (p->size == f->size && p->rbp_known == (f->rbp != 0))
			return p->t;
	const struct uniqtype *t = build_frame(o, f, pc);
	struct frame_memo *n = malloc(sizeof *n);
	if (n) {
		n->size = f->size;
		n->rbp_known = f->rbp != 0;
		n->t = t;
		n->next = m;
		ml_t_map_put(&o->frames, key, n);
	}
	return t;
}
