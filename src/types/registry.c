/* registry.c: the one table of uniqtypes, unique by name, so that equal
 * types reached from different objects and compilation units are the same
 * pointer.  Uniqtypes, their members and their names live in memory this
 * file maps itself and never frees (they live as long as the process); the
 * name table is an open-addressing hash table, also in mapped memory.
 *
 * Names follow liballocs's convention (include/memlens.h, "Types"): base
 * types by a canonical name made from the DWARF name's words plus the bit
 * size, derived types by composing names (__PTR_, __ARR<n>_, __FUN_FROM_).
 *
 * Name conflicts: two different structs (or unions, enums) may share a tag
 * in one process (struct node in two libraries).  The first one registered
 * gets the plain name; a later one with a different structure (kind, size,
 * member names, offsets, bit positions and member type names, hashed into
 * a 64-bit signature by dwarf_types.c) is named "<name>$<8 hex digits of
 * that hash>", so that equal types still meet under one name. */
#include "module_internal.h"
#include <dwarf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

pthread_mutex_t ml_t_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- arena ----------------------------------------------------------------- */
#define ARENA_CHUNK (1u << 20)
static char *arena_cur, *arena_end;

void *ml_t_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if ((size_t)(arena_end - arena_cur) < n) {
		size_t sz = n > ARENA_CHUNK ? (n + 4095) & ~(size_t)4095 : ARENA_CHUNK;
		void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		arena_cur = p;
		arena_end = arena_cur + sz;
	}
	void *r = arena_cur;
	arena_cur += n;
	return r; /* fresh anonymous memory is zero */
}

int ml_t_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first)
{
	void **vp = v;
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : first;
	void *nv = realloc(*vp, c * elem);
	if (!nv)
		return -1;
	*vp = nv;
	*cap = c;
	return 0;
}

const char *ml_t_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = ml_t_alloc(n);
	if (r)
		memcpy(r, s, n);
	return r;
}

uint64_t ml_t_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ---- name table -------------------------------------------------------------- */
static struct ml_t_ent **tab;
static size_t tab_cap, tab_n;

static uint64_t name_hash(const char *s)
{
	return ml_t_hash(ML_T_HASH_INIT, s, strlen(s));
}

struct ml_t_ent *ml_t_lookup(const char *name)
{
	if (!tab_cap)
		return NULL;
	for (size_t i = name_hash(name) & (tab_cap - 1);; i = (i + 1) & (tab_cap - 1)) {
		if (!tab[i])
			return NULL;
		if (!strcmp(tab[i]->t->name, name))
			return tab[i];
	}
}

