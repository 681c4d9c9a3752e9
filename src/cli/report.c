/* report.c: `memlens report FILE`: reads a heap profile (src/profile_format.h),
 * symbolizes its stacks with libdw and prints the text report; the other
 * formats are in report_formats.c.
 *
 * Exit statuses: 0 done, 1 the file cannot be read or is not a valid
 * profile (one message naming the problem and its byte offset), or the
 * output cannot be written; 2 usage error. */
#include "report.h"
#include "output.h"
#include "profile/profile_format.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("memlens report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fputs("memlens report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("memlens report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *r = xmalloc(n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

/* ==== reading the file ===================================================== */

struct rd {
	const uint8_t *b;
	size_t len;
	char *err;
	size_t errlen;
};

static int rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rd_fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* "STKS", or 0x... when the tag is not four printable characters. */
static const char *tag_name(uint32_t tag, char buf[16])
{
	int printable = 1;
	for (int i = 0; i < 4; i++) {
		unsigned c = tag >> (8 * i) & 0xff;
		if (c < 0x21 || c > 0x7e)
			printable = 0;
		buf[i] = (char)c;
	}
	if (printable)
		buf[4] = '\0';
	else
		snprintf(buf, 16, "0x%08" PRIx32, tag);
	return buf;
}

/* The first bytes of a foreign file, escaped, and a guess at what it is. */
static void describe_magic(const uint8_t *b, size_t len, char *out, size_t outlen)
{
	char esc[64];
	size_t n = 0;
	for (size_t i = 0; i < len && i < 8 && n + 5 < sizeof esc; i++) {
		unsigned c = b[i];
		if (c == '"' || c == '\\')
			n += (size_t)snprintf(esc + n, sizeof esc - n, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			esc[n++] = (char)c;
		else if (c == '\r')
			n += (size_t)snprintf(esc + n, sizeof esc - n, "\\r");
		else if (c == '\n')
			n += (size_t)snprintf(esc + n, sizeof esc - n, "\\n");
		else
			n += (size_t)snprintf(esc + n, sizeof esc - n, "\\x%02x", c);
	}
	esc[n] = '\0';
	const char *what = " ";
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		what = ": a gzip file (a pprof profile?) ";
	else if (len >= 4 && !memcmp(b, "\x7f" "ELF", 4))
		what = ": an ELF file ";
	else if (len >= 5 && !memcmp(b, "desc:", 5))
		what = ": a massif file ";
	else if (len >= 1 && (b[0] == '{' || b[0] == '['))
		what = ": JSON ";
	snprintf(out, outlen, "%s(magic \"%s\", expected \"MLPROF\\r\\n\")", what, esc);
}

static int cmp_sample(const void *a, const void *b)
{
	const struct prof_sample *x = a, *y = b;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	if (x->total != y->total)
		return x->total < y->total ? -1 : 1;
	return 0;
}

static int cmp_stack(const void *a, const void *b)
{
	const struct prof_stack *x = a, *y = b;
	return x->node < y->node ? -1 : x->node > y->node;
}

#define HDR_FIXED (8 + 4 + 4 + 8 * 5 + 4 + 4 + 2)
#define SEC_HDR 16
#define MOD_MIN (8 * 3 + 2 + 1)
#define NODE_REC (4 + 8)
#define STKS_REC (4 + 8 * ML_PROF_STKS_FIELDS)
_Static_assert(SF_N == ML_PROF_STKS_FIELDS, "report.h's SF_* figures must follow profile_format.h's STKS records");
#define TIME_REC (8 * 4)
#define PEAK_REC (8 * 4)
#define TOTL_REC (8 * 7)

/* Checks a fixed-size section's count against its bytes. */
static int fixed_size(struct rd *r, const char *name, size_t off, uint32_t count, uint64_t bytes,
                      size_t rec)
{
	if (bytes != (uint64_t)count * rec)
		return rd_fail(r, "section %s at offset %zu: %" PRIu32 " records of %zu bytes need %" PRIu64
		               " bytes, the section holds %" PRIu64, name, off, count, rec,
		               (uint64_t)count * rec, bytes);
	return 0;
}

/* What can be said of section number nsec (1: the first) from its header
 * alone: its count against its bytes and the limits of profile_format.h.
 * Checked before its payload is read: the CLI's reader stops reading where
 * this fails, and prof_parse then gives this message. */
static int sec_check(struct rd *r, size_t sec, uint32_t tag, uint32_t count, uint64_t bytes, unsigned nsec)
{
	char tn[16];
	const char *name = tag_name(tag, tn);
	if (nsec > ML_PROF_MAX_SECTIONS)
		return rd_fail(r, "more than %d sections (section %s at offset %zu is the %uth)", ML_PROF_MAX_SECTIONS,
		               name, sec, nsec);
	switch (tag) {
	case ML_PROF_TAG_END:
		if (count != 0 || bytes != 8)
			return rd_fail(r, "bad END! trailer at offset %zu (count %" PRIu32 ", %" PRIu64
			               " bytes; expected 0 and 8)", sec, count, bytes);
		return 0;
	case ML_PROF_TAG_NODE:
		if (fixed_size(r, name, sec, count, bytes, NODE_REC))
			return -1;
		if (count >= ML_PROF_MAX_NODES)
			return rd_fail(r, "section NODE at offset %zu: %" PRIu32 " nodes, more than a profile has (%u)",
			               sec, count, ML_PROF_MAX_NODES - 1);
		return 0;
	case ML_PROF_TAG_STKS:
		if (fixed_size(r, name, sec, count, bytes, STKS_REC))
			return -1;
		if (count > ML_PROF_MAX_NODES)
			return rd_fail(r, "section STKS at offset %zu: %" PRIu32 " records, more than a profile has (%u)",
			               sec, count, ML_PROF_MAX_NODES);
		return 0;
	case ML_PROF_TAG_TIME:
		if (fixed_size(r, name, sec, count, bytes, TIME_REC))
			return -1;
		if (count > ML_PROF_MAX_TIME)
			return rd_fail(r, "section TIME at offset %zu: %" PRIu32 " records, more than a profile has (%u)",
			               sec, count, ML_PROF_MAX_TIME);
		return 0;
	case ML_PROF_TAG_PEAK:
	case ML_PROF_TAG_TOTL:
		if (count != 1)
			return rd_fail(r, "section %s at offset %zu holds %" PRIu32 " records, expected 1", name, sec, count);
		return fixed_size(r, name, sec, count, bytes, tag == ML_PROF_TAG_PEAK ? PEAK_REC : TOTL_REC);
	case ML_PROF_TAG_MODS:
		if ((uint64_t)count * MOD_MIN > bytes)
			return rd_fail(r, "section MODS at offset %zu: %" PRIu32 " modules cannot fit in %" PRIu64
			               " bytes", sec, count, bytes);
		/* fall through */
	default:
		if (bytes > ML_PROF_MAX_OTHER)
			return rd_fail(r, "section %s at offset %zu: %" PRIu64 " bytes, more than a profile has (%"
			               PRIu64 ")", name, sec, bytes, ML_PROF_MAX_OTHER);
		return 0;
	}
}

struct profile *prof_parse(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct rd r = { buf, len, err, errlen };
	struct profile *p = xcalloc(1, sizeof *p);
	size_t pos = 0;
	int seen[7] = { 0 }; /* MODS NODE STKS TIME PEAK TOTL */
	size_t node_off = 0, stks_off = 0;
	unsigned nsec = 0;
	p->file_size = len;
	p->nnodes = 1;
	p->nodes = xcalloc(1, sizeof *p->nodes);

	if (len == 0) {
		rd_fail(&r, "empty file (not a memlens profile)");
		goto bad;
	}
	if (len < 8 ? memcmp(buf, ML_PROF_MAGIC, len) != 0 : memcmp(buf, ML_PROF_MAGIC, 8) != 0) {
		char m[160];
		describe_magic(buf, len, m, sizeof m);
		rd_fail(&r, "not a memlens profile%s", m);
		goto bad;
	}
	if (len < 12) {
		rd_fail(&r, "truncated at offset %zu (in the header)", len);
		goto bad;
	}
	p->version = le32(buf + 8);
	if (p->version != ML_PROF_VERSION) {
		rd_fail(&r, "unsupported version %" PRIu32 " (this memlens reads version %d)", p->version,
		        ML_PROF_VERSION);
		goto bad;
	}
	if (len < HDR_FIXED) {
		rd_fail(&r, "truncated at offset %zu (in the header)", len);
		goto bad;
	}
	p->flags = le32(buf + 12);
	p->pid = le64(buf + 16);
	p->start_ns = le64(buf + 24);
	p->end_ns = le64(buf + 32);
	p->wall_start_s = le64(buf + 40);
	p->sample_bytes = le64(buf + 48);
	p->max_depth = le32(buf + 56);
	p->reason = le32(buf + 60);
	if (p->max_depth < 1 || p->max_depth > ML_PROF_MAX_DEPTH) {
		rd_fail(&r, "the header's max_depth (at offset 56) is %" PRIu32 ", not a depth from 1 to %d",
		        p->max_depth, ML_PROF_MAX_DEPTH);
		goto bad;
	}
	size_t exe_len = le16(buf + 64);
	pos = HDR_FIXED;
	if (exe_len > len - pos) {
		rd_fail(&r, "truncated at offset %zu (in the header: the executable's path)", len);
		goto bad;
	}
	p->exe = xstrndup((const char *)buf + pos, exe_len);
	pos += exe_len;

	for (;;) {
		char tn[16];
		if (pos == len) {
			rd_fail(&r, "truncated at offset %zu (the END! trailer is missing)", len);
			goto bad;
		}
		if (len - pos < SEC_HDR) {
			rd_fail(&r, "truncated at offset %zu (in a section header)", len);
			goto bad;
		}
		size_t sec = pos;
		uint32_t tag = le32(buf + pos), count = le32(buf + pos + 4);
		uint64_t bytes = le64(buf + pos + 8);
		const char *name = tag_name(tag, tn);
		pos += SEC_HDR;
		if (sec_check(&r, sec, tag, count, bytes, ++nsec))
			goto bad;
		if (bytes > len - pos) {
			rd_fail(&r, "truncated at offset %zu (in section %s)", len, name);
			goto bad;
		}
		const uint8_t *q = buf + pos;
		int which = -1;
		switch (tag) {
		case ML_PROF_TAG_MODS: which = 0; break;
		case ML_PROF_TAG_NODE: which = 1; break;
		case ML_PROF_TAG_STKS: which = 2; break;
		case ML_PROF_TAG_TIME: which = 3; break;
		case ML_PROF_TAG_PEAK: which = 4; break;
		case ML_PROF_TAG_TOTL: which = 5; break;
		case ML_PROF_TAG_END: which = 6; break;
		}
		if (which >= 0 && seen[which]) {
			rd_fail(&r, "a second %s section at offset %zu", name, sec);
			goto bad;
		}
		if (which >= 0)
			seen[which] = 1;
		switch (tag) {
		case ML_PROF_TAG_END: {
			uint64_t said = le64(q);
			if (said != sec) {
				rd_fail(&r, "the END! trailer at offset %zu gives the file's length as %" PRIu64
				        " bytes, but it starts at offset %zu", sec, said, sec);
				goto bad;
			}
			pos += 8;
			if (pos != len) {
				rd_fail(&r, "%zu bytes of garbage after the END! trailer, at offset %zu", len - pos, pos);
				goto bad;
			}
			goto done;
		}
		case ML_PROF_TAG_MODS: {
			p->mods = xcalloc(count, sizeof *p->mods);
			size_t o = 0;
			for (uint32_t i = 0; i < count; i++) {
				struct prof_module *m = &p->mods[i];
				size_t rec = o;
				if (bytes - o < 26) {
					rd_fail(&r, "section MODS at offset %zu: module %" PRIu32
					        " (at offset %zu) runs past the section's end (offset %zu)",
					        sec, i, pos + rec, pos + (size_t)bytes);
					goto bad;
				}
				m->lo = le64(q + o);
				m->hi = le64(q + o + 8);
				m->bias = le64(q + o + 16);
				size_t pl = le16(q + o + 24);
				o += 26;
				if (bytes - o < pl + 1) {
					rd_fail(&r, "section MODS at offset %zu: module %" PRIu32
					        " (at offset %zu) runs past the section's end (offset %zu)",
					        sec, i, pos + rec, pos + (size_t)bytes);
					goto bad;
				}
				m->path = xstrndup((const char *)q + o, pl);
				p->nmods = i + 1;
				o += pl;
				m->build_id_len = q[o++];
				if (bytes - o < m->build_id_len) {
					rd_fail(&r, "section MODS at offset %zu: module %" PRIu32
					        " (at offset %zu) runs past the section's end (offset %zu)",
					        sec, i, pos + rec, pos + (size_t)bytes);
					goto bad;
				}
				memcpy(m->build_id, q + o, m->build_id_len);
				o += m->build_id_len;
				if (m->lo > m->hi) {
					rd_fail(&r, "section MODS at offset %zu: module %" PRIu32 " (at offset %zu) "
					        "ends (0x%" PRIx64 ") before it starts (0x%" PRIx64 ")",
					        sec, i, pos + rec, m->hi, m->lo);
					goto bad;
				}
			}
			if (o != bytes) {
				rd_fail(&r, "section MODS at offset %zu: %" PRIu64 " bytes left over after its %"
				        PRIu32 " modules, at offset %zu", sec, bytes - o, count, pos + o);
				goto bad;
			}
			break;
		}
		case ML_PROF_TAG_NODE:
			free(p->nodes);
			p->nodes = xcalloc((size_t)count + 1, sizeof *p->nodes);
			p->nnodes = (size_t)count + 1;
			node_off = pos;
			for (uint32_t i = 0; i < count; i++) {
				p->nodes[i + 1].parent = le32(q + (size_t)i * NODE_REC);
				p->nodes[i + 1].pc = le64(q + (size_t)i * NODE_REC + 4);
			}
			break;
		case ML_PROF_TAG_STKS:
			p->stacks = xcalloc(count, sizeof *p->stacks);
			p->nstacks = count;
			stks_off = pos;
			for (uint32_t i = 0; i < count; i++) {
				const uint8_t *s = q + (size_t)i * STKS_REC;
				p->stacks[i].node = le32(s);
				for (int k = 0; k < SF_N; k++)
					p->stacks[i].f[k] = le64(s + 4 + 8 * k);
			}
			break;
		case ML_PROF_TAG_TIME:
			p->timeline = xcalloc(count, sizeof *p->timeline);
			p->ntime = count;
			for (uint32_t i = 0; i < count; i++) {
				const uint8_t *s = q + (size_t)i * TIME_REC;
				p->timeline[i] = (struct prof_sample){ le64(s), le64(s + 8), le64(s + 16), le64(s + 24) };
			}
			break;
		case ML_PROF_TAG_PEAK:
			p->peak = (struct prof_sample){ le64(q), le64(q + 8), le64(q + 16), le64(q + 24) };
			p->has_peak = 1;
			break;
		case ML_PROF_TAG_TOTL:
			p->tot = (struct prof_totals){ le64(q), le64(q + 8), le64(q + 16), le64(q + 24),
			                               le64(q + 32), le64(q + 40), le64(q + 48) };
			p->has_totals = 1;
			break;
		default:
			break; /* a section this reader does not know: skipped */
		}
		pos += (size_t)bytes;
	}
done:
	/* The trie: parents in range, no cycles, depths. */
	for (size_t i = 1; i < p->nnodes; i++)
		if (p->nodes[i].parent >= p->nnodes) {
			rd_fail(&r, "section NODE: node %zu (at offset %zu) has parent %" PRIu32
			        ", but the last node is %zu", i, node_off + (i - 1) * NODE_REC,
			        p->nodes[i].parent, p->nnodes - 1);
			goto bad;
		}
	{
		/* depth 0 = not yet known (the root's is 0 too, but never asked) */
		uint32_t *path = xmalloc(p->nnodes * sizeof *path);
		for (size_t i = 1; i < p->nnodes; i++) {
			if (p->nodes[i].depth)
				continue;
			size_t n = 0;
			uint32_t j = (uint32_t)i;
			/* walk up to the root or a node whose depth is known */
			while (j != 0 && p->nodes[j].depth == 0) {
				if (n >= p->nnodes) {
					free(path);
					rd_fail(&r, "section NODE: the stack of node %zu (at offset %zu) loops",
					        i, node_off + (i - 1) * NODE_REC);
					goto bad;
				}
				path[n++] = j;
				p->nodes[j].depth = UINT32_MAX; /* on the current path */
				j = p->nodes[j].parent;
			}
			if (j != 0 && p->nodes[j].depth == UINT32_MAX) {
				free(path);
				rd_fail(&r, "section NODE: the stack of node %zu (at offset %zu) loops",
				        i, node_off + (i - 1) * NODE_REC);
				goto bad;
			}
			uint32_t d = j ? p->nodes[j].depth : 0;
			while (n > 0)
				p->nodes[path[--n]].depth = ++d;
			/* a stack is at most max_depth frames: deeper ones would
			 * multiply the output without bound */
			if (d > p->max_depth) {
				free(path);
				rd_fail(&r, "section NODE: the stack of node %zu (at offset %zu) is %" PRIu32
				        " frames deep, more than the header's max_depth (%" PRIu32 ")", i,
				        node_off + (i - 1) * NODE_REC, d, p->max_depth);
				goto bad;
			}
		}
		free(path);
	}
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].node >= p->nnodes) {
			rd_fail(&r, "section STKS: record %zu (at offset %zu) names node %" PRIu32
			        ", but the last node is %zu", i, stks_off + i * STKS_REC, p->stacks[i].node,
			        p->nnodes - 1);
			goto bad;
		}
	/* One record per node: duplicates are summed, except the largest
	 * request, their largest.  (The runtime writes one record per node; a
	 * node split over records is read as parts that add up: the sum of the
	 * parts' maxima live bounds the whole's, and stays at least its live
	 * and peak figures, which add up too.) */
	if (p->nstacks > 1) {
		qsort(p->stacks, p->nstacks, sizeof *p->stacks, cmp_stack);
		size_t w = 0;
		for (size_t i = 0; i < p->nstacks; i++) {
			if (w > 0 && p->stacks[w - 1].node == p->stacks[i].node) {
				struct prof_stack *d = &p->stacks[w - 1];
				for (int k = 0; k < SF_N; k++)
					if (k == SF_MAX_BYTES)
						d->f[k] = d->f[k] > p->stacks[i].f[k] ? d->f[k] : p->stacks[i].f[k];
					else
						d->f[k] += p->stacks[i].f[k];
			} else {
				p->stacks[w++] = p->stacks[i];
			}
		}
		p->nstacks = w;
	}
	if (p->ntime > 1)
		qsort(p->timeline, p->ntime, sizeof *p->timeline, cmp_sample);
	if (!p->has_totals) {
		for (size_t i = 0; i < p->nstacks; i++) {
			const uint64_t *f = p->stacks[i].f;
			p->tot.allocs += f[SF_ALLOCS];
			p->tot.bytes_total += f[SF_BYTES_TOTAL];
			p->tot.temp_allocs += f[SF_TEMP_ALLOCS];
			p->tot.live_blocks += f[SF_LIVE_BLOCKS];
			p->tot.live_bytes += f[SF_LIVE_BYTES];
		}
		p->tot.frees = p->tot.allocs - p->tot.live_blocks;
	}
	if (!p->has_peak) {
		for (size_t i = 0; i < p->ntime; i++)
			if (p->timeline[i].live_bytes > p->peak.live_bytes)
				p->peak = p->timeline[i];
	}
	return p;
