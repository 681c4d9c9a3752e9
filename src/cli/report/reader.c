/* reader.c: a heap profile file -> struct profile (reader.h).  The file's
 * layout is src/profile/profile_format.h: a header, then sections (a tag, a
 * count of records and a length each), up to the END! trailer.  Each known
 * section has a row in `sections': the shape its count and length must
 * have, checked from its header alone before its payload is read or
 * anything allocated, and the function that reads it.  After the trailer
 * the sections are checked against each other (the trie of stack nodes,
 * the stacks' nodes), and what the file left out is derived. */
#include "reader.h"
#include "cli/xalloc.h"
#include "profile/profile_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define HDR_FIXED (8 + 4 + 4 + 8 * 5 + 4 + 4 + 2)
#define SEC_HDR 16
#define MOD_MIN (8 * 3 + 2 + 1)
#define NODE_REC (4 + 8)
#define STKS_REC (4 + 8 * ML_PROF_STKS_FIELDS)
_Static_assert(SF_N == ML_PROF_STKS_FIELDS, "reader.h's SF_* figures must follow profile_format.h's STKS records");
#define TIME_REC (8 * 4)
#define PEAK_REC (8 * 4)
#define TOTL_REC (8 * 7)
#define PROC_REC 8
#define FRKT_REC (8 * 5)
#define FRKS_REC (4 + 8 * 5)
#define RSS_REC 8

/* A file being parsed. */
struct rd {
	const uint8_t *b;
	size_t len;
	char *err;
	size_t errlen;
	struct profile *p;
	size_t pos;                /* where the next section header starts */
	size_t node_off, stks_off; /* NODE's and STKS's records, for messages */
	size_t frks_off;           /* FRKS's */
};

