/* dwarf_types.c: turns DWARF type DIEs into uniqtypes (registry.c).
 *
 * Each object caches DIE -> uniqtype, so a DIE is converted once.
 * Typedefs and qualifiers resolve to what they name.  A struct, union or
 * enum is registered under its name before its members are built, so a
 * recursive type (struct node { struct node *next; }) finds itself while
 * its members are being made.  Whether a definition is the same type as
 * one already registered under its name is decided by a signature made
 * without building anything: kind, size and each member's name, offset,
 * bit position and *nominal* type name (aggregates referred to by their
 * tag; see registry.c for what a different signature does). */
#include "module_internal.h"
#include <ctype.h>
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

const char *ml_t_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, DW_AT_name, &a))
		return NULL;
	return dwarf_formstring(&a);
}

/* The DIE die's attribute `at` refers to, or NULL. */
static Dwarf_Die *ref(Dwarf_Die *die, int at, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, at, &a))
		return NULL;
	return dwarf_formref_die(&a, out);
}

static int is_agg(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type ||
	       tag == DW_TAG_class_type;
}

static int is_decl(Dwarf_Die *die)
{
	bool flag = false;
	Dwarf_Attribute a;
	return dwarf_attr(die, DW_AT_declaration, &a) && dwarf_formflag(&a, &flag) == 0 && flag;
}

int ml_t_is_named_type(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	if (tag == DW_TAG_base_type) {
		/* clang's type for array bounds is no type of the program */
		const char *n = dwarf_diename(die);
		return !n || strcmp(n, "__ARRAY_SIZE_TYPE__");
	}
	return is_agg(tag) && !is_decl(die);
}

/* Typedefs and qualifiers: a uniqtype is the type they lead to. */
static int is_transparent(int tag)
{
	switch (tag) {
	case DW_TAG_typedef:
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
	case DW_TAG_immutable_type:
	case DW_TAG_shared_type:
		return 1;
	default:
		return 0;
	}
}

/* Follows typedefs and qualifiers; NULL for void. */
static Dwarf_Die *strip(Dwarf_Die *die, Dwarf_Die *buf)
{
	for (int i = 0; die && i < MAX_DEPTH && is_transparent(dwarf_tag(die)); i++)
		die = ref(die, DW_AT_type, buf);
	return die;
}

/* ---- naming aggregates ------------------------------------------------------ */

/* Anonymous structs named by a typedef: one pass over the top level of
 * every unit, typedef -> the nameless aggregate it names. */
static void scan_anon_typedefs(struct ml_t_obj *o)
{
	o->anon_scanned = 1;
	Dwarf_Die cu, child, target;
	for (Dwarf_Off off = 0; ml_t_next_cu(o, &off, &cu);) {
		if (dwarf_child(&cu, &child) != 0)
			continue;
		do {
			if (dwarf_tag(&child) != DW_TAG_typedef || !ref(&child, DW_AT_type, &target) ||
			    !is_agg(dwarf_tag(&target)) || dwarf_hasattr(&target, DW_AT_name))
				continue;
			uint64_t k = ml_t_die_key(o, &target);
			const char *n = dwarf_diename(&child);
			if (n && !ml_t_map_get(&o->anon_names, k))
				ml_t_map_put(&o->anon_names, k, (void *)n);
		} while (dwarf_siblingof(&child, &child) == 0);
	}
}

/* dwarf_decl_file, but also for file 0, which DWARF 5 makes the primary
 * source file (clang refers to it; libdw 0.188 takes 0 for "none"). */
