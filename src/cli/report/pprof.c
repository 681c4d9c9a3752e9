/* pprof.c: --format pprof, gzip'd profile.proto, encoded here:
 * alloc_objects/space (every allocation), inuse_objects/space (live at
 * exit, as in Go's heap profiles), peak_objects/space (live at the peak),
 * temp_objects/space; the default sample follows --weight. */
#include "exporter.h"
#include "tables.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Protocol buffers, the little we need: varints and length-delimited
 * fields (github.com/google/pprof/proto/profile.proto). */
struct pb {
	uint8_t *b;
	size_t n, cap;
};

static void pb_put(struct pb *b, const void *d, size_t n)
{
	if (n == 0)
		return;
	if (b->n + n > b->cap) {
		while (b->n + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->b = xrealloc(b->b, b->cap);
	}
	memcpy(b->b + b->n, d, n);
	b->n += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		t[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	pb_put(b, t, n);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v) /* omitted when 0, as proto3 does */
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3 | 0);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned field, const void *d, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, n);
	pb_put(b, d, n);
}

/* Appends message m as field of b and empties m. */
static void pb_msg(struct pb *b, unsigned field, struct pb *m)
{
	pb_bytes(b, field, m->b, m->n);
	m->n = 0;
}

enum { P_PROFILE_SAMPLE_TYPE = 1, P_PROFILE_SAMPLE = 2, P_PROFILE_MAPPING = 3, P_PROFILE_LOCATION = 4,
       P_PROFILE_FUNCTION = 5, P_PROFILE_STRING_TABLE = 6, P_PROFILE_TIME_NANOS = 9,
       P_PROFILE_DURATION_NANOS = 10, P_PROFILE_PERIOD_TYPE = 11, P_PROFILE_PERIOD = 12,
       P_PROFILE_COMMENT = 13, P_PROFILE_DEFAULT_SAMPLE_TYPE = 14 };
enum { P_VT_TYPE = 1, P_VT_UNIT = 2 };
enum { P_SAMPLE_LOCATION_ID = 1, P_SAMPLE_VALUE = 2 };
enum { P_MAPPING_ID = 1, P_MAPPING_START = 2, P_MAPPING_LIMIT = 3, P_MAPPING_OFFSET = 4,
       P_MAPPING_FILENAME = 5, P_MAPPING_BUILD_ID = 6, P_MAPPING_HAS_FUNCTIONS = 7,
       P_MAPPING_HAS_FILENAMES = 8, P_MAPPING_HAS_LINE_NUMBERS = 9, P_MAPPING_HAS_INLINE_FRAMES = 10 };
enum { P_LOC_ID = 1, P_LOC_MAPPING_ID = 2, P_LOC_ADDRESS = 3, P_LOC_LINE = 4 };
enum { P_LINE_FUNCTION_ID = 1, P_LINE_LINE = 2 };
enum { P_FN_ID = 1, P_FN_NAME = 2, P_FN_SYSTEM_NAME = 3, P_FN_FILENAME = 4, P_FN_START_LINE = 5 };

static void pb_value_type(struct pb *b, unsigned field, struct strtab *st, const char *type, const char *unit)
{
	struct pb m = { 0 };
	pb_uint(&m, P_VT_TYPE, st_index(st, type));
	pb_uint(&m, P_VT_UNIT, st_index(st, unit));
	pb_msg(b, field, &m);
	free(m.b);
}

/* The sample types, in the order of the values of each sample. */
static const struct { const char *type, *unit; int field; } pprof_types[] = {
	{ "alloc_objects", "count", SF_ALLOCS },
	{ "alloc_space", "bytes", SF_BYTES_TOTAL },
	{ "inuse_objects", "count", SF_LIVE_BLOCKS },
	{ "inuse_space", "bytes", SF_LIVE_BYTES },
	{ "peak_objects", "count", SF_PEAK_BLOCKS },
	{ "peak_space", "bytes", SF_PEAK_BYTES },
	{ "temp_objects", "count", SF_TEMP_ALLOCS },
	{ "temp_space", "bytes", SF_TEMP_BYTES },
};
#define NTYPES (sizeof pprof_types / sizeof pprof_types[0])
_Static_assert(NTYPES == PPROF_NTYPES, "exporter.h's PPROF_NTYPES counts pprof_types");

