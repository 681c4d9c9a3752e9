/* report_formats.c: the machine-readable outputs of `memlens report`:
 *
 *   massif  valgrind's massif.out format, for ms_print and massif-visualizer:
 *           the timeline as snapshots (time unit B: bytes allocated so far),
 *           a "peak" snapshot with the tree of stacks live at the peak and a
 *           "detailed" last one with the stacks live at exit
 *   dhat    DHAT's JSON (dhatFileVersion 2, mode heap) for dh_view.html:
 *           per stack total, maximum (the stack's own most live), at-t-gmax
 *           (peak) and at-t-end figures and lifetimes of the freed blocks.
 *           Time is counted in allocations, the unit of the profile's
 *           lifetimes (tu "allocs", rates per million allocations, Mtu "M
 *           allocs"): t-end is the number of allocations, t-gmax an
 *           estimate (the profile has the bytes allocated up to the peak,
 *           not the allocations: t-end scaled by that share of the bytes)
 *   pprof   gzip'd profile.proto, encoded here: alloc_objects/space (every
 *           allocation), inuse_objects/space (live at exit, as in Go's heap
 *           profiles), peak_objects/space (live at the peak),
 *           temp_objects/space; the default sample follows --weight
 *   folded  "main;f;g 1234" lines, outermost frame first, for flamegraph.pl
 *           and speedscope; the weight is --weight's
 *   json    the whole profile with symbolized frames */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void *fmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("memlens report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *fcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fputs("memlens report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *frealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("memlens report: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* ---- a string table: string -> index, in insertion order ---------------- */

struct strtab {
	char **strs;     /* by index */
	size_t n, cap;
	uint32_t *slots; /* index + 1, 0 empty */
	size_t nslots;
};

static uint64_t hash_bytes(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return mix(h);
}

static uint32_t st_index(struct strtab *t, const char *s)
{
	if (t->n * 2 >= t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 256;
		uint32_t *sl = fcalloc(ns, sizeof *sl);
		for (size_t i = 0; i < t->n; i++) {
			size_t j = hash_bytes(t->strs[i]) & (ns - 1);
			while (sl[j])
				j = (j + 1) & (ns - 1);
			sl[j] = (uint32_t)i + 1;
		}
		free(t->slots);
		t->slots = sl;
		t->nslots = ns;
	}
	size_t j = hash_bytes(s) & (t->nslots - 1);
	while (t->slots[j]) {
		if (!strcmp(t->strs[t->slots[j] - 1], s))
			return t->slots[j] - 1;
		j = (j + 1) & (t->nslots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->strs = frealloc(t->strs, t->cap * sizeof *t->strs);
	}
	size_t l = strlen(s) + 1;
	t->strs[t->n] = memcpy(fmalloc(l), s, l);
	t->slots[j] = (uint32_t)++t->n;
	return (uint32_t)t->n - 1;
}

static void st_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->slots);
}

/* ---- a map from up to three 64-bit words to a value --------------------- */

struct kmap {
	struct kent { uint64_t k[3]; uint64_t v; int used; } *e;
	size_t n, cap;
};

static struct kent *km_slot(struct kmap *m, uint64_t a, uint64_t b, uint64_t c, int *found)
{
	if (m->n * 2 >= m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct kent *ne = fcalloc(nc, sizeof *ne);
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].used) {
				size_t j = mix(m->e[i].k[0] ^ mix(m->e[i].k[1] ^ mix(m->e[i].k[2]))) & (nc - 1);
				while (ne[j].used)
					j = (j + 1) & (nc - 1);
				ne[j] = m->e[i];
			}
		free(m->e);
		m->e = ne;
		m->cap = nc;
	}
	size_t j = mix(a ^ mix(b ^ mix(c))) & (m->cap - 1);
	while (m->e[j].used) {
		if (m->e[j].k[0] == a && m->e[j].k[1] == b && m->e[j].k[2] == c) {
			*found = 1;
			return &m->e[j];
		}
		j = (j + 1) & (m->cap - 1);
	}
	*found = 0;
	m->e[j].used = 1;
	m->e[j].k[0] = a;
	m->e[j].k[1] = b;
	m->e[j].k[2] = c;
	m->n++;
	return &m->e[j];
}

