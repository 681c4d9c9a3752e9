/* massif.c: --format massif, valgrind's massif.out format, for ms_print
 * and massif-visualizer: the timeline as snapshots (time unit B: bytes
 * allocated so far), a "peak" snapshot with the tree of stacks live at the
 * peak and a "detailed" last one with the stacks live at exit. */
#include "exporter.h"
#include "tables.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
			kid = xcalloc(1, sizeof *kid);
			kid->sp = xf[i].sp;
			kid->idx = xf[i].idx;
			e->v = (uintptr_t)kid;
			if (cur->nkids == cur->cap) {
				cur->cap = cur->cap ? cur->cap * 2 : 4;
				cur->kids = xrealloc(cur->kids, cur->cap * sizeof *cur->kids);
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
	struct msnap *s = xcalloc(p->ntime + 3, sizeof *s);

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
