/* module.c: the types module's entry points (types_module.h): the api
 * struct the runtime gets from memlens_types_module_api(), each entry
 * taking the module's one lock, and ml_types_print_file for the CLI. */
#include "module_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOCK() pthread_mutex_lock(&ml_t_lock)
#define UNLOCK() pthread_mutex_unlock(&ml_t_lock)

static struct ml_t_obj *obj_of(const struct ml_types_obj *o)
{
	if (!o || !o->path)
		return NULL;
	struct ml_t_obj *t = ml_t_obj_get(o->path, o->bias);
	return t && t->state == 1 ? t : NULL;
}

static const struct uniqtype *api_static_type(const struct ml_types_obj *o, uintptr_t addr, uintptr_t *base,
                                              size_t *size)
{
	LOCK();
	struct ml_t_obj *t = obj_of(o);
	const struct uniqtype *r = t ? ml_t_static_type(t, addr, base, size) : NULL;
	UNLOCK();
	return r;
}

static const struct uniqtype *api_frame_type(const struct ml_types_obj *o, const struct ml_types_frame *f)
{
	if (!f || !f->size)
		return NULL;
	LOCK();
	struct ml_t_obj *t = obj_of(o);
	const struct uniqtype *r = t ? ml_t_frame_type(t, f) : NULL;
	UNLOCK();
	return r;
}

static const struct uniqtype *api_site_type(const struct ml_types_obj *o, uintptr_t ra, char *shape,
                                            unsigned long *count)
{
	LOCK();
	struct ml_t_obj *t = obj_of(o);
	const struct uniqtype *r = t ? ml_t_site_type(t, ra, shape, count) : NULL;
	UNLOCK();
	return r;
}

static const struct uniqtype *api_array_of(const struct uniqtype *elem, size_t count)
{
	LOCK();
	const struct uniqtype *r = ml_t_array(elem, count);
	UNLOCK();
	return r;
}

static const struct uniqtype *api_pointer_to(const struct uniqtype *target)
{
	LOCK();
	const struct uniqtype *r = ml_t_pointer(target);
	UNLOCK();
	return r;
}

static const struct uniqtype *api_base_type(const char *name, unsigned bits)
{
	if (!name)
		return NULL;
	LOCK();
	const struct uniqtype *r = ml_t_base(name, bits);
	UNLOCK();
	return r;
}

static const struct uniqtype *api_make_struct(const char *name, size_t size, unsigned n, const char *const *names,
                                              const size_t *offsets, const struct uniqtype *const *types)
{
	LOCK();
	const struct uniqtype *r = ml_t_make_struct(name, size, n, names, offsets, types);
	UNLOCK();
	return r;
}

static const struct uniqtype *api_by_name(const char *name)
{
	if (!name)
		return NULL;
	LOCK();
	struct ml_t_ent *e = ml_t_lookup(name);
	UNLOCK();
	return e ? e->t : NULL;
}

static const struct ml_types_api api = {
	.version = ML_TYPES_API_VERSION,
	.static_type = api_static_type,
	.frame_type = api_frame_type,
	.site_type = api_site_type,
	.array_of = api_array_of,
	.pointer_to = api_pointer_to,
	.base_type = api_base_type,
	.make_struct = api_make_struct,
	.by_name = api_by_name,
};

__attribute__((visibility("default"))) const struct ml_types_api *memlens_types_module_api(void)
{
	return &api;
}

/* ---- memlens types FILE --------------------------------------------------------------- */
struct tvec {
	const struct uniqtype **v;
	size_t n, cap;
	struct ml_t_map seen;
};

static void tvec_add(struct tvec *v, const struct uniqtype *t)
{
	if (!t || ml_t_map_get(&v->seen, (uintptr_t)t))
		return;
	ml_t_map_put(&v->seen, (uintptr_t)t, (void *)t);
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		const struct uniqtype **n = realloc(v->v, cap * sizeof *n);
		if (!n)
			return;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n++] = t;
}