/* ==== massif =============================================================== */

#define MASSIF_MAX_SNAPSHOTS 200
#define MASSIF_THRESHOLD 1.0 /* percent, as massif's default --threshold */
/* Frames kept per stack, innermost first, as massif's --depth (default
 * 30): ms_print reads trees recursively and perl warns ("Deep recursion")
 * past 100 levels. */
#define MASSIF_MAX_DEPTH 64

struct mnode {
	const struct sym_pc *sp; /* NULL: the root */
	unsigned idx;
	uint64_t bytes;
	struct mnode **kids;
	size_t nkids, cap;
};

struct mtree {
	struct mnode root;
	struct kmap index; /* (parent, sp, idx) -> child */
};

static void mtree_add(struct report *r, struct mtree *t, uint32_t node, uint64_t w)
{
	const struct xframe *xf;
	size_t n = report_frames(r, node, &xf);
	if (n > MASSIF_MAX_DEPTH)
		n = MASSIF_MAX_DEPTH;
	struct mnode *cur = &t->root;
	cur->bytes += w;
	for (size_t i = 0; i < n; i++) {
		int found;
		struct kent *e = km_slot(&t->index, (uintptr_t)cur, (uintptr_t)xf[i].sp, xf[i].idx, &found);
		struct mnode *kid;
		if (found) {
			kid = (struct mnode *)(uintptr_t)e->v;
		} else {
			kid = fcalloc(1, sizeof *kid);
			kid->sp = xf[i].sp;
			kid->idx = xf[i].idx;
			e->v = (uintptr_t)kid;
			if (cur->nkids == cur->cap) {
				cur->cap = cur->cap ? cur->cap * 2 : 4;
				cur->kids = frealloc(cur->kids, cur->cap * sizeof *cur->kids);
			}
			cur->kids[cur->nkids++] = kid;
		}
		kid->bytes += w;
		cur = kid;
	}
}

static void mnode_free(struct mnode *m)
{
	for (size_t i = 0; i < m->nkids; i++) {
		mnode_free(m->kids[i]);
		free(m->kids[i]);
	}
	free(m->kids);
}

static int cmp_mnode(const void *a, const void *b)
{
	const struct mnode *x = *(struct mnode *const *)a, *y = *(struct mnode *const *)b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->sp->pc != y->sp->pc)
		return x->sp->pc < y->sp->pc ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void massif_node(struct report *r, FILE *out, struct mnode *m, int depth, uint64_t total)
{
	char label[2048];
	if (m->nkids > 1)
		qsort(m->kids, m->nkids, sizeof *m->kids, cmp_mnode);
	size_t sig = 0;
	uint64_t insig_bytes = 0;
	for (size_t i = 0; i < m->nkids; i++) {
		/* significant: at least the threshold of the snapshot's total */
		if ((double)m->kids[i]->bytes * 100.0 >= MASSIF_THRESHOLD * (double)total)
			sig++;
		else
			insig_bytes += m->kids[i]->bytes;
	}
	size_t insig = m->nkids - sig;
	if (m->sp) {
		struct xframe x = { m->sp, m->idx };
		frame_label_vg(r, &x, label, sizeof label);
	} else {
		snprintf(label, sizeof label, "(heap allocation functions) malloc/new/new[], --alloc-fns, etc.");
	}
	fprintf(out, "%*sn%zu: %" PRIu64 " %s\n", depth, "", sig + (insig ? 1 : 0), m->bytes, label);
	for (size_t i = 0; i < sig; i++)
		massif_node(r, out, m->kids[i], depth + 1, total);
	if (insig)
		fprintf(out, "%*sn0: %" PRIu64 " in %zu place%s, %sbelow massif's threshold (%.2f%%)\n",
		        depth + 1, "", insig_bytes, insig, insig == 1 ? "" : "s", insig == 1 ? "" : "all ",
		        MASSIF_THRESHOLD);
}

struct msnap {
	uint64_t t_ns, time, heap;
	int kind; /* 0 empty, 1 detailed (at exit), 2 peak */
	int keep;
};