bad:
	prof_free(p);
	return NULL;
}

void prof_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nmods; i++)
		free(p->mods[i].path);
	free(p->mods);
	free(p->nodes);
	free(p->stacks);
	free(p->timeline);
	free(p->exe);
	free(p);
}

/* ==== symbolization ======================================================== */

/* Interned strings: one copy each, compared by pointer. */
struct strpool {
	char **slots;
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static const char *intern(struct strpool *sp, const char *s)
{
	if (!s)
		return NULL;
	if (sp->n * 2 >= sp->cap) {
		size_t ncap = sp->cap ? sp->cap * 2 : 256;
		char **ns = xcalloc(ncap, sizeof *ns);
		for (size_t i = 0; i < sp->cap; i++)
			if (sp->slots[i]) {
				size_t j = hash_str(sp->slots[i]) & (ncap - 1);
				while (ns[j])
					j = (j + 1) & (ncap - 1);
				ns[j] = sp->slots[i];
			}
		free(sp->slots);
		sp->slots = ns;
		sp->cap = ncap;
	}
	size_t j = hash_str(s) & (sp->cap - 1);
	while (sp->slots[j]) {
		if (!strcmp(sp->slots[j], s))
			return sp->slots[j];
		j = (j + 1) & (sp->cap - 1);
	}
	sp->slots[j] = xstrndup(s, strlen(s));
	sp->n++;
	return sp->slots[j];
}

struct symmod {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	int state; /* 0 not tried, 1 ok, -1 unusable */
};

struct symbolizer {
	const struct profile *p;
	struct symmod *mods;
	uint32_t *order;        /* module indexes by lo */
	struct sym_pc **slots;  /* pc -> symbolization, open addressing */
	size_t cap, n;
	struct strpool strings;
	char *debuginfo_path;
	char **debug_dirs;      /* for build-id lookups of our own */
	Dwfl_Callbacks cb;
	char *(*demangle)(const char *, char *, size_t *, int *);
	void *libstdcxx;
	int quiet, full_names;
};

static int cmp_mod_lo(const void *a, const void *b, void *arg)
{
	const struct prof_module *m = arg;
	uint64_t x = m[*(const uint32_t *)a].lo, y = m[*(const uint32_t *)b].lo;
	return x < y ? -1 : x > y;
}

struct symbolizer *sym_new(const struct profile *p, const char *const *debug_dirs, int flags)
{
	struct symbolizer *s = xcalloc(1, sizeof *s);
	s->p = p;
	s->quiet = !!(flags & SYM_QUIET);
	s->full_names = !!(flags & SYM_FULL_NAMES);
	s->mods = xcalloc(p->nmods, sizeof *s->mods);
	s->order = xmalloc(p->nmods * sizeof *s->order);
	for (size_t i = 0; i < p->nmods; i++)
		s->order[i] = (uint32_t)i;
	qsort_r(s->order, p->nmods, sizeof *s->order, cmp_mod_lo, p->mods);