static const char *decl_file(Dwarf_Die *die)
{
	const char *f = dwarf_decl_file(die);
	Dwarf_Attribute a;
	Dwarf_Word idx;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;
	if (f || !dwarf_attr_integrate(die, DW_AT_decl_file, &a) || dwarf_formudata(&a, &idx) ||
	    !dwarf_diecu(die, &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, &nfiles) || idx >= nfiles)
		return f;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static const char *tag_word(int tag)
{
	return tag == DW_TAG_union_type ? "union" : tag == DW_TAG_enumeration_type ? "enum" : "struct";
}

/* An aggregate's name: its tag, else the typedef naming it, else
 * __anon_<struct|union|enum>_<file>_<line>. */
static void agg_name(struct ml_t_obj *o, Dwarf_Die *die, struct ml_t_buf *b)
{
	const char *n = ml_t_die_name(die);
	if (n) {
		ml_t_buf_add(b, n);
		return;
	}
	if (!o->anon_scanned)
		scan_anon_typedefs(o);
	if ((n = ml_t_map_get(&o->anon_names, ml_t_die_key(o, die)))) {
		ml_t_buf_add(b, n);
		return;
	}
	const char *file = decl_file(die);
	int line = 0;
	dwarf_decl_line(die, &line);
	ml_t_buf_addf(b, "__anon_%s_", tag_word(dwarf_tag(die)));
	if (file) {
		const char *s = strrchr(file, '/');
		char f[256];
		snprintf(f, sizeof f, "%s", s ? s + 1 : file);
		for (char *p = f; *p; p++)
			if (!isalnum((unsigned char)*p))
				*p = '_';
		ml_t_buf_add(b, f);
	}
	ml_t_buf_addf(b, "_%d", line);
}

/* ---- arrays ------------------------------------------------------------------- */
static int const_form(Dwarf_Attribute *a)
{
	switch (dwarf_whatform(a)) {
	case DW_FORM_data1: case DW_FORM_data2: case DW_FORM_data4: case DW_FORM_data8:
	case DW_FORM_sdata: case DW_FORM_udata: case DW_FORM_implicit_const:
		return 1;
	default:
		return 0;
	}
}

/* A constant attribute as a signed number: all-ones in a fixed-size form
 * is -1 (compilers write "no upper bound" so). */
static int const_value(Dwarf_Attribute *a, long long *v)
{
	Dwarf_Word w;
	Dwarf_Sword s;
	if (!const_form(a))
		return -1;
	switch (dwarf_whatform(a)) {
	case DW_FORM_sdata:
	case DW_FORM_implicit_const:
		if (dwarf_formsdata(a, &s))
			return -1;
		*v = s;
		return 0;
	default:
		if (dwarf_formudata(a, &w))
			return -1;
		int form = dwarf_whatform(a);
		if ((form == DW_FORM_data1 && w == 0xff) || (form == DW_FORM_data2 && w == 0xffff) ||
		    (form == DW_FORM_data4 && w == 0xffffffffu))
			w = (Dwarf_Word)-1;
		*v = (long long)w;
		return 0;
	}
}

/* Elements in one dimension; 0 when not a constant (flexible, VLA). */
static size_t subrange_count(Dwarf_Die *sr)
{
	Dwarf_Attribute a;
	long long n, lo = 0;
	if (dwarf_attr(sr, DW_AT_count, &a))
		return const_value(&a, &n) || n < 0 ? 0 : (size_t)n;
	if (!dwarf_attr(sr, DW_AT_upper_bound, &a) || const_value(&a, &n) || n < 0)
		return 0;
	if (dwarf_attr(sr, DW_AT_lower_bound, &a) && const_value(&a, &lo))
		return 0;
	return n >= lo ? (size_t)(n - lo + 1) : 0;
}

#define MAX_DIMS 32
static int array_dims(Dwarf_Die *die, size_t *counts)
{
	Dwarf_Die c;
	int n = 0;
	if (dwarf_child(die, &c) == 0)
		do {
			int tag = dwarf_tag(&c);
			if ((tag == DW_TAG_subrange_type || tag == DW_TAG_enumeration_type) && n < MAX_DIMS)
				counts[n++] = tag == DW_TAG_subrange_type ? subrange_count(&c) : 0;
		} while (dwarf_siblingof(&c, &c) == 0);
	if (!n)
		counts[n++] = 0;
	return n;
}

/* ---- nominal names (for signatures) --------------------------------------------- */
static int prototyped(Dwarf_Die *die)
{
	Dwarf_Die cu;
	if (dwarf_hasattr_integrate(die, DW_AT_prototyped))
		return 1;
	/* Only C has unprototyped functions. */
	int lang = dwarf_diecu(die, &cu, NULL, NULL) ? dwarf_srclang(&cu) : -1;
	return !(lang == DW_LANG_C89 || lang == DW_LANG_C || lang == DW_LANG_C99 || lang == DW_LANG_C11 ||
	         lang == 0x2c /* DW_LANG_C17 */);
}

static void nominal(struct ml_t_obj *o, Dwarf_Die *die, struct ml_t_buf *b, int depth)
{
	Dwarf_Die buf, t, c;
	die = strip(die, &buf);
	if (!die) {
		ml_t_buf_add(b, "void");
		return;
	}
	if (depth > MAX_DEPTH) {
		ml_t_buf_add(b, "?");
		return;
	}
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type: {
		char canon[128];
		Dwarf_Word enc = 0;
		Dwarf_Attribute a;
		if (dwarf_attr(die, DW_AT_encoding, &a))
			dwarf_formudata(&a, &enc);
		ml_t_canon_base(dwarf_diename(die) ? dwarf_diename(die) : "?", (int)enc, canon, sizeof canon);
		int sz = dwarf_bytesize(die);
		ml_t_buf_addf(b, "%s$%d", canon, sz > 0 ? sz * 8 : 0);
		break;
	}
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		ml_t_buf_add(b, "__PTR_");
		nominal(o, ref(die, DW_AT_type, &t), b, depth + 1);
		break;
	case DW_TAG_array_type: {
		size_t counts[MAX_DIMS];
		int n = array_dims(die, counts);
		for (int i = 0; i < n; i++)
			ml_t_buf_addf(b, "__ARR%zu_", counts[i]);
		nominal(o, ref(die, DW_AT_type, &t), b, depth + 1);
		break;
	}
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		agg_name(o, die, b);
		break;
	case DW_TAG_subroutine_type: {
		int i = 0, va = 0;
		ml_t_buf_add(b, "__FUN_FROM_");
		if (prototyped(die) && dwarf_child(die, &c) == 0)
			do {
				if (dwarf_tag(&c) == DW_TAG_formal_parameter) {
					ml_t_buf_addf(b, "__ARG%d_", i++);
					nominal(o, ref(&c, DW_AT_type, &t), b, depth + 1);
				} else if (dwarf_tag(&c) == DW_TAG_unspecified_parameters)
					va = 1;
			} while (dwarf_siblingof(&c, &c) == 0);
		if (va)
			ml_t_buf_add(b, "__VA_");
		ml_t_buf_add(b, "__FUN_TO_");
		nominal(o, ref(die, DW_AT_type, &t), b, depth + 1);
		break;
	}
	default:
		ml_t_buf_add(b, "?");
	}
}