int report_massif(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	size_t n = 0;
	struct msnap *s = fcalloc(p->ntime + 3, sizeof *s);

	/* massif starts from nothing */
	if (p->ntime == 0 || p->timeline[0].total != 0 || p->timeline[0].live_bytes != 0)
		s[n++] = (struct msnap){ 0, 0, 0, 0, 0 };
	for (size_t i = 0; i < p->ntime; i++)
		s[n++] = (struct msnap){ p->timeline[i].t_ns, p->timeline[i].total, p->timeline[i].live_bytes, 0, 0 };
	/* the peak, in its place (it may be one of the timeline's points) */
	if (p->has_peak || p->ntime > 0) {
		size_t j = 0;
		while (j < n && (s[j].t_ns < p->peak.t_ns || (s[j].t_ns == p->peak.t_ns && s[j].time <= p->peak.total)))
			j++;
		if (j > 0 && s[j - 1].t_ns == p->peak.t_ns && s[j - 1].time == p->peak.total
		    && s[j - 1].heap == p->peak.live_bytes) {
			s[j - 1].kind = 2;
		} else {
			memmove(s + j + 1, s + j, (n - j) * sizeof *s);
			s[j] = (struct msnap){ p->peak.t_ns, p->peak.total, p->peak.live_bytes, 2, 0 };
			n++;
		}
	}
	/* the end, with the stacks live at exit */
	if (s[n - 1].time != p->tot.bytes_total || s[n - 1].heap != p->tot.live_bytes)
		s[n++] = (struct msnap){ p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0, p->tot.bytes_total, p->tot.live_bytes, 1, 0 };
	else if (s[n - 1].kind == 0)
		s[n - 1].kind = 1;

	/* at most MASSIF_MAX_SNAPSHOTS: the first, the last, the detailed ones,
	 * and the highest of each bucket of the rest */
	size_t special = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || i == n - 1 || s[i].kind) {
			s[i].keep = 1;
			special++;
		}
	if (n <= MASSIF_MAX_SNAPSHOTS) {
		for (size_t i = 0; i < n; i++)
			s[i].keep = 1;
	} else {
		size_t buckets = MASSIF_MAX_SNAPSHOTS - special, rest = n - special, seen = 0;
		size_t best = SIZE_MAX, bucket = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i].keep)
				continue;
			size_t b = seen * buckets / rest;
			if (b != bucket && best != SIZE_MAX) {
				s[best].keep = 1;
				best = SIZE_MAX;
			}
			bucket = b;
			if (best == SIZE_MAX || s[i].heap > s[best].heap)
				best = i;
			seen++;
		}
		if (best != SIZE_MAX)
			s[best].keep = 1;
	}

	char e[1024];
	fprintf(out, "desc: memlens heap profile %s (time = bytes allocated)\n",
	        text_esc(r->o->file ? r->o->file : "", e, sizeof e, ESC_TEXT));
	fprintf(out, "cmd: %s\n", p->exe[0] ? text_esc(p->exe, e, sizeof e, ESC_TEXT) : "???");
	fprintf(out, "time_unit: B\n");
	size_t num = 0;
	for (size_t i = 0; i < n; i++) {
		if (!s[i].keep)
			continue;
		struct mtree t;
		memset(&t, 0, sizeof t);
		if (s[i].kind) {
			for (size_t k = 0; k < p->nstacks; k++) {
				uint64_t w = p->stacks[k].f[s[i].kind == 2 ? SF_PEAK_BYTES : SF_LIVE_BYTES];
				if (w)
					mtree_add(r, &t, p->stacks[k].node, w);
			}
		}
		uint64_t heap = s[i].heap;
		if (t.root.bytes > heap) /* scaled estimates may add up to a little more */
			heap = t.root.bytes;
		fprintf(out, "#-----------\nsnapshot=%zu\n#-----------\n", num++);
		fprintf(out, "time=%" PRIu64 "\nmem_heap_B=%" PRIu64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
		        s[i].time, heap);
		fprintf(out, "heap_tree=%s\n", s[i].kind == 2 ? "peak" : s[i].kind == 1 ? "detailed" : "empty");
		if (s[i].kind)
			massif_node(r, out, &t.root, 0, heap);
		mnode_free(&t.root);
		free(t.index.e);
	}
	free(s);
	return 0;
}

/* ==== DHAT ================================================================= */

struct dpp {
	uint64_t tb, tbk, tl, mb, mbk, gb, gbk, eb, ebk;
	uint32_t *fs;
	size_t nfs;
};