/* One section: its header, and its payload at b[pos]. */
struct sec {
	size_t off, pos;
	uint32_t tag, count;
	uint64_t bytes;
	const uint8_t *q;
	const char *name;
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

/* ==== the sections ========================================================= */

static int read_mods(struct rd *r, const struct sec *s);
static int read_node(struct rd *r, const struct sec *s);
static int read_stks(struct rd *r, const struct sec *s);
static int read_time(struct rd *r, const struct sec *s);
static int read_peak(struct rd *r, const struct sec *s);
static int read_totl(struct rd *r, const struct sec *s);
static int read_proc(struct rd *r, const struct sec *s);
static int read_frkt(struct rd *r, const struct sec *s);
static int read_frks(struct rd *r, const struct sec *s);
static int read_rss(struct rd *r, const struct sec *s);
static int read_end(struct rd *r, const struct sec *s);

/* What a section's count and length must be. */
enum shape {
	SHAPE_RECORDS, /* count records of rec bytes, at most max */
	SHAPE_ONE,     /* exactly one record of rec bytes */
	SHAPE_MODULES, /* count records of at least rec bytes, at most ML_PROF_MAX_OTHER in all */
	SHAPE_TRAILER, /* no records, 8 bytes */
};

/* The sections this reader knows; one of each at most.  A section of
 * another tag is skipped (at most ML_PROF_MAX_OTHER bytes).  read returns
 * -1 after a message, 1 at the trailer, else 0. */
static const struct section {
	uint32_t tag;
	enum shape shape;
	size_t rec;
	uint32_t max;
	const char *noun;          /* its records, in messages */
	int (*read)(struct rd *r, const struct sec *s);
} sections[] = {
	{ ML_PROF_TAG_MODS, SHAPE_MODULES, MOD_MIN, 0, "modules", read_mods },
	{ ML_PROF_TAG_NODE, SHAPE_RECORDS, NODE_REC, ML_PROF_MAX_NODES - 1, "nodes", read_node }, /* + the root */
	{ ML_PROF_TAG_STKS, SHAPE_RECORDS, STKS_REC, ML_PROF_MAX_NODES, "records", read_stks },
	{ ML_PROF_TAG_TIME, SHAPE_RECORDS, TIME_REC, ML_PROF_MAX_TIME, "records", read_time },
	{ ML_PROF_TAG_PEAK, SHAPE_ONE, PEAK_REC, 1, "records", read_peak },
	{ ML_PROF_TAG_TOTL, SHAPE_ONE, TOTL_REC, 1, "records", read_totl },
	{ ML_PROF_TAG_PROC, SHAPE_ONE, PROC_REC, 1, "records", read_proc },
	{ ML_PROF_TAG_FRKT, SHAPE_ONE, FRKT_REC, 1, "records", read_frkt },
	{ ML_PROF_TAG_FRKS, SHAPE_RECORDS, FRKS_REC, ML_PROF_MAX_NODES, "records", read_frks },
	{ ML_PROF_TAG_RSS, SHAPE_RECORDS, RSS_REC, ML_PROF_MAX_TIME, "records", read_rss },
	{ ML_PROF_TAG_END, SHAPE_TRAILER, 8, 0, NULL, read_end },
};

static const struct section *section_of(uint32_t tag)
{
	for (size_t i = 0; i < NELEMS(sections); i++)
		if (sections[i].tag == tag)
			return &sections[i];
	return NULL;
}

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
 * Checked before its payload is read: prof_read_file stops reading where
 * this fails, and prof_parse then gives this message. */
static int sec_check(struct rd *r, size_t sec, uint32_t tag, uint32_t count, uint64_t bytes, unsigned nsec)
{
	char tn[16];
	const char *name = tag_name(tag, tn);
	const struct section *k = section_of(tag);
	if (nsec > ML_PROF_MAX_SECTIONS)
		return rd_fail(r, "more than %d sections (section %s at offset %zu is the %uth)", ML_PROF_MAX_SECTIONS,
		               name, sec, nsec);
	switch (k ? k->shape : SHAPE_MODULES) {
	case SHAPE_TRAILER:
		if (count != 0 || bytes != 8)
			return rd_fail(r, "bad END! trailer at offset %zu (count %" PRIu32 ", %" PRIu64
			               " bytes; expected 0 and 8)", sec, count, bytes);
		return 0;
	case SHAPE_RECORDS:
		if (fixed_size(r, name, sec, count, bytes, k->rec))
			return -1;
		if (count > k->max)
			return rd_fail(r, "section %s at offset %zu: %" PRIu32 " %s, more than a profile has (%" PRIu32 ")",
			               name, sec, count, k->noun, k->max);
		return 0;
	case SHAPE_ONE:
		if (count != 1)
			return rd_fail(r, "section %s at offset %zu holds %" PRIu32 " records, expected 1", name, sec, count);
		return fixed_size(r, name, sec, count, bytes, k->rec);
	case SHAPE_MODULES:
		if (k && (uint64_t)count * k->rec > bytes)
			return rd_fail(r, "section %s at offset %zu: %" PRIu32 " %s cannot fit in %" PRIu64
			               " bytes", name, sec, count, k->noun, bytes);
		if (bytes > ML_PROF_MAX_OTHER)
			return rd_fail(r, "section %s at offset %zu: %" PRIu64 " bytes, more than a profile has (%"
			               PRIu64 ")", name, sec, bytes, ML_PROF_MAX_OTHER);
		return 0;
	}
	return 0;
}

static int mod_past_end(struct rd *r, const struct sec *s, uint32_t i, size_t rec)
{
	return rd_fail(r, "section MODS at offset %zu: module %" PRIu32
	               " (at offset %zu) runs past the section's end (offset %zu)",
	               s->off, i, s->pos + rec, s->pos + (size_t)s->bytes);
}

static int read_mods(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	const uint8_t *q = s->q;
	uint64_t bytes = s->bytes;
	size_t o = 0;
	p->mods = xcalloc(s->count, sizeof *p->mods);
	for (uint32_t i = 0; i < s->count; i++) {
		struct prof_module *m = &p->mods[i];
		size_t rec = o;
		if (bytes - o < 26)
			return mod_past_end(r, s, i, rec);
		m->lo = le64(q + o);
		m->hi = le64(q + o + 8);
		m->bias = le64(q + o + 16);
		size_t pl = le16(q + o + 24);
		o += 26;
		if (bytes - o < pl + 1)
			return mod_past_end(r, s, i, rec);
		m->path = xstrndup((const char *)q + o, pl);
		p->nmods = i + 1;
		o += pl;
		m->build_id_len = q[o++];
		if (bytes - o < m->build_id_len)
			return mod_past_end(r, s, i, rec);
		memcpy(m->build_id, q + o, m->build_id_len);
		o += m->build_id_len;
		if (m->lo > m->hi)
			return rd_fail(r, "section MODS at offset %zu: module %" PRIu32 " (at offset %zu) "
			               "ends (0x%" PRIx64 ") before it starts (0x%" PRIx64 ")",
			               s->off, i, s->pos + rec, m->hi, m->lo);
	}
	if (o != bytes)
		return rd_fail(r, "section MODS at offset %zu: %" PRIu64 " bytes left over after its %"
		               PRIu32 " modules, at offset %zu", s->off, bytes - o, s->count, s->pos + o);
	return 0;
}

static int read_node(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	free(p->nodes);
	p->nodes = xcalloc((size_t)s->count + 1, sizeof *p->nodes);
	p->nnodes = (size_t)s->count + 1;
	r->node_off = s->pos;
	for (uint32_t i = 0; i < s->count; i++) {
		p->nodes[i + 1].parent = le32(s->q + (size_t)i * NODE_REC);
		p->nodes[i + 1].pc = le64(s->q + (size_t)i * NODE_REC + 4);
	}
	return 0;
}

static int read_stks(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	p->stacks = xcalloc(s->count, sizeof *p->stacks);
	p->nstacks = s->count;
	r->stks_off = s->pos;
	for (uint32_t i = 0; i < s->count; i++) {
		const uint8_t *q = s->q + (size_t)i * STKS_REC;
		p->stacks[i].node = le32(q);
		for (int k = 0; k < SF_N; k++)
			p->stacks[i].f[k] = le64(q + 4 + 8 * k);
	}
	return 0;
}

static struct prof_sample sample_at(const uint8_t *q)
{
	return (struct prof_sample){ le64(q), le64(q + 8), le64(q + 16), le64(q + 24), 0 };
}

static int read_time(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	p->timeline = xcalloc(s->count, sizeof *p->timeline);
	p->ntime = s->count;
	for (uint32_t i = 0; i < s->count; i++)
		p->timeline[i] = sample_at(s->q + (size_t)i * TIME_REC);
	return 0;
}

static int read_peak(struct rd *r, const struct sec *s)
{
	r->p->peak = sample_at(s->q);
	r->p->has_peak = 1;
	return 0;
}

static int read_totl(struct rd *r, const struct sec *s)
{
	const uint8_t *q = s->q;
	r->p->tot = (struct prof_totals){ le64(q), le64(q + 8), le64(q + 16), le64(q + 24),
	                                  le64(q + 32), le64(q + 40), le64(q + 48) };
	r->p->has_totals = 1;
	return 0;
}

static int read_proc(struct rd *r, const struct sec *s)
{
	r->p->ppid = le64(s->q);
	r->p->has_ppid = 1;
	return 0;
}

static int read_frkt(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	p->has_fork = 1;
	p->fork_ppid = le64(s->q);
	p->fork_tot.allocs = le64(s->q + 8);
	p->fork_tot.frees = le64(s->q + 16);
	p->fork_tot.bytes_total = le64(s->q + 24);
	p->fork_tot.temp_allocs = le64(s->q + 32);
	return 0;
}

/* The figures of an FRKS record, in their places among a STKS record's. */
static const int frks_fields[5] = { SF_ALLOCS, SF_BYTES_TOTAL, SF_TEMP_ALLOCS, SF_TEMP_BYTES, SF_LIFETIME };

static int read_frks(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	p->fork_stacks = xcalloc(s->count ? s->count : 1, sizeof *p->fork_stacks);
	p->nfork = s->count;
	r->frks_off = s->pos;
	for (uint32_t i = 0; i < s->count; i++) {
		const uint8_t *q = s->q + (size_t)i * FRKS_REC;
		p->fork_stacks[i].node = le32(q);
		for (int k = 0; k < 5; k++)
			p->fork_stacks[i].f[frks_fields[k]] = le64(q + 4 + 8 * k);
	}
	return 0;
}

/* One RSS value per timeline point: it comes after TIME, as many. */
static int read_rss(struct rd *r, const struct sec *s)
{
	struct profile *p = r->p;
	if (s->count != p->ntime)
		return rd_fail(r, "section RSSB at offset %zu: %" PRIu32 " records for a timeline of %zu points%s", s->off,
		               s->count, p->ntime, p->timeline ? "" : " (no TIME section before it)");
	for (uint32_t i = 0; i < s->count; i++)
		p->timeline[i].rss = le64(s->q + (size_t)i * RSS_REC);
	p->has_rss = 1;
	return 0;
}

/* The trailer gives the file's length up to itself; nothing follows it. */
static int read_end(struct rd *r, const struct sec *s)
{
	uint64_t said = le64(s->q);
	size_t end = s->pos + 8;
	if (said != s->off)
		return rd_fail(r, "the END! trailer at offset %zu gives the file's length as %" PRIu64
		               " bytes, but it starts at offset %zu", s->off, said, s->off);
	if (end != r->len)
		return rd_fail(r, "%zu bytes of garbage after the END! trailer, at offset %zu", r->len - end, end);
	return 1;
}

/* ==== the whole file ======================================================= */

/* The fixed header and the executable's path; r->pos is then the first
 * section's offset. */
static int read_header(struct rd *r)
{
	struct profile *p = r->p;
	const uint8_t *buf = r->b;
	size_t len = r->len;
	if (len == 0)
		return rd_fail(r, "empty file (not a memlens profile)");
	if (len < 8 ? memcmp(buf, ML_PROF_MAGIC, len) != 0 : memcmp(buf, ML_PROF_MAGIC, 8) != 0) {
		char m[160];
		describe_magic(buf, len, m, sizeof m);
		return rd_fail(r, "not a memlens profile%s", m);
	}
	if (len < 12)
		return rd_fail(r, "truncated at offset %zu (in the header)", len);
	p->version = le32(buf + 8);
	if (p->version != ML_PROF_VERSION)
		return rd_fail(r, "unsupported version %" PRIu32 " (this memlens reads version %d)", p->version,
		               ML_PROF_VERSION);
	if (len < HDR_FIXED)
		return rd_fail(r, "truncated at offset %zu (in the header)", len);
	p->flags = le32(buf + 12);
	p->pid = le64(buf + 16);
	p->start_ns = le64(buf + 24);
	p->end_ns = le64(buf + 32);
	p->wall_start_s = le64(buf + 40);
	p->sample_bytes = le64(buf + 48);
	p->max_depth = le32(buf + 56);
	p->reason = le32(buf + 60);
	if (p->max_depth < 1 || p->max_depth > ML_PROF_MAX_DEPTH)
		return rd_fail(r, "the header's max_depth (at offset 56) is %" PRIu32 ", not a depth from 1 to %d",
		               p->max_depth, ML_PROF_MAX_DEPTH);
	size_t exe_len = le16(buf + 64);
	if (exe_len > len - HDR_FIXED)
		return rd_fail(r, "truncated at offset %zu (in the header: the executable's path)", len);
	p->exe = xstrndup((const char *)buf + HDR_FIXED, exe_len);
	r->pos = HDR_FIXED + exe_len;
	return 0;
}

/* Every section, each checked (sec_check) and read, up to the trailer. */
static int read_sections(struct rd *r)
{
	int seen[NELEMS(sections)] = { 0 };
	for (unsigned nsec = 1;; nsec++) {
		char tn[16];
		size_t pos = r->pos, len = r->len;
		if (pos == len)
			return rd_fail(r, "truncated at offset %zu (the END! trailer is missing)", len);
		if (len - pos < SEC_HDR)
			return rd_fail(r, "truncated at offset %zu (in a section header)", len);
		const uint8_t *h = r->b + pos;
		struct sec s = { pos, pos + SEC_HDR, le32(h), le32(h + 4), le64(h + 8), h + SEC_HDR, NULL };
		s.name = tag_name(s.tag, tn);
		if (sec_check(r, s.off, s.tag, s.count, s.bytes, nsec))
			return -1;
		if (s.bytes > len - s.pos)
			return rd_fail(r, "truncated at offset %zu (in section %s)", len, s.name);
		const struct section *k = section_of(s.tag);
		if (k && seen[k - sections]++)
			return rd_fail(r, "a second %s section at offset %zu", s.name, s.off);
		int rc = k ? k->read(r, &s) : 0; /* another tag: skipped */
		if (rc)
			return rc < 0 ? -1 : 0;
		r->pos = s.pos + (size_t)s.bytes;
	}
}

/* The trie of stack nodes: parents in range, no cycles; and each node's
 * depth, at most the header's max_depth. */
static int check_trie(struct rd *r)
{
	struct profile *p = r->p;
	for (size_t i = 1; i < p->nnodes; i++)
		if (p->nodes[i].parent >= p->nnodes)
			return rd_fail(r, "section NODE: node %zu (at offset %zu) has parent %" PRIu32
			               ", but the last node is %zu", i, r->node_off + (i - 1) * NODE_REC,
			               p->nodes[i].parent, p->nnodes - 1);
	/* depth 0 = not yet known (the root's is 0 too, but never asked) */
	uint32_t *path = xmalloc(p->nnodes * sizeof *path);
	int rc = 0;
	for (size_t i = 1; i < p->nnodes && !rc; i++) {
		if (p->nodes[i].depth)
			continue;
		size_t n = 0;
		uint32_t j = (uint32_t)i;
		int loops = 0;
		/* walk up to the root or a node whose depth is known */
		while (j != 0 && p->nodes[j].depth == 0) {
			if (n >= p->nnodes) {
				loops = 1;
				break;
			}
			path[n++] = j;
			p->nodes[j].depth = UINT32_MAX; /* on the current path */
			j = p->nodes[j].parent;
		}
		if (loops || (j != 0 && p->nodes[j].depth == UINT32_MAX)) {
			rc = rd_fail(r, "section NODE: the stack of node %zu (at offset %zu) loops",
			             i, r->node_off + (i - 1) * NODE_REC);
			break;
		}
		uint32_t d = j ? p->nodes[j].depth : 0;
		while (n > 0)
			p->nodes[path[--n]].depth = ++d;
		/* a stack is at most max_depth frames: deeper ones would
		 * multiply the output without bound */
		if (d > p->max_depth)
			rc = rd_fail(r, "section NODE: the stack of node %zu (at offset %zu) is %" PRIu32
			             " frames deep, more than the header's max_depth (%" PRIu32 ")", i,
			             r->node_off + (i - 1) * NODE_REC, d, p->max_depth);
	}
	free(path);
	return rc;
}

static int check_stacks(struct rd *r)
{
	const struct profile *p = r->p;
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].node >= p->nnodes)
			return rd_fail(r, "section STKS: record %zu (at offset %zu) names node %" PRIu32
			               ", but the last node is %zu", i, r->stks_off + i * STKS_REC, p->stacks[i].node,
			               p->nnodes - 1);
	for (size_t i = 0; i < p->nfork; i++)
		if (p->fork_stacks[i].node >= p->nnodes)
			return rd_fail(r, "section FRKS: record %zu (at offset %zu) names node %" PRIu32
			               ", but the last node is %zu", i, r->frks_off + i * FRKS_REC, p->fork_stacks[i].node,
			               p->nnodes - 1);
	if (p->nfork && !p->has_fork)
		return rd_fail(r, "section FRKS without FRKT (what the process inherited at its fork)");
	return 0;
}