/* ---- struct, union, enum ----------------------------------------------------------- */
static int member_location(Dwarf_Die *m, Dwarf_Word *off)
{
	Dwarf_Attribute a;
	*off = 0;
	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return 0;
	if (const_form(&a))
		return dwarf_formudata(&a, off);
	Dwarf_Op *ops;
	size_t n;
	if (dwarf_getlocation(&a, &ops, &n) == 0) {
		if (n == 1 && ops[0].atom == DW_OP_plus_uconst) {
			*off = ops[0].number;
			return 0;
		}
		if (n == 2 && (ops[0].atom == DW_OP_constu || ops[0].atom == DW_OP_lit0) &&
		    ops[1].atom == DW_OP_plus) {
			*off = ops[0].number;
			return 0;
		}
		if (n == 1 && ops[0].atom >= DW_OP_lit0 && ops[0].atom <= DW_OP_lit31) {
			*off = ops[0].atom - DW_OP_lit0;
			return 0;
		}
	}
	return -1;
}

/* One member's place: byte offset, and for a bit-field its first bit
 * counted from the least significant bit of that byte (little-endian). */
static void member_place(Dwarf_Die *m, size_t *offset, unsigned *bit_offset, unsigned *bit_size)
{
	Dwarf_Word off, bsize = 0, dbo;
	Dwarf_Attribute a;
	member_location(m, &off);
	*offset = off;
	*bit_offset = *bit_size = 0;
	if (!dwarf_attr(m, DW_AT_bit_size, &a) || dwarf_formudata(&a, &bsize) || !bsize)
		return;
	unsigned long long bit;
	if (dwarf_attr(m, DW_AT_data_bit_offset, &a) && dwarf_formudata(&a, &dbo) == 0)
		bit = off * 8 + dbo; /* data_bit_offset is from the start of the struct (no location then) */
	else if (dwarf_attr(m, DW_AT_bit_offset, &a)) {
		/* DWARF 2/3: counted from the most significant bit of a storage
		 * unit of byte_size bytes at the location. */
		Dwarf_Sword bo = 0;
		dwarf_formsdata(&a, &bo);
		int bytes = dwarf_bytesize(m);
		if (bytes <= 0) {
			Dwarf_Die tb, t, *tp = strip(ref(m, DW_AT_type, &t), &tb);
			bytes = tp ? dwarf_bytesize(tp) : 0;
		}
		bit = off * 8 + (long long)bytes * 8 - bo - (long long)bsize;
	} else
		bit = off * 8;
	*offset = bit / 8;
	*bit_offset = bit % 8;
	*bit_size = bsize;
}