int report_dhat(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	struct strtab ftbl = { 0 };
	struct kmap seqs = { 0 }; /* hash of a frame sequence -> pp index + 1 (chained by compare) */
	struct dpp *pps = fcalloc(p->nstacks, sizeof *pps);
	size_t npps = 0;
	char label[2048];
	st_index(&ftbl, "[root]");

	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *st = &p->stacks[i];
		const uint64_t *f = st->f;
		if (!f[SF_ALLOCS] && !f[SF_BYTES_TOTAL] && !f[SF_LIVE_BYTES] && !f[SF_PEAK_BYTES])
			continue;
		const struct xframe *xf;
		size_t nf = report_frames(r, st->node, &xf);
		uint32_t *fs = fmalloc((nf ? nf : 1) * sizeof *fs);
		if (nf == 0) {
			fs[0] = st_index(&ftbl, "[no stack]");
			nf = 1;
		} else {
			for (size_t k = 0; k < nf; k++) {
				frame_label_vg(r, &xf[k], label, sizeof label);
				fs[k] = st_index(&ftbl, label);
			}
		}
		/* dh_view rejects two records with the same frames: merge them */
		uint64_t h = 0;
		for (size_t k = 0; k < nf; k++)
			h = mix(h ^ fs[k]) + k;
		struct dpp *d = NULL;
		for (uint64_t salt = 0;; salt++) {
			int found;
			struct kent *e = km_slot(&seqs, h, nf, salt, &found);
			if (!found) {
				e->v = npps;
				d = &pps[npps++];
				d->fs = fs;
				d->nfs = nf;
				break;
			}
			struct dpp *o = &pps[e->v];
			if (o->nfs == nf && !memcmp(o->fs, fs, nf * sizeof *fs)) {
				d = o;
				free(fs);
				break;
			}
		}
		/* the stack's own maxima; never below what it had at the peak or
		 * at exit (the runtime's maxima are racy across threads) */
		uint64_t maxb = f[SF_MAX_LIVE_BYTES], maxk = f[SF_MAX_LIVE_BLOCKS];
		if (maxb < f[SF_PEAK_BYTES])
			maxb = f[SF_PEAK_BYTES];
		if (maxb < f[SF_LIVE_BYTES])
			maxb = f[SF_LIVE_BYTES];
		if (maxk < f[SF_PEAK_BLOCKS])
			maxk = f[SF_PEAK_BLOCKS];
		if (maxk < f[SF_LIVE_BLOCKS])
			maxk = f[SF_LIVE_BLOCKS];
		d->tb += f[SF_BYTES_TOTAL];
		d->tbk += f[SF_ALLOCS];
		d->tl += f[SF_LIFETIME];
		d->mb += maxb;
		d->mbk += maxk;
		d->gb += f[SF_PEAK_BYTES];
		d->gbk += f[SF_PEAK_BLOCKS];
		d->eb += f[SF_LIVE_BYTES];
		d->ebk += f[SF_LIVE_BLOCKS];
	}

	/* Time in allocations: the end is the number of allocations; the peak's
	 * is estimated from the bytes allocated by then. */
	uint64_t te = p->tot.allocs, tg = 0;
	if (p->tot.bytes_total && p->peak.total)
		tg = p->peak.total >= p->tot.bytes_total
		             ? te
		             : (uint64_t)((long double)te * (long double)p->peak.total / (long double)p->tot.bytes_total + 0.5L);
	/* tuth: "short-lived" is at most 10 allocations on average (DHAT's
	 * default, 500 instructions, is about as many mallocs) */
	fprintf(out, "{\"dhatFileVersion\":2\n,\"mode\":\"heap\",\"verb\":\"Allocated\"\n"
	        ",\"bklt\":true,\"bkacc\":false\n,\"tu\":\"allocs\",\"Mtu\":\"M allocs\"\n,\"tuth\":10\n,\"cmd\":");
	json_str(out, p->exe[0] ? p->exe : "???");
	fprintf(out, "\n,\"pid\":%" PRIu64 "\n,\"te\":%" PRIu64 "\n,\"tg\":%" PRIu64 "\n,\"pps\":\n [", p->pid, te, tg);
	for (size_t i = 0; i < npps; i++) {
		const struct dpp *d = &pps[i];
		fprintf(out, "%s{\"tb\":%" PRIu64 ",\"tbk\":%" PRIu64 "\n  ,\"tl\":%" PRIu64
		        "\n  ,\"mb\":%" PRIu64 ",\"mbk\":%" PRIu64 "\n  ,\"gb\":%" PRIu64 ",\"gbk\":%" PRIu64
		        "\n  ,\"eb\":%" PRIu64 ",\"ebk\":%" PRIu64 "\n  ,\"fs\":[",
		        i ? "\n ," : "", d->tb, d->tbk, d->tl, d->mb, d->mbk, d->gb, d->gbk, d->eb, d->ebk);
		for (size_t k = 0; k < d->nfs; k++)
			fprintf(out, "%s%" PRIu32, k ? "," : "", d->fs[k]);
		fprintf(out, "]\n  }");
		free(d->fs);
	}
	fprintf(out, "\n ]\n,\"ftbl\":\n [");
	for (size_t i = 0; i < ftbl.n; i++) {
		fputs(i ? "\n ," : "", out);
		json_str(out, ftbl.strs[i]);
	}
	fprintf(out, "\n ]\n}\n");
	free(pps);
	free(seqs.e);
	st_free(&ftbl);
	return 0;
}