	/* libdw's standard search: the file's directory, its .debug/, then
	 * /usr/lib/debug (debuglinks and .build-id/xx/yyyy.debug); the user's
	 * directories come first. */
	size_t nd = 0, plen = 64;
	for (; debug_dirs && debug_dirs[nd]; nd++)
		plen += strlen(debug_dirs[nd]) + 1;
	s->debug_dirs = xcalloc(nd + 2, sizeof *s->debug_dirs);
	s->debuginfo_path = xmalloc(plen);
	strcpy(s->debuginfo_path, ":.debug");
	for (size_t i = 0; i < nd; i++) {
		strcat(s->debuginfo_path, ":");
		strcat(s->debuginfo_path, debug_dirs[i]);
		s->debug_dirs[i] = xstrndup(debug_dirs[i], strlen(debug_dirs[i]));
	}
	strcat(s->debuginfo_path, ":/usr/lib/debug");
	s->debug_dirs[nd] = xstrndup("/usr/lib/debug", 14);
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;

	/* C++ names: libstdc++'s demangler when it is there. */
	s->libstdcxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	if (s->libstdcxx)
		*(void **)&s->demangle = dlsym(s->libstdcxx, "__cxa_demangle");
	return s;
}

void sym_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->p->nmods; i++)
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i]) {
			free(s->slots[i]->frames);
			free(s->slots[i]);
		}
	for (size_t i = 0; i < s->strings.cap; i++)
		free(s->strings.slots[i]);
	free(s->strings.slots);
	for (size_t i = 0; s->debug_dirs[i]; i++)
		free(s->debug_dirs[i]);
	free(s->debug_dirs);
	free(s->debuginfo_path);
	free(s->slots);
	free(s->order);
	free(s->mods);
	if (s->libstdcxx)
		dlclose(s->libstdcxx);
	free(s);
}