static int enum_signed(struct ml_t_obj *o, Dwarf_Die *die)
{
	(void)o;
	Dwarf_Die tb, t, *tp = strip(ref(die, DW_AT_type, &t), &tb);
	Dwarf_Attribute a;
	Dwarf_Word enc;
	if (!tp)
		return 1;
	if (dwarf_attr(tp, DW_AT_encoding, &a) && dwarf_formudata(&a, &enc) == 0)
		return enc == DW_ATE_signed || enc == DW_ATE_signed_char;
	return 1;
}

static long long enumerator_value(Dwarf_Die *e, int sign, int bytes)
{
	Dwarf_Attribute a;
	Dwarf_Word w = 0;
	Dwarf_Sword s = 0;
	if (!dwarf_attr(e, DW_AT_const_value, &a))
		return 0;
	int form = dwarf_whatform(&a);
	if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
		dwarf_formsdata(&a, &s);
		return s;
	}
	dwarf_formudata(&a, &w);
	int fbytes = form == DW_FORM_data1 ? 1 : form == DW_FORM_data2 ? 2 : form == DW_FORM_data4 ? 4 : 8;
	if (form == DW_FORM_udata)
		return (long long)w;
	if (bytes > 0 && bytes < fbytes)
		fbytes = bytes;
	if (sign && fbytes < 8 && (w >> (fbytes * 8 - 1)) & 1)
		w |= ~(Dwarf_Word)0 << (fbytes * 8);
	return (long long)w;
}

static int is_member(Dwarf_Die *c, int kind)
{
	int tag = dwarf_tag(c);
	if (kind == ML_K_ENUM)
		return tag == DW_TAG_enumerator;
	return (tag == DW_TAG_member || tag == DW_TAG_inheritance) && !is_decl(c) &&
	       !dwarf_hasattr(c, DW_AT_external);
}

static uint64_t signature(struct ml_t_obj *o, Dwarf_Die *die, int kind, size_t size)
{
	uint64_t h = ML_T_HASH_INIT;
	h = ml_t_hash(h, &kind, sizeof kind);
	h = ml_t_hash(h, &size, sizeof size);
	int sign = kind == ML_K_ENUM ? enum_signed(o, die) : 0;
	Dwarf_Die c;
	if (dwarf_child(die, &c) == 0)
		do {
			if (!is_member(&c, kind))
				continue;
			const char *n = dwarf_diename(&c);
			h = ml_t_hash(h, n ? n : "", n ? strlen(n) + 1 : 1);
			if (kind == ML_K_ENUM) {
				long long v = enumerator_value(&c, sign, (int)size);
				h = ml_t_hash(h, &v, sizeof v);
				continue;
			}
			size_t off;
			unsigned bo, bs;
			member_place(&c, &off, &bo, &bs);
			uint64_t pl[3] = { off, bo, bs };
			h = ml_t_hash(h, pl, sizeof pl);
			struct ml_t_buf b = { 0 };
			Dwarf_Die t;
			nominal(o, ref(&c, DW_AT_type, &t), &b, 0);
			if (b.s)
				h = ml_t_hash(h, b.s, b.len + 1);
			free(b.s);
		} while (dwarf_siblingof(&c, &c) == 0);
	return h;
}