/* ==== folded stacks ======================================================== */

struct fline {
	char *s;
	uint64_t w;
};

static int cmp_fline(const void *a, const void *b)
{
	return strcmp(((const struct fline *)a)->s, ((const struct fline *)b)->s);
}

int report_folded(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	struct fline *lines = fcalloc(p->nstacks, sizeof *lines);
	size_t nl = 0;
	char name[2048];
	for (size_t i = 0; i < p->nstacks; i++) {
		uint64_t w = stack_weight(&p->stacks[i], r->o->weight);
		if (!w)
			continue;
		const struct xframe *xf;
		size_t nf = report_frames(r, p->stacks[i].node, &xf);
		size_t len = 0, cap = 256;
		char *s = fmalloc(cap);
		s[0] = '\0';
		if (nf == 0) {
			strcpy(s, "[no stack]");
			len = strlen(s);
		}
		for (size_t k = nf; k-- > 0;) {
			const struct sym_frame *f = &xf[k].sp->frames[xf[k].idx];
			if (f->func)
				text_esc(f->func, name, sizeof name, ESC_FOLDED);
			else
				frame_where(r, xf[k].sp, name, sizeof name, ESC_FOLDED);
			size_t l = strlen(name);
			if (len + l + 2 > cap) {
				while (len + l + 2 > cap)
					cap *= 2;
				s = frealloc(s, cap);
			}
			if (len)
				s[len++] = ';';
			memcpy(s + len, name, l + 1);
			len += l;
		}
		lines[nl++] = (struct fline){ s, w };
	}
	qsort(lines, nl, sizeof *lines, cmp_fline);
	for (size_t i = 0; i < nl;) {
		size_t j = i;
		uint64_t w = 0;
		for (; j < nl && !strcmp(lines[j].s, lines[i].s); j++)
			w += lines[j].w;
		fprintf(out, "%s %" PRIu64 "\n", lines[i].s, w);
		for (size_t k = i; k < j; k++)
			free(lines[k].s);
		i = j;
	}
	free(lines);
	return 0;
}

/* ==== JSON ================================================================= */

static void json_hex(FILE *out, uint64_t v)
{
	fprintf(out, "\"0x%" PRIx64 "\"", v);
}