static void collect(struct ml_t_obj *o, Dwarf_Die *parent, struct tvec *v, int depth)
{
	Dwarf_Die c;
	if (depth > 64 || dwarf_child(parent, &c) != 0)
		return;
	do {
		if (ml_t_is_named_type(&c))
			tvec_add(v, ml_t_from_die(o, &c));
		if (dwarf_haschildren(&c))
			collect(o, &c, v, depth + 1);
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int cmp_type(const void *a, const void *b)
{
	return strcmp((*(const struct uniqtype *const *)a)->name, (*(const struct uniqtype *const *)b)->name);
}

static const char *kind_word(int kind)
{
	static const char *w[] = { "void", "base", "pointer", "array", "struct", "union", "enum", "function" };
	return kind >= 0 && kind <= ML_K_FUNCTION ? w[kind] : "?";
}

static const char *tname(const struct uniqtype *t)
{
	return t ? t->name : "(no type)";
}

static void print_type(FILE *out, const struct uniqtype *t)
{
	fprintf(out, "%s  %s size %zu\n", t->name, kind_word(t->kind), t->size);
	for (unsigned i = 0; i < t->nmemb; i++) {
		const struct uniqtype_memb *m = &t->memb[i];
		const char *n = m->name ? m->name : "(anonymous)";
		if (t->kind == ML_K_ENUM)
			fprintf(out, "  %s = %lld\n", n, m->value);
		else if (m->bit_size)
			fprintf(out, "  +%zu.%u:%u %s : %s\n", m->offset, m->bit_offset, m->bit_size, n, tname(m->type));
		else
			fprintf(out, "  +%zu %s : %s\n", m->offset, n, tname(m->type));
	}
}

struct named {
	const char *name;
	const struct uniqtype *t;
	size_t size;
	Dwarf_Addr lo;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void print_statics(struct ml_t_obj *o, FILE *out, int funcs)
{
	ml_t_build_statics(o);
	struct named *v = calloc(o->nstatics + 1, sizeof *v);
	struct ml_t_map seen = { 0 };
	size_t n = 0;
	if (!v)
		return;
	for (size_t i = 0; i < o->nstatics; i++) {
		struct ml_t_static *s = &o->statics[i];
		Dwarf_Die die;
		if (s->is_func != funcs || ml_t_map_get(&seen, s->off) || !dwarf_offdie(o->dw, s->off, &die))
			continue;
		ml_t_map_put(&seen, s->off, (void *)1);
		const char *name = ml_t_die_name(&die);
		if (!name)
			continue;
		v[n].name = name;
		v[n].lo = s->lo;
		v[n].t = ml_t_static_entry_type(o, s, &v[n].size);
		n++;
	}
	qsort(v, n, sizeof *v, cmp_named);
	fprintf(out, "%s:\n", funcs ? "functions" : "variables");
	for (size_t i = 0; i < n; i++)
		if (funcs)
			fprintf(out, "%s %s\n", v[i].name, tname(v[i].t));
		else
			fprintf(out, "%s %s size %zu\n", v[i].name, tname(v[i].t), v[i].size);
	free(v);
	free(seen.keys);
	free(seen.vals);
}

int ml_types_print_file(const char *path, FILE *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "memlens types: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	unsigned char magic[4] = { 0 };
	ssize_t got = read(fd, magic, 4);
	close(fd);
	if (got != 4 || memcmp(magic, "\177ELF", 4)) {
		fprintf(stderr, "memlens types: %s is not an ELF file\n", path);
		return -1;
	}
	LOCK();
	struct ml_t_obj *o = ml_t_obj_get(path, 0);
	if (!o || o->state != 1) {
		fprintf(stderr, "memlens types: %s %s\n", path, o ? o->why : "cannot be read (out of memory)");
		UNLOCK();
		return -1;
	}
	struct tvec v = { 0 };
	Dwarf_Die cu;
	for (Dwarf_Off off = 0; ml_t_next_cu(o, &off, &cu);)
		collect(o, &cu, &v, 0);
	if (v.n)
		qsort(v.v, v.n, sizeof *v.v, cmp_type);
	for (size_t i = 0; i < v.n; i++)
		print_type(out, v.v[i]);
	print_statics(o, out, 0);
	print_statics(o, out, 1);
	free(v.v);
	free(v.seen.keys);
	free(v.seen.vals);
	UNLOCK();
	if (fflush(out) || ferror(out)) {
		fprintf(stderr, "memlens types: cannot write the output: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}