static void sym_warn(struct symbolizer *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sym_warn(struct symbolizer *s, const char *fmt, ...)
{
	if (s->quiet)
		return;
	va_list ap;
	fputs("memlens report: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void hex_id(const uint8_t *id, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
	out[2 * n] = '\0';
}

/* Reports FILE as module m at its bias; NULL if libdw cannot use it. */
static Dwfl_Module *report_file(struct symbolizer *s, struct symmod *sm, const struct prof_module *m,
                                const char *file)
{
	if (sm->dwfl)
		dwfl_end(sm->dwfl);
	sm->dwfl = dwfl_begin(&s->cb);
	if (!sm->dwfl)
		return NULL;
	dwfl_report_begin(sm->dwfl);
	/* ET_DYN with add_p_vaddr: BASE is the load bias; ET_EXEC ignores it */
	Dwfl_Module *mod = dwfl_report_elf(sm->dwfl, base_name(m->path), file, -1, m->bias, true);
	dwfl_report_end(sm->dwfl, NULL, NULL);
	return mod;
}

/* The separate debug file of a build-id in the debug directories. */
static char *find_by_build_id(struct symbolizer *s, const struct prof_module *m)
{
	if (m->build_id_len < 2)
		return NULL;
	char hex[2 * 255 + 1];
	hex_id(m->build_id, m->build_id_len, hex);
	for (size_t i = 0; s->debug_dirs[i]; i++) {
		size_t n = strlen(s->debug_dirs[i]) + strlen(hex) + 32;
		char *path = xmalloc(n);
		snprintf(path, n, "%s/.build-id/%.2s/%s.debug", s->debug_dirs[i], hex, hex + 2);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

static int open_module(struct symbolizer *s, int mi)
{
	struct symmod *sm = &s->mods[mi];
	if (sm->state)
		return sm->state > 0;
	sm->state = -1;
	const struct prof_module *m = &s->p->mods[mi];
	if (!m->path[0] || m->path[0] == '[' || !strcmp(m->path, "linux-vdso.so.1"))
		return 0; /* vdso and friends: no file */
	Dwfl_Module *mod = NULL;
	char why[1024] = "", path[512];
	text_esc(m->path, path, sizeof path, ESC_TEXT);
	struct stat st;
	if (access(m->path, R_OK) != 0 || stat(m->path, &st) != 0) {
		snprintf(why, sizeof why, "cannot read %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof why, "%s is not a regular file", path);
	} else {
		mod = report_file(s, sm, m, m->path);
		if (!mod) {
			snprintf(why, sizeof why, "cannot use %s: %s", path, dwfl_errmsg(-1));
		} else if (m->build_id_len) {
			const unsigned char *bits;
			GElf_Addr vaddr;
			int n = dwfl_module_build_id(mod, &bits, &vaddr);
			if (n != (int)m->build_id_len || memcmp(bits, m->build_id, m->build_id_len)) {
				snprintf(why, sizeof why, "%s is not the file that ran (its build-id differs)", path);
				mod = NULL;
			}
		}
	}
	if (!mod) {
		/* the file is gone or changed: the debug file of the build-id
		 * that ran has the same addresses and the symbols */
		char *dbg = find_by_build_id(s, m);
		if (dbg) {
			mod = report_file(s, sm, m, dbg);
			free(dbg);
		}
	}
	if (!mod) {
		if (sm->dwfl)
			dwfl_end(sm->dwfl);
		sm->dwfl = NULL;
		sym_warn(s, "%s; its frames stay unsymbolized", why[0] ? why : path);
		return 0;
	}
	sm->mod = mod;
	sm->state = 1;
	return 1;
}

int sym_module_ok(struct symbolizer *s, int m)
{
	return m >= 0 && (size_t)m < s->p->nmods && s->mods[m].state > 0;
}

static int module_of(struct symbolizer *s, uint64_t pc)
{
	size_t lo = 0, hi = s->p->nmods;
	while (lo < hi) { /* first module with lo > pc */
		size_t mid = (lo + hi) / 2;
		if (s->p->mods[s->order[mid]].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* modules should not overlap; if they do, look a little further */
	for (size_t k = lo, tries = 0; k > 0 && tries < 16; k--, tries++) {
		const struct prof_module *m = &s->p->mods[s->order[k - 1]];
		if (pc >= m->lo && pc < m->hi)
			return (int)s->order[k - 1];
	}
	return -1;
}

static const char *attr_str(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;
	return dwarf_formstring(dwarf_attr_integrate(die, name, &a));
}

/* The operator after "operator" whose characters include < or >. */
static size_t angle_operator(const char *s)
{
	static const char *const ops[] = { "<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=", "->", "<", ">" };
	for (size_t i = 0; i < NELEMS(ops); i++)
		if (!strncmp(s, ops[i], strlen(ops[i])))
			return strlen(ops[i]);
	return 0;
}

static int is_operator_at(const char *name, size_t i)
{
	return !strncmp(name + i, "operator", 8) && (i == 0 || name[i - 1] == ':' || name[i - 1] == ' ')
	       && !(name[i + 8] == '_' || (name[i + 8] >= 'a' && name[i + 8] <= 'z')
	            || (name[i + 8] >= 'A' && name[i + 8] <= 'Z') || (name[i + 8] >= '0' && name[i + 8] <= '9'));
}

void short_name(const char *name, char *out, size_t len)
{
	/* template arguments -> <...>; an operator's own < and > are kept */
	size_t n = 0, i = 0;
	char *t = xmalloc(strlen(name) + 1);
	while (name[i]) {
		if (is_operator_at(name, i)) {
			size_t k = 8 + angle_operator(name + i + 8);
			memcpy(t + n, name + i, k);
			n += k;
			i += k;
		} else if (name[i] == '<') {
			int depth = 0, paren = 0;
			size_t j = i;
			for (; name[j]; j++) {
				if (name[j] == '(')
					paren++;
				else if (name[j] == ')' && paren > 0)
					paren--;
				else if (!paren && name[j] == '<')
					depth++;
				else if (!paren && name[j] == '>' && --depth == 0)
					break;
			}
			if (!name[j]) { /* unbalanced: keep the rest as it is */
				size_t k = strlen(name + i);
				memcpy(t + n, name + i, k);
				n += k;
				break;
			}
			memcpy(t + n, "<...>", 5);
			n += 5;
			i = j + 1;
		} else {
			t[n++] = name[i++];
		}
	}
	t[n] = '\0';
	/* a template function's return type: what comes before the last
	 * space at the top level that precedes its parameter list (and any
	 * "operator") */
	size_t params = n, depth = 0, space = 0;
	int has_space = 0;
	for (size_t k = 0; k < n; k++) {
		char c = t[k];
		if (c == '(' || c == '[' || c == '{') {
			if (depth++ == 0 && c == '(')
				params = k;
		} else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	depth = 0;
	for (size_t k = 0; k < params; k++) {
		char c = t[k];
		if (c == '(' || c == '[' || c == '{')
			depth++;
		else if ((c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (!depth && is_operator_at(t, k))
			break;
		else if (!depth && c == ' ')
			space = k, has_space = 1;
	}
	snprintf(out, len, "%s", has_space ? t + space + 1 : t);
	free(t);
}

/* A name for display: demangled when it is a C++ symbol and we can, and
 * shortened unless full names were asked for. */
static const char *nice_name(struct symbolizer *s, const char *name)
{
	if (!name)
		return NULL;
	char *d = NULL;
	if (s->demangle && name[0] == '_' && name[1] == 'Z') {
		int st = 0;
		d = s->demangle(name, NULL, NULL, &st);
		if (d && st != 0) {
			free(d);
			d = NULL;
		}
	}
	const char *r;
	if (s->full_names) {
		r = intern(&s->strings, d ? d : name);
	} else {
		const char *full = d ? d : name;
		size_t l = strlen(full) + 1;
		char *sh = xmalloc(l);
		short_name(full, sh, l);
		r = intern(&s->strings, sh);
		free(sh);
	}
	free(d);
	return r;
}

static void die_names(struct symbolizer *s, Dwarf_Die *die, struct sym_frame *f)
{
	const char *link = attr_str(die, DW_AT_linkage_name);
	if (!link)
		link = attr_str(die, DW_AT_MIPS_linkage_name);
	const char *name = attr_str(die, DW_AT_name);
	if (link && s->demangle && link[0] == '_' && link[1] == 'Z')
		f->func = nice_name(s, link);
	else
		f->func = nice_name(s, name ? name : link);
	f->sysname = link ? intern(&s->strings, link) : f->func;
	int dl = 0;
	if (dwarf_decl_line(die, &dl) == 0 && dl > 0)
		f->start_line = (unsigned)dl;
}

static void add_frame(struct sym_pc *sp, unsigned *cap, const struct sym_frame *f)
{
	if (sp->nframes == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		sp->frames = xrealloc(sp->frames, *cap * sizeof *sp->frames);
	}
	sp->frames[sp->nframes++] = *f;
}

/* Fills sp's frames from module mod: the DWARF scopes at the address give
 * the function and the functions inlined into it; the line table the
 * innermost file:line, and each inlined call its call site. */
static void symbolize_in(struct symbolizer *s, Dwfl_Module *mod, struct sym_pc *sp)
{
	unsigned cap = 0;
	/* A return address: its call is the instruction before it. */
	Dwarf_Addr a = sp->pc ? sp->pc - 1 : 0;
	const char *file = NULL;
	unsigned line = 0;
	Dwfl_Line *ln = dwfl_module_getsrc(mod, a);
	if (ln) {
		int l = 0;
		const char *f = dwfl_lineinfo(ln, NULL, &l, NULL, NULL, NULL);
		if (f && l > 0) {
			file = intern(&s->strings, f);
			line = (unsigned)l;
		}
	}
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, a, &bias);
	if (cu) {
		Dwarf_Die *scopes = NULL;
		int n = dwarf_getscopes(cu, a - bias, &scopes);
		/* Past the innermost inlined instance dwarf_getscopes continues
		 * with the scopes around its abstract definition (a class, a
		 * namespace), not with the function it was inlined into: the
		 * concrete chain is the scopes around the innermost DIE. */
		if (n > 0) {
			Dwarf_Die inner = scopes[0];
			free(scopes);
			scopes = NULL;
			n = dwarf_getscopes_die(&inner, &scopes);
		}
		Dwarf_Files *files = NULL;
		size_t nfiles = 0;
		if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
			files = NULL;
		for (int i = 0; i < n; i++) {
			int tag = dwarf_tag(&scopes[i]);
			if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
				continue;
			struct sym_frame f = { 0 };
			die_names(s, &scopes[i], &f);
			if (!f.func)
				f.func = intern(&s->strings, "???");
			f.file = file;
			f.line = line;
			f.inlined = tag == DW_TAG_inlined_subroutine;
			add_frame(sp, &cap, &f);
			if (tag == DW_TAG_subprogram)
				break;
			/* the next frame is where this one was inlined */
			Dwarf_Attribute at;
			Dwarf_Word v;
			file = NULL;
			line = 0;
			if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &at), &v) == 0
			    && v < nfiles) {
				const char *cf = dwarf_filesrc(files, v, NULL, NULL);
				file = intern(&s->strings, cf);
			}
			if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &at), &v) == 0)
				line = (unsigned)v;
		}
		free(scopes);
	}
	if (sp->nframes > 0 && sp->frames[sp->nframes - 1].inlined) {
		/* inlined scopes but no enclosing subprogram: name the rest from
		 * the symbol table */
		const char *sym = dwfl_module_addrname(mod, a);
		struct sym_frame f = { 0 };
		f.func = nice_name(s, sym ? sym : "???");
		f.sysname = intern(&s->strings, sym ? sym : "???");
		f.file = file;
		f.line = line;
		add_frame(sp, &cap, &f);
	}
	if (sp->nframes == 0) {
		const char *sym = dwfl_module_addrname(mod, a);
		if (sym) {
			struct sym_frame f = { 0 };
			f.func = nice_name(s, sym);
			f.sysname = intern(&s->strings, sym);
			f.file = file;
			f.line = line;
			add_frame(sp, &cap, &f);
		}
	}
}

const struct sym_pc *sym_lookup(struct symbolizer *s, uint64_t pc)
{
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		struct sym_pc **ns = xcalloc(ncap, sizeof *ns);
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i]) {
				size_t j = (s->slots[i]->pc * 0x9E3779B97F4A7C15ULL >> 20) & (ncap - 1);
				while (ns[j])
					j = (j + 1) & (ncap - 1);
				ns[j] = s->slots[i];
			}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	size_t j = (pc * 0x9E3779B97F4A7C15ULL >> 20) & (s->cap - 1);
	while (s->slots[j]) {
		if (s->slots[j]->pc == pc)
			return s->slots[j];
		j = (j + 1) & (s->cap - 1);
	}
	struct sym_pc *sp = xcalloc(1, sizeof *sp);
	sp->pc = pc;
	sp->mod = module_of(s, pc);
	sp->off = pc;
	if (sp->mod >= 0) {
		sp->off = pc - s->p->mods[sp->mod].bias;
		if (open_module(s, sp->mod))
			symbolize_in(s, s->mods[sp->mod].mod, sp);
	}
	if (sp->nframes == 0) {
		sp->frames = xcalloc(1, sizeof *sp->frames);
		sp->nframes = 1;
	}
	s->slots[j] = sp;
	s->n++;
	return sp;
}

/* ==== helpers shared by the formats ======================================== */

size_t report_frames(struct report *r, uint32_t node, const struct xframe **out)
{
	size_t n = 0;
	for (uint32_t j = node; j != 0 && n < REPORT_MAX_FRAMES; j = r->p->nodes[j].parent) {
		const struct sym_pc *sp = sym_lookup(r->sym, r->p->nodes[j].pc);
		for (unsigned k = 0; k < sp->nframes && n < REPORT_MAX_FRAMES; k++) {
			if (n == r->bufcap) {
				r->bufcap = r->bufcap ? r->bufcap * 2 : 64;
				r->buf = xrealloc(r->buf, r->bufcap * sizeof *r->buf);
			}
			r->buf[n++] = (struct xframe){ sp, k };
		}
	}
	*out = r->buf;
	return n;
}

uint64_t stack_weight(const struct prof_stack *s, enum report_weight w)
{
	switch (w) {
	case RW_PEAK: return s->f[SF_PEAK_BYTES];
	case RW_CHURN: return s->f[SF_BYTES_TOTAL];
	case RW_LEAKS: return s->f[SF_LIVE_BYTES];
	case RW_TEMP: return s->f[SF_TEMP_ALLOCS];
	}
	return 0;
}

const char *weight_name(enum report_weight w)
{
	static const char *const names[] = { "peak", "churn", "leaks", "temp" };
	return (unsigned)w < NELEMS(names) ? names[w] : "?";
}

/* The length of the well-formed UTF-8 sequence of 2 to 4 bytes at p, else 0. */
static int utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
	uint32_t cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A C1 control (U+0080-U+009F) in UTF-8. */
static int is_c1(const unsigned char *p)
{
	return p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0;
}

const char *text_esc(const char *s, char *out, size_t len, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	if (!len)
		return out;
	while (*p) {
		char e[8];
		size_t k;
		unsigned c = *p;
		int u = c >= 0x80 ? utf8_len(p) : 0;
		if (c == '\\')
			k = (size_t)snprintf(e, sizeof e, "\\\\");
		else if (c == '\n')
			k = (size_t)snprintf(e, sizeof e, "\\n");
		else if (c == '\r')
			k = (size_t)snprintf(e, sizeof e, "\\r");
		else if (c == '\t')
			k = (size_t)snprintf(e, sizeof e, "\\t");
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && (!u || is_c1(p))) || (c == ';' && (flags & ESC_FOLDED)))
			k = (size_t)snprintf(e, sizeof e, "\\x%02x", c); /* a C1 control: its bytes one by one */
		else
			k = 0;
		size_t m = k ? k : u ? (size_t)u : 1;
		if (n + m >= len)
			break;
		memcpy(out + n, k ? (const unsigned char *)e : p, m);
		n += m;
		p += k ? 1 : m;
	}
	out[n] = '\0';
	return out;
}