int report_json(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	static const char *const reasons[] = { "exit", "signal", "snapshot", "exec" };
	static const char *const fields[SF_N] = {
		"allocs", "bytes_total", "live_blocks", "live_bytes", "peak_blocks", "peak_bytes",
		"temp_allocs", "temp_bytes", "lifetime_allocs", "max_bytes", "max_live_blocks", "max_live_bytes"
	};
	fprintf(out, "{\n\"format\": \"memlens-profile\",\n\"version\": %" PRIu32 ",\n\"file\": ", p->version);
	json_str(out, r->o->file ? r->o->file : "");
	fprintf(out, ",\n\"exe\": ");
	json_str(out, p->exe);
	fprintf(out, ",\n\"pid\": %" PRIu64 ",\n\"flags\": %" PRIu32 ",\n\"reason\": ", p->pid, p->flags);
	if (p->reason < 4)
		fprintf(out, "\"%s\"", reasons[p->reason]);
	else
		fprintf(out, "%" PRIu32, p->reason);
	fprintf(out, ",\n\"start_ns\": %" PRIu64 ",\n\"end_ns\": %" PRIu64 ",\n\"duration_ns\": %" PRIu64
	        ",\n\"wall_start_s\": %" PRIu64 ",\n\"sample_bytes\": %" PRIu64 ",\n\"max_depth\": %" PRIu32 ",\n",
	        p->start_ns, p->end_ns, p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0, p->wall_start_s,
	        p->sample_bytes, p->max_depth);
	const struct prof_totals *t = &p->tot;
	fprintf(out, "\"summary\": {\"allocs\": %" PRIu64 ", \"frees\": %" PRIu64 ", \"bytes_total\": %" PRIu64
	        ", \"temp_allocs\": %" PRIu64 ", \"leaked_blocks\": %" PRIu64 ", \"leaked_bytes\": %" PRIu64
	        ", \"samples\": %" PRIu64 ", \"from_sections\": %s},\n",
	        t->allocs, t->frees, t->bytes_total, t->temp_allocs, t->live_blocks, t->live_bytes, t->samples,
	        p->has_totals ? "true" : "false");
	fprintf(out, "\"peak\": {\"t_ns\": %" PRIu64 ", \"live_bytes\": %" PRIu64 ", \"live_blocks\": %" PRIu64
	        ", \"total_allocated\": %" PRIu64 ", \"from_sections\": %s},\n",
	        p->peak.t_ns, p->peak.live_bytes, p->peak.live_blocks, p->peak.total, p->has_peak ? "true" : "false");
	fprintf(out, "\"timeline\": [");
	for (size_t i = 0; i < p->ntime; i++) {
		const struct prof_sample *s = &p->timeline[i];
		fprintf(out, "%s\n  {\"t_ns\": %" PRIu64 ", \"live_bytes\": %" PRIu64 ", \"live_blocks\": %" PRIu64
		        ", \"total_allocated\": %" PRIu64 "}", i ? "," : "", s->t_ns, s->live_bytes, s->live_blocks,
		        s->total);
	}
	fprintf(out, "%s],\n\"stacks\": [", p->ntime ? "\n" : "");
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *st = &p->stacks[i];
		fprintf(out, "%s\n  {\"node\": %" PRIu32, i ? "," : "", st->node);
		for (int k = 0; k < SF_N; k++)
			fprintf(out, ", \"%s\": %" PRIu64, fields[k], st->f[k]);
		fprintf(out, ",\n   \"frames\": [");
		const struct xframe *xf;
		size_t nf = report_frames(r, st->node, &xf);
		for (size_t k = 0; k < nf; k++) {
			const struct sym_pc *sp = xf[k].sp;
			const struct sym_frame *f = &sp->frames[xf[k].idx];
			fprintf(out, "%s\n    {\"pc\": ", k ? "," : "");
			json_hex(out, sp->pc);
			fprintf(out, ", \"module\": ");
			if (sp->mod >= 0) {
				json_str(out, p->mods[sp->mod].path);
				fprintf(out, ", \"offset\": ");
				json_hex(out, sp->off);
			} else {
				fprintf(out, "null, \"offset\": null");
			}
			fprintf(out, ", \"function\": ");
			if (f->func)
				json_str(out, f->func);
			else
				fputs("null", out);
			if (f->sysname && f->func && strcmp(f->sysname, f->func)) {
				fprintf(out, ", \"linkage_name\": ");
				json_str(out, f->sysname);
			}
			fprintf(out, ", \"file\": ");
			if (f->file)
				json_str(out, f->file);
			else
				fputs("null", out);
			fprintf(out, ", \"line\": %u, \"inlined\": %s}", f->line, f->inlined ? "true" : "false");
		}
		fprintf(out, "%s]}", nf ? "\n   " : "");
	}
	fprintf(out, "%s],\n\"modules\": [", p->nstacks ? "\n" : "");
	for (size_t i = 0; i < p->nmods; i++) {
		const struct prof_module *m = &p->mods[i];
		char id[2 * 255 + 1];
		for (unsigned k = 0; k < m->build_id_len; k++)
			sprintf(id + 2 * k, "%02x", m->build_id[k]);
		id[2 * m->build_id_len] = '\0';
		fprintf(out, "%s\n  {\"path\": ", i ? "," : "");
		json_str(out, m->path);
		fprintf(out, ", \"lo\": ");
		json_hex(out, m->lo);
		fprintf(out, ", \"hi\": ");
		json_hex(out, m->hi);
		fprintf(out, ", \"bias\": ");
		json_hex(out, m->bias);
		fprintf(out, ", \"build_id\": \"%s\", \"symbolized\": %s}", id,
		        sym_module_ok(r->sym, (int)i) ? "true" : "false");
	}
	fprintf(out, "%s]\n}\n", p->nmods ? "\n" : "");
	return 0;
}