static int cmp_stack(const void *a, const void *b)
{
	const struct prof_stack *x = a, *y = b;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* One record per node: duplicates are summed, except the largest request,
 * their largest.  (The runtime writes one record per node; a node split
 * over records is read as parts that add up: the sum of the parts' maxima
 * live bounds the whole's, and stays at least its live and peak figures,
 * which add up too.) */
static void merge_stacks(struct prof_stack *st, size_t *n)
{
	if (*n <= 1)
		return;
	qsort(st, *n, sizeof *st, cmp_stack);
	size_t w = 0;
	for (size_t i = 0; i < *n; i++) {
		if (w > 0 && st[w - 1].node == st[i].node) {
			struct prof_stack *d = &st[w - 1];
			for (int k = 0; k < SF_N; k++)
				if (k == SF_MAX_BYTES)
					d->f[k] = d->f[k] > st[i].f[k] ? d->f[k] : st[i].f[k];
				else
					d->f[k] += st[i].f[k];
		} else {
			st[w++] = st[i];
		}
	}
	*n = w;
}

static uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void prof_drop_inherited(struct profile *p)
{
	if (!p->has_fork)
		return;
	/* both by node, one record each (prof_parse) */
	size_t j = 0;
	for (size_t i = 0; i < p->nfork; i++) {
		const struct prof_stack *b = &p->fork_stacks[i];
		while (j < p->nstacks && p->stacks[j].node < b->node)
			j++;
		if (j == p->nstacks || p->stacks[j].node != b->node)
			continue; /* not in STKS: nothing to take from */
		for (int k = 0; k < 5; k++) {
			int f = frks_fields[k];
			p->stacks[j].f[f] = minus(p->stacks[j].f[f], b->f[f]);
		}
	}
	p->tot.allocs = minus(p->tot.allocs, p->fork_tot.allocs);
	p->tot.frees = minus(p->tot.frees, p->fork_tot.frees);
	p->tot.bytes_total = minus(p->tot.bytes_total, p->fork_tot.bytes_total);
	p->tot.temp_allocs = minus(p->tot.temp_allocs, p->fork_tot.temp_allocs);
	p->has_fork = 0; /* taken out once */
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

/* The totals and the peak, when the file has no TOTL or PEAK section. */
static void derive(struct profile *p)
{
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
}

struct profile *prof_parse(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct profile *p = xcalloc(1, sizeof *p);
	struct rd r = { buf, len, err, errlen, p, 0, 0, 0, 0 };
	p->file_size = len;
	p->nnodes = 1;
	p->nodes = xcalloc(1, sizeof *p->nodes);
	if (read_header(&r) || read_sections(&r) || check_trie(&r) || check_stacks(&r)) {
		prof_free(p);
		return NULL;
	}
	merge_stacks(p->stacks, &p->nstacks);
	merge_stacks(p->fork_stacks, &p->nfork);
	if (p->ntime > 1)
		qsort(p->timeline, p->ntime, sizeof *p->timeline, cmp_sample);
	derive(p);
	return p;
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
	free(p->fork_stacks);
	free(p->timeline);
	free(p->exe);
	free(p);
}

/* ==== reading the file ===================================================== */

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

/* The header first, then each section header, checked (sec_check) before
 * its payload is read, up to the trailer; after it, what a regular file
 * still holds (to report it), at most 64 KiB of anything else. */
uint8_t *prof_read_file(const char *path, size_t *len, char *err, size_t errlen)
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
	struct rd r = { NULL, 0, dummy, sizeof dummy, NULL, 0, 0, 0, 0 };
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