void frame_where(struct report *r, const struct sym_pc *sp, char *buf, size_t len, int flags)
{
	char mod[512];
	if (sp->mod >= 0)
		snprintf(buf, len, "%s+0x%" PRIx64, text_esc(base_name(r->p->mods[sp->mod].path), mod, sizeof mod, flags),
		         sp->off);
	else
		snprintf(buf, len, "0x%" PRIx64, sp->pc);
}

void frame_func(struct report *r, const struct xframe *x, char *buf, size_t len)
{
	const struct sym_frame *f = &x->sp->frames[x->idx];
	char e[512];
	if (f->func) {
		text_esc(f->func, buf, len, ESC_TEXT);
	} else if (x->sp->mod >= 0) {
		snprintf(buf, len, "0x%" PRIx64 " (%s+0x%" PRIx64 ")", x->sp->pc,
		         text_esc(base_name(r->p->mods[x->sp->mod].path), e, sizeof e, ESC_TEXT), x->sp->off);
	} else {
		snprintf(buf, len, "0x%" PRIx64 " (no module)", x->sp->pc);
	}
}

void frame_label_vg(struct report *r, const struct xframe *x, char *buf, size_t len)
{
	const struct sym_frame *f = &x->sp->frames[x->idx];
	const char *mod = x->sp->mod >= 0 ? r->p->mods[x->sp->mod].path : NULL;
	char fn[1024], e[1024];
	text_esc(f->func ? f->func : "???", fn, sizeof fn, ESC_TEXT);
	if (f->func && f->file)
		snprintf(buf, len, "0x%" PRIX64 ": %s (%s:%u)", x->sp->pc, fn, text_esc(base_name(f->file), e, sizeof e,
		         ESC_TEXT), f->line);
	else if (mod && mod[0])
		snprintf(buf, len, "0x%" PRIX64 ": %s (in %s)", x->sp->pc, fn, text_esc(mod, e, sizeof e, ESC_TEXT));
	else
		snprintf(buf, len, "0x%" PRIX64 ": %s", x->sp->pc, fn);
}