static int grow(void)
{
	size_t cap = tab_cap ? tab_cap * 2 : 4096;
	struct ml_t_ent **n = mmap(NULL, cap * sizeof *n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (n == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < tab_cap; i++) {
		if (!tab[i])
			continue;
		size_t j = name_hash(tab[i]->t->name) & (cap - 1);
		while (n[j])
			j = (j + 1) & (cap - 1);
		n[j] = tab[i];
	}
	if (tab)
		munmap(tab, tab_cap * sizeof *tab);
	tab = n;
	tab_cap = cap;
	return 0;
}

struct ml_t_ent *ml_t_register(struct uniqtype *t)
{
	if ((tab_n + 1) * 2 > tab_cap && grow())
		return NULL;
	struct ml_t_ent *e = ml_t_alloc(sizeof *e);
	if (!e)
		return NULL;
	e->t = t;
	size_t i = name_hash(t->name) & (tab_cap - 1);
	while (tab[i])
		i = (i + 1) & (tab_cap - 1);
	tab[i] = e;
	tab_n++;
	return e;
}

void ml_t_each(void (*fn)(void *ctx, const struct uniqtype *t), void *ctx)
{
	for (size_t i = 0; i < tab_cap; i++)
		if (tab[i])
			fn(ctx, tab[i]->t);
}

/* A new uniqtype of that name, registered; or the one already there. */
static struct uniqtype *new_type(const char *name, int kind, size_t size, int *fresh)
{
	struct ml_t_ent *e = ml_t_lookup(name);
	*fresh = 0;
	if (e)
		return e->t;
	struct uniqtype *t = ml_t_alloc(sizeof *t);
	if (!t || !(t->name = ml_t_strdup(name)))
		return NULL;
	t->kind = kind;
	t->size = size;
	t->complete = 1;
	if (!ml_t_register(t))
		return NULL;
	*fresh = 1;
	return t;
}

/* ---- base types ------------------------------------------------------------------ */
static const struct base_info {
	const char *canon, *cspell;
	int enc;
} bases[] = {
	{ "signed_char", "char", ML_E_SIGNED_CHAR },
	{ "unsigned_char", "unsigned char", ML_E_UNSIGNED_CHAR },
	{ "short_int", "short", ML_E_SIGNED },
	{ "unsigned_short_int", "unsigned short", ML_E_UNSIGNED },
	{ "int", "int", ML_E_SIGNED },
	{ "unsigned_int", "unsigned int", ML_E_UNSIGNED },
	{ "long_int", "long", ML_E_SIGNED },
	{ "unsigned_long_int", "unsigned long", ML_E_UNSIGNED },
	{ "long_long_int", "long long", ML_E_SIGNED },
	{ "unsigned_long_long_int", "unsigned long long", ML_E_UNSIGNED },
	{ "_Bool", "_Bool", ML_E_BOOL },
	{ "float", "float", ML_E_FLOAT },
	{ "double", "double", ML_E_FLOAT },
	{ "long_double", "long double", ML_E_FLOAT },
	{ "__int128", "__int128", ML_E_SIGNED },
	{ "unsigned___int128", "unsigned __int128", ML_E_UNSIGNED },
	{ "complex_float", "_Complex float", ML_E_COMPLEX },
	{ "complex_double", "_Complex double", ML_E_COMPLEX },
	{ "complex_long_double", "_Complex long double", ML_E_COMPLEX },
};

static const struct base_info *base_info(const char *canon)
{
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
		if (!strcmp(bases[i].canon, canon))
			return &bases[i];
	return NULL;
}

static int ate_encoding(int ate)
{
	switch (ate) {
	case DW_ATE_signed: return ML_E_SIGNED;
	case DW_ATE_unsigned: return ML_E_UNSIGNED;
	case DW_ATE_signed_char: return ML_E_SIGNED_CHAR;
	case DW_ATE_unsigned_char: return ML_E_UNSIGNED_CHAR;
	case DW_ATE_boolean: return ML_E_BOOL;
	case DW_ATE_float: return ML_E_FLOAT;
	case DW_ATE_complex_float: return ML_E_COMPLEX;
	case DW_ATE_UTF: return ML_E_UNSIGNED;
	default: return ML_E_NONE;
	}
}

/* C spells one type many ways ("long unsigned int", "unsigned long"); the
 * canonical name puts the words in one order: unsigned, then short / long
 * / long long, then the base word.  A name with a word we do not know is
 * kept as it is, spaces made '_'. */
void ml_t_canon_base(const char *dwname, int ate, char *buf, size_t len)
{
	int is_unsigned = 0, is_signed = 0, is_short = 0, nlong = 0, cplx = 0, unknown = 0;
	const char *base = NULL;
	char word[64];
	for (const char *p = dwname; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		if (n >= sizeof word) {
			unknown = 1;
			break;
		}
		memcpy(word, p, n);
		word[n] = 0;
		p += n;
		if (!strcmp(word, "unsigned"))
			is_unsigned = 1;
		else if (!strcmp(word, "signed"))
			is_signed = 1;
		else if (!strcmp(word, "short"))
			is_short = 1;
		else if (!strcmp(word, "long"))
			nlong++;
		else if (!strcmp(word, "complex") || !strcmp(word, "_Complex"))
			cplx = 1;
		else if (!base && (!strcmp(word, "int") || !strcmp(word, "char") || !strcmp(word, "float") ||
		                   !strcmp(word, "double") || !strcmp(word, "_Bool") || !strcmp(word, "__int128")))
			base = !strcmp(word, "int") ? "int"
			       : !strcmp(word, "char") ? "char"
			       : !strcmp(word, "float") ? "float"
			       : !strcmp(word, "double") ? "double"
			       : !strcmp(word, "_Bool") ? "_Bool" : "__int128";
		else
			unknown = 1;
	}
	if (!unknown && !base && (is_unsigned || is_signed || is_short || nlong))
		base = "int";
	if (unknown || !base || nlong > 2 || (is_short && nlong)) {
		size_t i;
		for (i = 0; dwname[i] && i + 1 < len; i++)
			buf[i] = dwname[i] == ' ' ? '_' : dwname[i];
		if (len)
			buf[i] = 0;
		return;
	}
	const char *sz = is_short ? "short_" : nlong == 2 ? "long_long_" : nlong ? "long_" : "";
	if (!strcmp(base, "char")) {
		int u = is_unsigned || (!is_signed && ate == DW_ATE_unsigned_char);
		snprintf(buf, len, "%s", u ? "unsigned_char" : "signed_char");
	} else if (!strcmp(base, "float") || !strcmp(base, "double"))
		snprintf(buf, len, "%s%s%s", cplx ? "complex_" : "", sz, base);
	else
		snprintf(buf, len, "%s%s%s", is_unsigned ? "unsigned_" : "", sz, base);
}

static const struct uniqtype *void_type;

const struct uniqtype *ml_t_void(void)
{
	if (!void_type) {
		int fresh;
		struct uniqtype *t = new_type("void", ML_K_VOID, 0, &fresh);
		if (t && fresh)
			t->cspell = "void";
		void_type = t;
	}
	return void_type;
}

static const struct uniqtype *make_base(const char *canon, unsigned bits, int enc, const char *cspell)
{
	char name[160];
	snprintf(name, sizeof name, "%s$%u", canon, bits);
	int fresh;
	struct uniqtype *t = new_type(name, ML_K_BASE, bits / 8, &fresh);
	if (t && fresh) {
		t->encoding = enc;
		t->cspell = ml_t_strdup(cspell);
	}
	return t;
}

const struct uniqtype *ml_t_base(const char *canon, unsigned bits)
{
	if (!strcmp(canon, "void"))
		return bits ? NULL : ml_t_void();
	const struct base_info *b = base_info(canon);
	if (!b || !bits || bits % 8)
		return NULL;
	return make_base(canon, bits, b->enc, b->cspell);
}

const struct uniqtype *ml_t_base_dwarf(const char *dwname, int ate, unsigned bytes)
{
	char canon[128];
	ml_t_canon_base(dwname ? dwname : "?", ate, canon, sizeof canon);
	const struct base_info *b = base_info(canon);
	if (b)
		return make_base(canon, bytes * 8, b->enc, b->cspell);
	return make_base(canon, bytes * 8, ate_encoding(ate), dwname ? dwname : canon);
}

/* ---- derived types ------------------------------------------------------------------ */
const struct uniqtype *ml_t_pointer(const struct uniqtype *target)
{
	if (!target)
		return NULL;
	struct ml_t_buf b = { 0 };
	ml_t_buf_add(&b, "__PTR_");
	ml_t_buf_add(&b, target->name);
	if (!b.s)
		return NULL;
	int fresh;
	struct uniqtype *t = new_type(b.s, ML_K_POINTER, sizeof(void *), &fresh);
	free(b.s);
	if (t && fresh)
		t->target = target;
	return t;
}

const struct uniqtype *ml_t_array(const struct uniqtype *elem, size_t n)
{
	if (!elem)
		return NULL;
	struct ml_t_buf b = { 0 };
	ml_t_buf_addf(&b, "__ARR%zu_", n);
	ml_t_buf_add(&b, elem->name);
	if (!b.s)
		return NULL;
	int fresh;
	struct uniqtype *t = new_type(b.s, ML_K_ARRAY, n * elem->size, &fresh);
	free(b.s);
	if (t && fresh) {
		t->target = elem;
		t->count = n;
	}
	return t;
}

const struct uniqtype *ml_t_function(const struct uniqtype *ret, unsigned n, const struct uniqtype *const *args,
                                     int variadic)
{
	if (!ret)
		return NULL;
	struct ml_t_buf b = { 0 };
	ml_t_buf_add(&b, "__FUN_FROM_");
	for (unsigned i = 0; i < n; i++) {
		if (!args[i])
			return free(b.s), NULL;
		ml_t_buf_addf(&b, "__ARG%u_", i);
		ml_t_buf_add(&b, args[i]->name);
	}
	if (variadic)
		ml_t_buf_add(&b, "__VA_");
	ml_t_buf_add(&b, "__FUN_TO_");
	ml_t_buf_add(&b, ret->name);
	if (!b.s)
		return NULL;
	int fresh;
	struct uniqtype *t = new_type(b.s, ML_K_FUNCTION, 0, &fresh);
	free(b.s);
	if (t && fresh) {
		t->target = ret;
		t->variadic = variadic;
		if (n) {
			struct uniqtype_memb *m = ml_t_alloc(n * sizeof *m);
			if (m)
				for (unsigned i = 0; i < n; i++)
					m[i].type = args[i];
			t->memb = m;
			t->nmemb = m ? n : 0;
		}
	}
	return t;
}

const struct uniqtype *ml_t_make_struct(const char *name, size_t size, unsigned n, const char *const *names,
                                        const size_t *offsets, const struct uniqtype *const *types)
{
	if (!name)
		return NULL;
	int fresh;
	struct uniqtype *t = new_type(name, ML_K_STRUCT, size, &fresh);
	if (!t || !fresh)
		return t;
	struct ml_t_buf b = { 0 };
	ml_t_buf_add(&b, "struct ");
	ml_t_buf_add(&b, name);
	t->cspell = b.s ? ml_t_strdup(b.s) : NULL;
	free(b.s);
	struct uniqtype_memb *m = n ? ml_t_alloc(n * sizeof *m) : NULL;
	for (unsigned i = 0; m && i < n; i++) {
		m[i].name = names && names[i] ? ml_t_strdup(names[i]) : NULL;
		m[i].offset = offsets ? offsets[i] : 0;
		m[i].type = types ? types[i] : NULL;
	}
	t->memb = m;
	t->nmemb = m ? n : 0;
	return t;
}

/* A struct made from members already built (stack frames): like
 * ml_t_make_struct, but a different structure under a name already taken
 * gets the name "<name>$<hash>" (see the top of this file). */
const struct uniqtype *ml_t_struct_unique(const char *name, size_t size, unsigned n, const char *const *names,
                                          const size_t *offsets, const struct uniqtype *const *types)
{
	uint64_t sig = ml_t_hash(ML_T_HASH_INIT, &size, sizeof size);
	for (unsigned i = 0; i < n; i++) {
		const char *nm = names[i] ? names[i] : "";
		sig = ml_t_hash(sig, nm, strlen(nm) + 1);
		sig = ml_t_hash(sig, &offsets[i], sizeof offsets[i]);
		nm = types[i] ? types[i]->name : "";
		sig = ml_t_hash(sig, nm, strlen(nm) + 1);
	}
	struct ml_t_ent *e = ml_t_lookup(name);
	char *alt = NULL;
	if (e && e->has_sig && e->sig == sig)
		return e->t;
	if (e) {
		size_t len = strlen(name) + 16;
		if (!(alt = malloc(len)))
			return NULL;
		snprintf(alt, len, "%s$%08x", name, (unsigned)(sig ^ (sig >> 32)));
		name = alt;
		if ((e = ml_t_lookup(name))) {
			free(alt);
			return e->t;
		}
	}
	const struct uniqtype *t = ml_t_make_struct(name, size, n, names, offsets, types);
	free(alt);
	if (t && (e = ml_t_lookup(t->name))) {
		e->sig = sig;
		e->has_sig = 1;
	}
	return t;
}

/* ---- helpers ---------------------------------------------------------------- */
void ml_t_buf_add(struct ml_t_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p)
			return;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void ml_t_buf_addf(struct ml_t_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	ml_t_buf_add(b, tmp);
}

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

/* Keys are never ~0 (DIE offsets, addresses shifted); ~0 marks a free slot. */
#define EMPTY_KEY (~(uint64_t)0)

void *ml_t_map_get(const struct ml_t_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == EMPTY_KEY)
			return NULL;
		if (m->keys[i] == key)
			return m->vals[i];
	}
}

int ml_t_map_put(struct ml_t_map *m, uint64_t key, void *val)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		uint64_t *k = malloc(cap * sizeof *k);
		void **v = malloc(cap * sizeof *v);
		if (!k || !v) {
			free(k);
			free(v);
			return -1;
		}
		memset(k, 0xff, cap * sizeof *k);
		for (size_t i = 0; i < m->cap; i++) {
			if (m->keys[i] == EMPTY_KEY)
				continue;
			size_t j = mix(m->keys[i]) & (cap - 1);
			while (k[j] != EMPTY_KEY)
				j = (j + 1) & (cap - 1);
			k[j] = m->keys[i];
			v[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = k;
		m->vals = v;
		m->cap = cap;
	}
	size_t i = mix(key) & (m->cap - 1);
	while (m->keys[i] != EMPTY_KEY && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (m->keys[i] == EMPTY_KEY)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}