/* ==== pprof ================================================================ */

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
		b->b = frealloc(b->b, b->cap);
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

static int gzip_out(const uint8_t *d, size_t n, FILE *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fputs("memlens report: zlib: cannot start compressing\n", stderr);
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
				fputs("memlens report: zlib: compression failed\n", stderr);
				return -1;
			}
			fwrite(buf, 1, sizeof buf - z.avail_out, out);
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -1;
}

int report_pprof(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
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
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *s = &p->stacks[i];
		int any = 0;
		for (size_t k = 0; k < NTYPES; k++)
			any |= s->f[pprof_types[k].field] != 0;
		if (!any)
			continue;
		packed.n = 0;
		for (uint32_t j = s->node; j != 0; j = p->nodes[j].parent) {
			const struct sym_pc *sp = sym_lookup(r->sym, p->nodes[j].pc);
			int found;
			struct kent *e = km_slot(&locs, (uintptr_t)sp, 0, 0, &found);
			if (!found) {
				e->v = ++nloc;
				pb_uint(&m, P_LOC_ID, e->v);
				if (sp->mod >= 0)
					pb_uint(&m, P_LOC_MAPPING_ID, (uint64_t)sp->mod + 1);
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
			pb_varint(&packed, s->f[pprof_types[k].field]);
		pb_msg(&m, P_SAMPLE_VALUE, &packed);
		pb_msg(&prof, P_PROFILE_SAMPLE, &m);
	}

	for (size_t i = 0; i < p->nmods; i++) {
		const struct prof_module *mod = &p->mods[i];
		char id[2 * 255 + 1];
		for (unsigned k = 0; k < mod->build_id_len; k++)
			sprintf(id + 2 * k, "%02x", mod->build_id[k]);
		id[2 * mod->build_id_len] = '\0';
		pb_uint(&m, P_MAPPING_ID, i + 1);
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
	pb_put(&prof, locs_pb.b, locs_pb.n);
	pb_put(&prof, funcs_pb.b, funcs_pb.n);

	static const int default_type[] = { 5, 1, 3, 6 }; /* peak_space, alloc_space, inuse_space, temp_objects */
	uint32_t dflt = st_index(&st, pprof_types[default_type[r->o->weight]].type);
	snprintf(name, sizeof name, "memlens heap profile of %s (pid %" PRIu64 ")", text_esc(p->exe, esc, sizeof esc, ESC_TEXT),
	         p->pid);
	uint32_t comment = st_index(&st, name);
	uint32_t space = st_index(&st, "space"), bytes = st_index(&st, "bytes");

	for (size_t i = 0; i < st.n; i++)
		pb_bytes(&prof, P_PROFILE_STRING_TABLE, st.strs[i], strlen(st.strs[i]));
	pb_uint(&prof, P_PROFILE_TIME_NANOS, p->wall_start_s * 1000000000ULL);
	pb_uint(&prof, P_PROFILE_DURATION_NANOS, p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0);
	pb_uint(&sub, P_VT_TYPE, space);
	pb_uint(&sub, P_VT_UNIT, bytes);
	pb_msg(&prof, P_PROFILE_PERIOD_TYPE, &sub);
	pb_uint(&prof, P_PROFILE_PERIOD, p->sample_bytes ? p->sample_bytes : 1);
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