void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	putc('"', f);
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			putc('\\', f);
			putc((int)c, f);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			putc((int)c, f);
			p++;
		} else {
			/* a well-formed UTF-8 sequence is copied, a C1 control
			 * escaped, anything else is U+FFFD */
			int n = utf8_len(p);
			if (n && is_c1(p)) {
				fprintf(f, "\\u%04x", p[1]);
				p += 2;
			} else if (n) {
				fwrite(p, 1, (size_t)n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);
				p++;
			}
		}
	}
	putc('"', f);
}

/* ==== the text report ====================================================== */

static void fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", b);
		return;
	}
	double v = (double)b / 1024;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
}

/* A mean lifetime, in allocations: "12 allocations", "1 allocation",
 * "0.5 allocations" (one decimal below 10, when it is not whole). */
static void fmt_allocs(double v, char *buf, size_t len)
{
	char n[64];
	snprintf(n, sizeof n, "%.1f", v);
	size_t l = strlen(n);
	if (v >= 10 || (l >= 2 && !strcmp(n + l - 2, ".0")))
		snprintf(n, sizeof n, "%.0f", v);
	snprintf(buf, len, "%s allocation%s", n, strcmp(n, "1") ? "s" : "");
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_stack(struct report *r, FILE *out, uint32_t node)
{
	const struct xframe *xf;
	size_t n = report_frames(r, node, &xf);
	char name[1024], where[600], file[512];
	if (n == 0)
		fprintf(out, "      (no stack)\n");
	for (size_t i = 0; i < n; i++) {
		const struct sym_frame *f = &xf[i].sp->frames[xf[i].idx];
		const char *lead = i == 0 ? "at" : "by";
		if (!f->func) {
			frame_func(r, &xf[i], name, sizeof name);
			fprintf(out, "      %s %s\n", lead, name);
			continue;
		}
		if (f->file)
			snprintf(where, sizeof where, "%s:%u", text_esc(base_name(f->file), file, sizeof file, ESC_TEXT),
			         f->line);
		else
			frame_where(r, xf[i].sp, where, sizeof where, ESC_TEXT);
		fprintf(out, "      %s 0x%" PRIx64 ": %s (%s)%s\n", lead, xf[i].sp->pc,
		        text_esc(f->func, name, sizeof name, ESC_TEXT), where, f->inlined ? " [inlined]" : "");
	}
	if (r->p->nodes[node].depth > 0 && n == REPORT_MAX_FRAMES)
		fprintf(out, "      ... (more frames not shown)\n");
}

struct ranked {
	uint64_t key;
	size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Stacks with a nonzero figure k, largest first. */
static size_t rank(struct report *r, int k, struct ranked *out)
{
	size_t n = 0;
	for (size_t i = 0; i < r->p->nstacks; i++)
		if (r->p->stacks[i].f[k])
			out[n++] = (struct ranked){ r->p->stacks[i].f[k], i };
	qsort(out, n, sizeof *out, cmp_ranked);
	return n;
}

#define PL(n) ((n) == 1 ? "" : "s")

static void more_line(FILE *out, size_t shown, size_t n, const struct ranked *rk, const char *unit)
{
	if (n <= shown)
		return;
	uint64_t rest = 0;
	for (size_t i = shown; i < n; i++)
		rest += rk[i].key;
	fprintf(out, "  ... and %zu more stack%s (%" PRIu64 " %s)\n", n - shown, PL(n - shown), rest, unit);
}

int report_text(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	const struct prof_totals *t = &p->tot;
	char b1[64], b2[64], b3[64];
	static const char *const reasons[] = { "at exit", "on a fatal signal", "as a snapshot", "at exec" };
	/* What is live when the file was written is leaked only at exit; a
	 * snapshot's (or a crash's, an exec's) blocks are simply live then. */
	static const char *const live_label[] = { "leaked at exit", "live at signal", "live at snapshot", "live at exec" };
	static const char *const live_when[] = { "at exit", "at the fatal signal", "at the snapshot", "at the exec" };
	int at_exit = p->reason == 0 || p->reason >= NELEMS(live_label);
	unsigned lw = at_exit ? 0 : p->reason;

	char exe[1024];
	fprintf(out, "memlens heap profile of %s (pid %" PRIu64 ")\n",
	        p->exe[0] ? text_esc(p->exe, exe, sizeof exe, ESC_TEXT) : "?", p->pid);
	fmt_ns(p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0, b1, sizeof b1);
	if (p->reason < NELEMS(reasons))
		fprintf(out, "  %s recorded, written %s\n", b1, reasons[p->reason]);
	else
		fprintf(out, "  %s recorded, written for reason %" PRIu32 "\n", b1, p->reason);
	if (p->sample_bytes)
		fprintf(out, "  sampled: one sample per %" PRIu64 " bytes on average, %" PRIu64
		        " samples; the figures are scaled estimates\n", p->sample_bytes, t->samples);
	else
		fprintf(out, "  every allocation recorded\n");

	fprintf(out, "\nSummary\n");
	fmt_bytes(t->bytes_total, b1, sizeof b1);
	fprintf(out, "  allocations      %" PRIu64 " (%" PRIu64 " bytes requested, %s); %" PRIu64 " free%s\n",
	        t->allocs, t->bytes_total, b1, t->frees, PL(t->frees));
	fmt_bytes(p->peak.live_bytes, b1, sizeof b1);
	fmt_ns(p->peak.t_ns, b2, sizeof b2);
	if (p->has_peak || p->ntime)
		fprintf(out, "  peak heap        %" PRIu64 " bytes (%s) in %" PRIu64 " block%s at %s"
		        " (after %" PRIu64 " bytes allocated)\n",
		        p->peak.live_bytes, b1, p->peak.live_blocks, PL(p->peak.live_blocks), b2, p->peak.total);
	else
		fprintf(out, "  peak heap        unknown (no PEAK section)\n");
	fmt_bytes(t->live_bytes, b1, sizeof b1);
	fprintf(out, "  %-17s%" PRIu64 " bytes (%s) in %" PRIu64 " block%s\n", live_label[lw], t->live_bytes, b1,
	        t->live_blocks, PL(t->live_blocks));
	fprintf(out, "  temporary        %" PRIu64 " allocations (%.1f%% of all)\n", t->temp_allocs,
	        pct(t->temp_allocs, t->allocs));

	struct ranked *rk = xmalloc(p->nstacks * sizeof *rk);
	unsigned top = r->o->top;
	size_t n, shown;

	/* peak */
	uint64_t peak_sum = 0;
	for (size_t i = 0; i < p->nstacks; i++)
		peak_sum += p->stacks[i].f[SF_PEAK_BYTES];
	n = rank(r, SF_PEAK_BYTES, rk);
	fprintf(out, "\nPeak: top stacks by bytes live at the peak (%" PRIu64 " bytes)\n", p->peak.live_bytes);
	if (n == 0)
		fprintf(out, "  (none)\n");
	for (shown = 0; shown < n && shown < top; shown++) {
		const uint64_t *f = p->stacks[rk[shown].i].f;
		/* its own maxima: bytes and blocks each at its own moment */
		fprintf(out, "  #%zu  %" PRIu64 " bytes in %" PRIu64 " block%s at the peak (%.1f%%), at most %" PRIu64
		        " bytes and %" PRIu64 " block%s live; %" PRIu64 " allocation%s, %" PRIu64 " bytes in all\n",
		        shown + 1, f[SF_PEAK_BYTES], f[SF_PEAK_BLOCKS], PL(f[SF_PEAK_BLOCKS]),
		        pct(f[SF_PEAK_BYTES], p->peak.live_bytes ? p->peak.live_bytes : peak_sum),
		        f[SF_MAX_LIVE_BYTES], f[SF_MAX_LIVE_BLOCKS], PL(f[SF_MAX_LIVE_BLOCKS]),
		        f[SF_ALLOCS], PL(f[SF_ALLOCS]), f[SF_BYTES_TOTAL]);
		print_stack(r, out, p->stacks[rk[shown].i].node);
	}
	more_line(out, shown, n, rk, "bytes");

	/* churn */
	n = rank(r, SF_BYTES_TOTAL, rk);
	fprintf(out, "\nChurn: top stacks by bytes allocated (%" PRIu64 " bytes in %" PRIu64 " allocations)\n",
	        t->bytes_total, t->allocs);
	if (n == 0)
		fprintf(out, "  (none)\n");
	for (shown = 0; shown < n && shown < top; shown++) {
		const uint64_t *f = p->stacks[rk[shown].i].f;
		uint64_t freed = f[SF_ALLOCS] > f[SF_LIVE_BLOCKS] ? f[SF_ALLOCS] - f[SF_LIVE_BLOCKS] : 0;
		fprintf(out, "  #%zu  %" PRIu64 " bytes in %" PRIu64 " allocation%s (%.1f%%); largest %" PRIu64
		        " bytes", shown + 1, f[SF_BYTES_TOTAL], f[SF_ALLOCS], PL(f[SF_ALLOCS]),
		        pct(f[SF_BYTES_TOTAL], t->bytes_total), f[SF_MAX_BYTES]);
		if (freed) {
			fmt_allocs((double)f[SF_LIFETIME] / (double)freed, b3, sizeof b3);
			fprintf(out, ", mean lifetime %s", b3);
		}
		fputc('\n', out);
		print_stack(r, out, p->stacks[rk[shown].i].node);
	}
	more_line(out, shown, n, rk, "bytes");

	/* temporary */
	n = rank(r, SF_TEMP_ALLOCS, rk);
	fprintf(out, "\nTemporary: top stacks by temporary allocations (%" PRIu64 ")\n", t->temp_allocs);
	if (n == 0)
		fprintf(out, "  (none)\n");
	for (shown = 0; shown < n && shown < top; shown++) {
		const uint64_t *f = p->stacks[rk[shown].i].f;
		fprintf(out, "  #%zu  %" PRIu64 " temporary allocation%s (%.1f%% of its %" PRIu64 "), %" PRIu64
		        " bytes\n", shown + 1, f[SF_TEMP_ALLOCS], PL(f[SF_TEMP_ALLOCS]),
		        pct(f[SF_TEMP_ALLOCS], f[SF_ALLOCS]), f[SF_ALLOCS], f[SF_TEMP_BYTES]);
		print_stack(r, out, p->stacks[rk[shown].i].node);
	}
	more_line(out, shown, n, rk, "allocations");

	/* leaks */
	n = rank(r, SF_LIVE_BYTES, rk);
	fprintf(out, "\n%s: stacks with blocks live %s (%" PRIu64 " bytes in %" PRIu64 " blocks)\n",
	        at_exit ? "Leaks" : "Live", live_when[lw], t->live_bytes, t->live_blocks);
	if (n == 0)
		fprintf(out, "  (none)\n");
	for (shown = 0; shown < n && shown < top; shown++) {
		const uint64_t *f = p->stacks[rk[shown].i].f;
		fprintf(out, "  #%zu  %" PRIu64 " bytes %s in %" PRIu64 " block%s (%.1f%%); %" PRIu64
		        " allocation%s\n", shown + 1, f[SF_LIVE_BYTES], at_exit ? "leaked" : "live", f[SF_LIVE_BLOCKS],
		        PL(f[SF_LIVE_BLOCKS]),
		        pct(f[SF_LIVE_BYTES], t->live_bytes), f[SF_ALLOCS], PL(f[SF_ALLOCS]));
		print_stack(r, out, p->stacks[rk[shown].i].node);
	}
	more_line(out, shown, n, rk, "bytes");
	free(rk);
	return 0;
}

/* ==== the subcommand ======================================================= */

static const char report_usage[] =
"Usage: memlens report FILE [--format FORMAT] [-o OUT] [--weight WEIGHT]\n"
"                           [--top N] [--debug-dir DIR] [--full-names]\n"
"\n"
"Reads a heap profile written by `memlens run --profile' and symbolizes its\n"
"stacks (function, file:line, inlined frames) from the modules it names, or\n"
"their separate debug files (/usr/lib/debug/.build-id/..., debuglinks).\n"
"\n"
"  --format FORMAT  text (default): summary and the top stacks by peak live\n"
"                   bytes, by churn, by temporary allocations, and leaks;\n"
"                   massif: valgrind's massif format (ms_print FILE);\n"
"                   dhat: DHAT's JSON (valgrind's dh_view.html opens it);\n"
"                   pprof: gzip'd profile.proto (go tool pprof FILE);\n"
"                   folded: \"main;f;g 1234\" lines for flame graphs;\n"
"                   json: everything, for scripts\n"
"  -o, --output OUT write to OUT instead of standard output\n"
"  --weight WEIGHT  what the folded stacks (and pprof's default sample) weigh:\n"
"                   peak (bytes live at the peak, default), churn (bytes\n"
"                   allocated), leaks (bytes live at exit, or when written), temp (number of\n"
"                   temporary allocations)\n"
"  --top N          stacks shown per section of the text report (default 10)\n"
"  --debug-dir DIR  also look for debug files in DIR (repeatable)\n"
"  --full-names     C++ names in full; by default template arguments are\n"
"                   shortened (std::map<...>::emplace<...>(int&)) and template\n"
"                   functions' return types left out\n"
"  -h, --help       print this help\n"
"\n"
"Exit status: 0 done; 1 the file is not a valid profile, or OUT cannot be\n"
"written; 2 usage error.\n";

static void __attribute__((noreturn)) report_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void report_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("memlens report: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see `memlens report --help')\n", stderr);
	exit(2);
}

/* --NAME VALUE or --NAME=VALUE (or the short form): the value, else NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	if (!strncmp(a, lng, n) && a[n] == '=')
		return a + n + 1;
	if (!strcmp(a, lng) || (shrt && !strcmp(a, shrt))) {
		if (*i + 1 >= argc)
			report_usage_error("%s needs a value", a);
		return argv[++*i];
	}
	return NULL;
}

/* A profile being read: buf holds the first n bytes. */
struct input {
	int fd;
	uint8_t *buf;
	size_t n, cap;
	int eof, error;
};

/* Reads until the first want bytes are there, or the end; 0 when they are
 * not.  The buffer grows with what arrives, not with what is wanted. */
static int fill(struct input *in, uint64_t want)
{
	while (in->n < want && !in->eof) {
		if (in->n == in->cap) {
			uint64_t c = in->cap * 2;
			if (c > want)
				c = want;
			in->cap = (size_t)c;
			in->buf = xrealloc(in->buf, in->cap);
		}
		ssize_t r = read(in->fd, in->buf + in->n, in->cap - in->n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			in->error = errno;
			return 0;
		}
		if (r == 0)
			in->eof = 1;
		in->n += (size_t)r;
	}
	return in->n >= want;
}

/* Reads a profile from path, only as far as its own structure says: the
 * header first (a foreign file or device is left after its first bytes),
 * then each section header, checked (sec_check) before its payload is
 * read, up to the trailer; after it, what a regular file still holds (to
 * report it), at most 64 KiB of anything else.  prof_parse then finds the
 * problem at the place where reading stopped. */
static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s", strerror(EISDIR));
		return NULL;
	}
	int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	struct input in = { fd, NULL, 0, 4096, 0, 0 };
	in.buf = xmalloc(in.cap);
	char dummy[8];
	struct rd r = { NULL, 0, dummy, sizeof dummy };
	if (fill(&in, 12) && !memcmp(in.buf, ML_PROF_MAGIC, 8) && le32(in.buf + 8) == ML_PROF_VERSION
	    && fill(&in, HDR_FIXED)) {
		uint64_t pos = HDR_FIXED + le16(in.buf + 64);
		for (unsigned nsec = 1; fill(&in, pos + SEC_HDR); nsec++) {
			const uint8_t *h = in.buf + pos;
			uint32_t tag = le32(h), count = le32(h + 4);
			uint64_t bytes = le64(h + 8);
			if (sec_check(&r, (size_t)pos, tag, count, bytes, nsec) || !fill(&in, pos + SEC_HDR + bytes))
				break;
			pos += SEC_HDR + bytes;
			if (tag == ML_PROF_TAG_END) {
				fill(&in, regular ? UINT64_MAX : pos + 65536);
				break;
			}
		}
	}
	close(fd);
	if (in.error) {
		snprintf(err, errlen, "%s", strerror(in.error));
		free(in.buf);
		return NULL;
	}
	*len = in.n;
	return in.buf;
}