static void fill_members(struct ml_t_obj *o, Dwarf_Die *die, struct uniqtype *t)
{
	Dwarf_Die c, tdie;
	unsigned n = 0;
	if (dwarf_child(die, &c) == 0)
		do
			n += is_member(&c, t->kind);
		while (dwarf_siblingof(&c, &c) == 0);
	struct uniqtype_memb *m = n ? ml_t_alloc(n * sizeof *m) : NULL;
	if (n && !m)
		n = 0;
	int sign = t->kind == ML_K_ENUM ? enum_signed(o, die) : 0;
	unsigned i = 0;
	if (n && dwarf_child(die, &c) == 0)
		do {
			if (!is_member(&c, t->kind) || i >= n)
				continue;
			const char *name = dwarf_diename(&c);
			m[i].name = name ? ml_t_strdup(name) : NULL;
			if (t->kind == ML_K_ENUM)
				m[i].value = enumerator_value(&c, sign, (int)t->size);
			else {
				member_place(&c, &m[i].offset, &m[i].bit_offset, &m[i].bit_size);
				m[i].type = ml_t_from_die(o, ref(&c, DW_AT_type, &tdie));
			}
			i++;
		} while (dwarf_siblingof(&c, &c) == 0);
	if (t->kind == ML_K_ENUM && ref(die, DW_AT_type, &tdie))
		t->target = ml_t_from_die(o, &tdie);
	t->memb = m;
	t->nmemb = i;
}

static const struct uniqtype *build_agg(struct ml_t_obj *o, Dwarf_Die *die, uint64_t key)
{
	int tag = dwarf_tag(die);
	int kind = tag == DW_TAG_union_type ? ML_K_UNION : tag == DW_TAG_enumeration_type ? ML_K_ENUM : ML_K_STRUCT;
	struct ml_t_buf name = { 0 }, cspell = { 0 };
	agg_name(o, die, &name);
	if (!name.s)
		return NULL;
	ml_t_buf_add(&cspell, tag_word(tag));
	ml_t_buf_add(&cspell, " ");
	ml_t_buf_add(&cspell, name.s);
	struct uniqtype *t = NULL;
	struct ml_t_ent *e = ml_t_lookup(name.s);
	int fill = 0;
	uint64_t sig = 0;
	if (is_decl(die)) {
		/* A declaration: whatever has that name, else a placeholder
		 * completed in place when a definition comes. */
		if (e)
			t = e->t;
	} else {
		int sz = dwarf_bytesize(die);
		size_t size = sz > 0 ? (size_t)sz : 0;
		sig = signature(o, die, kind, size);
		if (e && e->t->kind == kind && e->has_sig && e->sig == sig)
			t = e->t;
		else if (e && e->t->kind == kind && !e->has_sig && !e->t->complete) {
			t = e->t; /* complete the placeholder */
			e->sig = sig;
			e->has_sig = 1;
			t->size = size;
			fill = 1;
		} else if (e) {
			ml_t_buf_addf(&name, "$%08x", (unsigned)(sig ^ (sig >> 32)));
			if (!name.s)
				goto out;
			if ((e = ml_t_lookup(name.s)))
				t = e->t;
		}
		if (!t) {
			fill = 1;
			goto create;
		}
	}
	if (t)
		goto out;
create:
	t = ml_t_alloc(sizeof *t);
	if (!t || !(t->name = ml_t_strdup(name.s)) || !(t->cspell = ml_t_strdup(cspell.s ? cspell.s : name.s))) {
		t = NULL;
		goto out;
	}
	t->kind = kind;
	if (!is_decl(die)) {
		int sz = dwarf_bytesize(die);
		t->size = sz > 0 ? (size_t)sz : 0;
	}
	if (!(e = ml_t_register(t))) {
		t = NULL;
		goto out;
	}
	if (fill) {
		e->sig = sig;
		e->has_sig = 1;
	}
out:
	free(name.s);
	free(cspell.s);
	if (!t)
		return NULL;
	ml_t_map_put(&o->types, key, t);
	if (fill) {
		fill_members(o, die, t);
		__atomic_store_n(&t->complete, 1, __ATOMIC_RELEASE);
	}
	return t;
}