static int gzip_out(const uint8_t *d, size_t n, FILE *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fputs("memlens: zlib: cannot start compressing\n", stderr);
		return -1;
	}
	static uint8_t buf[65536];
	size_t left = n;
	int flush, zr = Z_OK;
	z.next_in = (Bytef *)(uintptr_t)d;
	do {
		if (z.avail_in == 0 && left) {
			uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
			z.avail_in = chunk;
			left -= chunk;
		}
		flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = buf;
			z.avail_out = sizeof buf;
			zr = deflate(&z, flush);
			if (zr == Z_STREAM_ERROR) {
				deflateEnd(&z);
				fputs("memlens: zlib: compression failed\n", stderr);
				return -1;
			}
			fwrite(buf, 1, sizeof buf - z.avail_out, out);
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -1;
}

/* The mapping id of module mod of input r: the inputs' modules in turn. */
static uint64_t mapping_id(const struct pprof_src *src, const struct report *r, int mod)
{
	uint64_t base = 0;
	for (size_t i = 0; i < src->nreps && src->reps[i] != r; i++)
		base += src->reps[i]->p->nmods;
	return base + (uint64_t)mod + 1;
}

int pprof_write(const struct pprof_src *src, FILE *out)
{
	struct strtab st = { 0 };
	struct pb prof = { 0 }, m = { 0 }, sub = { 0 }, packed = { 0 };
	struct kmap locs = { 0 }, funcs = { 0 };
	char name[2048], esc[2048];
	st_index(&st, "");

	for (size_t i = 0; i < NTYPES; i++)
		pb_value_type(&prof, P_PROFILE_SAMPLE_TYPE, &st, pprof_types[i].type, pprof_types[i].unit);

	/* samples, with their locations and functions made as they come */
	struct pb locs_pb = { 0 }, funcs_pb = { 0 };
	uint64_t nloc = 0, nfunc = 0;
	for (size_t i = 0; i < src->nsamples; i++) {
		struct report *r;
		uint32_t node;
		int64_t v[NTYPES];
		if (!src->sample(src->arg, i, &r, &node, v))
			continue;
		const struct profile *p = r->p;
		packed.n = 0;
		for (uint32_t j = node; j != 0; j = p->nodes[j].parent) {
			const struct sym_pc *sp = sym_lookup(r->sym, p->nodes[j].pc);
			int found;
			struct kent *e = km_slot(&locs, (uintptr_t)sp, 0, 0, &found);
			if (!found) {
				e->v = ++nloc;
				pb_uint(&m, P_LOC_ID, e->v);
				if (sp->mod >= 0)
					pb_uint(&m, P_LOC_MAPPING_ID, mapping_id(src, r, sp->mod));
				pb_uint(&m, P_LOC_ADDRESS, sp->pc);
				for (unsigned k = 0; k < sp->nframes; k++) {
					const struct sym_frame *f = &sp->frames[k];
					struct xframe x = { sp, k };
					frame_func(r, &x, name, sizeof name);
					uint32_t ni = st_index(&st, name);
					uint32_t si = f->sysname ? st_index(&st, text_esc(f->sysname, esc, sizeof esc, ESC_TEXT)) : ni;
					uint32_t fi = f->file ? st_index(&st, text_esc(f->file, esc, sizeof esc, ESC_TEXT)) : 0;
					int ff;
					struct kent *fe = km_slot(&funcs, ni, si, fi, &ff);
					if (!ff) {
						fe->v = ++nfunc;
						pb_uint(&sub, P_FN_ID, fe->v);
						pb_uint(&sub, P_FN_NAME, ni);
						pb_uint(&sub, P_FN_SYSTEM_NAME, si);
						pb_uint(&sub, P_FN_FILENAME, fi);
						pb_uint(&sub, P_FN_START_LINE, f->start_line);
						pb_msg(&funcs_pb, P_PROFILE_FUNCTION, &sub);
					}
					pb_uint(&sub, P_LINE_FUNCTION_ID, fe->v);
					pb_uint(&sub, P_LINE_LINE, f->line);
					pb_msg(&m, P_LOC_LINE, &sub);
				}
				pb_msg(&locs_pb, P_PROFILE_LOCATION, &m);
			}
			pb_varint(&packed, e->v);
		}
		pb_msg(&m, P_SAMPLE_LOCATION_ID, &packed);
		for (size_t k = 0; k < NTYPES; k++)
			pb_varint(&packed, (uint64_t)v[k]); /* int64: a negative one in ten bytes */
		pb_msg(&m, P_SAMPLE_VALUE, &packed);
		pb_msg(&prof, P_PROFILE_SAMPLE, &m);
	}

	for (size_t ri = 0; ri < src->nreps; ri++) {
		const struct profile *p = src->reps[ri]->p;
		for (size_t i = 0; i < p->nmods; i++) {
			const struct prof_module *mod = &p->mods[i];
			char id[2 * 255 + 1];
			for (unsigned k = 0; k < mod->build_id_len; k++)
				sprintf(id + 2 * k, "%02x", mod->build_id[k]);
			id[2 * mod->build_id_len] = '\0';
			pb_uint(&m, P_MAPPING_ID, mapping_id(src, src->reps[ri], (int)i));
			pb_uint(&m, P_MAPPING_START, mod->lo);
			pb_uint(&m, P_MAPPING_LIMIT, mod->hi);
			pb_uint(&m, P_MAPPING_OFFSET, 0);
			pb_uint(&m, P_MAPPING_FILENAME, st_index(&st, text_esc(mod->path, esc, sizeof esc, ESC_TEXT)));
			pb_uint(&m, P_MAPPING_BUILD_ID, st_index(&st, id));
			/* every location carries its functions (or an address name):
			 * nothing is left for pprof to symbolize */
			pb_uint(&m, P_MAPPING_HAS_FUNCTIONS, 1);
			pb_uint(&m, P_MAPPING_HAS_FILENAMES, 1);
			pb_uint(&m, P_MAPPING_HAS_LINE_NUMBERS, 1);
			pb_uint(&m, P_MAPPING_HAS_INLINE_FRAMES, 1);
			pb_msg(&prof, P_PROFILE_MAPPING, &m);
		}
	}
	pb_put(&prof, locs_pb.b, locs_pb.n);
	pb_put(&prof, funcs_pb.b, funcs_pb.n);

	static const int default_type[] = { 5, 1, 3, 6 }; /* peak_space, alloc_space, inuse_space, temp_objects */
	uint32_t dflt = st_index(&st, pprof_types[default_type[src->weight]].type);
	uint32_t comment = st_index(&st, text_esc(src->comment, esc, sizeof esc, ESC_TEXT));
	uint32_t space = st_index(&st, "space"), bytes = st_index(&st, "bytes");

	for (size_t i = 0; i < st.n; i++)
		pb_bytes(&prof, P_PROFILE_STRING_TABLE, st.strs[i], strlen(st.strs[i]));
	pb_uint(&prof, P_PROFILE_TIME_NANOS, src->time_nanos);
	pb_uint(&prof, P_PROFILE_DURATION_NANOS, src->duration_nanos);
	pb_uint(&sub, P_VT_TYPE, space);
	pb_uint(&sub, P_VT_UNIT, bytes);
	pb_msg(&prof, P_PROFILE_PERIOD_TYPE, &sub);
	pb_uint(&prof, P_PROFILE_PERIOD, src->period ? src->period : 1);
	pb_uint(&prof, P_PROFILE_COMMENT, comment);
	pb_uint(&prof, P_PROFILE_DEFAULT_SAMPLE_TYPE, dflt);

	int rc = gzip_out(prof.b, prof.n, out);
	free(prof.b);
	free(m.b);
	free(sub.b);
	free(packed.b);
	free(locs_pb.b);
	free(funcs_pb.b);
	free(locs.e);
	free(funcs.e);
	st_free(&st);
	return rc;
}

/* One profile's stacks, as they are (those with a figure). */
static int one_sample(void *arg, size_t i, struct report **rp, uint32_t *node, int64_t *v)
{
	struct report *r = arg;
	const struct prof_stack *s = &r->p->stacks[i];
	int any = 0;
	for (size_t k = 0; k < NTYPES; k++) {
		v[k] = (int64_t)s->f[pprof_types[k].field];
		any |= v[k] != 0;
	}
	*rp = r;
	*node = s->node;
	return any;
}

void pprof_values(const uint64_t *f, int64_t *v)
{
	for (size_t k = 0; k < NTYPES; k++)
		v[k] = (int64_t)f[pprof_types[k].field];
}

int report_pprof(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	char comment[2048], esc[1024];
	snprintf(comment, sizeof comment, "memlens heap profile of %s (pid %" PRIu64 ")",
	         text_esc(p->exe, esc, sizeof esc, ESC_TEXT), p->pid);
	struct pprof_src src = { &r, 1, p->nstacks, one_sample, r, comment, r->o->weight,
	                         p->wall_start_s * 1000000000ULL, p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0,
	                         p->sample_bytes };
	return pprof_write(&src, out);
}