int cmd_report(int argc, char **argv)
{
	const char *file = NULL, *outpath = NULL, *v;
	struct report_opts o = { RF_TEXT, RW_PEAK, 10, NULL };
	const char **dirs = xcalloc((size_t)argc + 1, sizeof *dirs);
	size_t ndirs = 0;
	int no_more_opts = 0, sym_flags = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (no_more_opts || a[0] != '-' || !a[1]) {
			if (file)
				report_usage_error("one profile at a time (got `%s' and `%s')", file, a);
			file = a;
		} else if (!strcmp(a, "--")) {
			no_more_opts = 1;
		} else if (!strcmp(a, "--full-names")) {
			sym_flags |= SYM_FULL_NAMES;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(report_usage, stdout);
			exit(0);
		} else if ((v = opt_value(argc, argv, &i, "--format", "-f"))) {
			static const char *const names[] = { "text", "massif", "dhat", "pprof", "folded", "json" };
			size_t k;
			for (k = 0; k < NELEMS(names) && strcmp(v, names[k]); k++)
				;
			if (k == NELEMS(names))
				report_usage_error("--format %s: unknown format; allowed: text, massif, dhat, pprof, "
				                   "folded, json", v);
			o.format = (enum report_format)k;
		} else if ((v = opt_value(argc, argv, &i, "--output", "-o"))) {
			if (!*v)
				report_usage_error("-o needs a file name");
			outpath = v;
		} else if ((v = opt_value(argc, argv, &i, "--weight", "-w"))) {
			size_t k;
			for (k = 0; k < 4 && strcmp(v, weight_name((enum report_weight)k)); k++)
				;
			if (k == 4)
				report_usage_error("--weight %s: unknown weight; allowed: peak, churn, leaks, temp", v);
			o.weight = (enum report_weight)k;
		} else if ((v = opt_value(argc, argv, &i, "--top", NULL))) {
			char *end;
			errno = 0;
			unsigned long t = strtoul(v, &end, 10);
			if (!*v || *end || errno || t == 0 || t > 1000000 || v[0] == '-')
				report_usage_error("--top %s: expected a number from 1 to 1000000", v);
			o.top = (unsigned)t;
		} else if ((v = opt_value(argc, argv, &i, "--debug-dir", NULL))) {
			if (!*v || strchr(v, ':'))
				report_usage_error("--debug-dir %s: expected a directory (without ':')", v);
			dirs[ndirs++] = v;
		} else {
			report_usage_error("unknown option `%s'; allowed: --format, -o, --weight, --top, "
			                   "--debug-dir, --full-names, --help", a);
		}
	}
	if (!file)
		report_usage_error("no profile given; usage: memlens report FILE [--format FORMAT] [-o OUT]");
	o.file = file;

	char err[512];
	size_t len = 0;
	uint8_t *buf = read_file(file, &len, err, sizeof err);
	if (!buf) {
		fprintf(stderr, "memlens report: %s: %s\n", file, err);
		free(dirs);
		return 1;
	}
	struct profile *p = prof_parse(buf, len, err, sizeof err);
	free(buf);
	if (!p) {
		fprintf(stderr, "memlens report: %s: %s\n", file, err);
		free(dirs);
		return 1;
	}

	if (o.format == RF_PPROF && !outpath && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "memlens report: pprof output is binary; give -o FILE or redirect it\n");
		prof_free(p);
		free(dirs);
		return 2;
	}
	FILE *out = stdout;
	struct cli_output co;
	if (outpath) {
		int e = output_open(&co, outpath);
		if (e) {
			fprintf(stderr, "memlens report: %s: %s\n", outpath, strerror(e));
			free(co.tmp);
			prof_free(p);
			free(dirs);
			return 1;
		}
		out = co.f;
	}

	struct report r = { p, sym_new(p, dirs, sym_flags), &o, NULL, 0 };
	int rc = 0;
	switch (o.format) {
	case RF_TEXT: rc = report_text(&r, out); break;
	case RF_MASSIF: rc = report_massif(&r, out); break;
	case RF_DHAT: rc = report_dhat(&r, out); break;
	case RF_PPROF: rc = report_pprof(&r, out); break;
	case RF_FOLDED: rc = report_folded(&r, out); break;
	case RF_JSON: rc = report_json(&r, out); break;
	}
	int werr = 0;
	if (outpath)
		werr = output_close(&co); /* a failed or partial report never replaces OUT */
	else if (fflush(out) != 0 || ferror(out))
		werr = errno ? errno : EIO;
	if (rc == 0 && werr) {
		fprintf(stderr, "memlens report: %s: write error: %s\n", outpath ? outpath : "standard output",
		        strerror(werr));
		rc = 1;
	} else if (rc) {
		rc = 1;
	}
	free(r.buf);
	sym_free(r.sym);
	prof_free(p);
	free(dirs);
	return rc;
}