/* ---- functions ------------------------------------------------------------------ */
const struct uniqtype *ml_t_function_of(struct ml_t_obj *o, Dwarf_Die *die)
{
	Dwarf_Die origin, c, *pd = die;
	/* A concrete instance of an inline function lists its parameters in
	 * the abstract instance. */
	for (int i = 0; i < 4 && ref(pd, DW_AT_abstract_origin, &origin); i++)
		pd = &origin;
	const struct uniqtype *ret = ml_t_type_of(o, die);
	unsigned n = 0, cap = 8;
	int va = 0;
	const struct uniqtype **args = malloc(cap * sizeof *args);
	if (!args || !ret)
		return free(args), NULL;
	int all = dwarf_tag(die) != DW_TAG_subroutine_type || prototyped(die);
	if (all && dwarf_child(pd, &c) == 0)
		do {
			int tag = dwarf_tag(&c);
			if (tag == DW_TAG_unspecified_parameters)
				va = 1;
			if (tag != DW_TAG_formal_parameter)
				continue;
			if (n == cap) {
				const struct uniqtype **a = realloc(args, (cap *= 2) * sizeof *args);
				if (!a)
					return free(args), NULL;
				args = a;
			}
			if (!(args[n++] = ml_t_type_of(o, &c)))
				return free(args), NULL;
		} while (dwarf_siblingof(&c, &c) == 0);
	const struct uniqtype *t = ml_t_function(ret, n, args, va);
	free(args);
	return t;
}

const struct uniqtype *ml_t_type_of(struct ml_t_obj *o, Dwarf_Die *die)
{
	Dwarf_Die t;
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, DW_AT_type, &a))
		return ml_t_void();
	if (!dwarf_formref_die(&a, &t))
		return NULL;
	return ml_t_from_die(o, &t);
}

const struct uniqtype *ml_t_from_die(struct ml_t_obj *o, Dwarf_Die *die)
{
	if (!die)
		return ml_t_void();
	uint64_t key = ml_t_die_key(o, die);
	const struct uniqtype *t = ml_t_map_get(&o->types, key);
	if (t)
		return t;
	Dwarf_Attribute a;
	int tag = dwarf_tag(die);
	switch (is_transparent(tag) ? DW_TAG_typedef : tag) {
	case DW_TAG_typedef: /* and the qualifiers */
		t = ml_t_type_of(o, die);
		break;
	case DW_TAG_base_type: {
		Dwarf_Word enc = 0;
		if (dwarf_attr(die, DW_AT_encoding, &a))
			dwarf_formudata(&a, &enc);
		int sz = dwarf_bytesize(die);
		t = ml_t_base_dwarf(dwarf_diename(die), (int)enc, sz > 0 ? (unsigned)sz : 0);
		break;
	}
	case DW_TAG_unspecified_type:
		t = ml_t_void();
		break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		t = ml_t_pointer(ml_t_type_of(o, die));
		break;
	case DW_TAG_array_type: {
		size_t counts[MAX_DIMS];
		int n = array_dims(die, counts);
		t = ml_t_type_of(o, die);
		for (int i = n - 1; i >= 0 && t; i--)
			t = ml_t_array(t, counts[i]);
		break;
	}
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		return build_agg(o, die, key);
	case DW_TAG_subroutine_type:
	case DW_TAG_subprogram:
		t = ml_t_function_of(o, die);
		break;
	default:
		return NULL;
	}
	if (t)
		ml_t_map_put(&o->types, key, (void *)t);
	return t;
}
