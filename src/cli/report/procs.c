/* procs.c: `memlens report` on the profiles of a process tree (several
 * files, or a directory): the tree of processes, each image with its
 * peak, leaked bytes and allocations; or, with --merge, one report of
 * them all, stacks matched by their symbolized frames (match.h) and
 * figures summed. */
#include "match.h"
#include "procs.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Is the process that forked rs[i]'s (a forked child's file) among the n
 * profiles?  Then what rs[i] inherited at the fork is counted there. */
static int parent_among(const struct report *rs, size_t n, size_t i)
{
	const struct profile *c = rs[i].p;
	if (!c->has_fork)
		return 0;
	for (size_t j = 0; j < n; j++)
		if (rs[j].p->pid == c->fork_ppid && rs[j].p->pid != c->pid)
			return 1;
	return 0;
}

/* ---- the tree ------------------------------------------------------------ */

struct img {
	struct report *r;
	const char *file;
	int shown;
};

static const struct img *g_imgs;

/* By pid, then by when each image ended (an exec's earlier image first). */
static int cmp_img(const void *a, const void *b)
{
	const struct img *x = &g_imgs[*(const size_t *)a], *y = &g_imgs[*(const size_t *)b];
	if (x->r->p->pid != y->r->p->pid)
		return x->r->p->pid < y->r->p->pid ? -1 : 1;
	if (x->r->p->end_ns != y->r->p->end_ns)
		return x->r->p->end_ns < y->r->p->end_ns ? -1 : 1;
	return strcmp(x->file, y->file);
}

static void print_img(FILE *out, const struct img *im, int depth, int first)
{
	const struct profile *p = im->r->p;
	static const char *const live[] = { "leaked", "live at signal", "live at snapshot", "live at exec" };
	char exe[1024], file[1024];
	fprintf(out, "%*s", 2 + 2 * depth, "");
	if (first) {
		fprintf(out, "pid %" PRIu64, p->pid);
		if (p->has_ppid)
			fprintf(out, " (parent %" PRIu64 ")", p->ppid);
		else
			fprintf(out, " (parent unknown)");
	} else {
		fprintf(out, "then exec");
	}
	fprintf(out, " %s: peak %" PRIu64 " bytes, %s %" PRIu64 " bytes, %" PRIu64 " allocation%s [%s]\n",
	        p->exe[0] ? text_esc(p->exe, exe, sizeof exe, ESC_TEXT) : "?", p->peak.live_bytes,
	        p->reason < 4 ? live[p->reason] : "live", p->tot.live_bytes, p->tot.allocs,
	        p->tot.allocs == 1 ? "" : "s", text_esc(base_name(im->file), file, sizeof file, ESC_TEXT));
}

/* Process pid (its images ord[lo..hi)) and, under it, its children. */
static void print_proc(FILE *out, struct img *imgs, const size_t *ord, size_t n, size_t lo, int depth)
{
	uint64_t pid = imgs[ord[lo]].r->p->pid;
	size_t hi = lo;
	for (; hi < n && imgs[ord[hi]].r->p->pid == pid; hi++) {
		imgs[ord[hi]].shown = 1;
		print_img(out, &imgs[ord[hi]], depth, hi == lo);
	}
	/* a child is a process whose first image names pid as its parent */
	for (size_t i = 0; i < n; i++) {
		const struct img *c = &imgs[ord[i]];
		if (!c->shown && (i == 0 || imgs[ord[i - 1]].r->p->pid != c->r->p->pid) && c->r->p->has_ppid
		    && c->r->p->ppid == pid)
			print_proc(out, imgs, ord, n, i, depth + 1);
	}
}

static int tree(struct report *rs, const char *const *files, size_t n, FILE *out)
{
	struct img *imgs = xcalloc(n, sizeof *imgs);
	size_t *ord = xmalloc(n * sizeof *ord), nproc = 0;
	uint64_t peaks = 0, leaked = 0, allocs = 0;
	for (size_t i = 0; i < n; i++) {
		imgs[i] = (struct img){ &rs[i], files[i], 0 };
		ord[i] = i;
		peaks += rs[i].p->peak.live_bytes;
		leaked += rs[i].p->reason == 0 ? rs[i].p->tot.live_bytes : 0;
		allocs += rs[i].p->tot.allocs - (parent_among(rs, n, i) ? rs[i].p->fork_tot.allocs : 0);
	}
	g_imgs = imgs;
	qsort(ord, n, sizeof *ord, cmp_img);
	for (size_t i = 0; i < n; i++)
		nproc += i == 0 || imgs[ord[i - 1]].r->p->pid != imgs[ord[i]].r->p->pid;
	fprintf(out, "memlens process tree: %zu profile%s, %zu process%s\n", n, n == 1 ? "" : "s", nproc,
	        nproc == 1 ? "" : "es");
	/* roots: processes whose parent has no profile here; then whatever a
	 * loop of parents (reused pids) left */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct img *c = &imgs[ord[i]];
			if (c->shown || (i > 0 && imgs[ord[i - 1]].r->p->pid == c->r->p->pid))
				continue;
			int parent_here = 0;
			for (size_t j = 0; pass == 0 && c->r->p->has_ppid && j < n; j++)
				parent_here |= imgs[j].r->p->pid == c->r->p->ppid && imgs[j].r->p->pid != c->r->p->pid;
			if (!parent_here)
				print_proc(out, imgs, ord, n, i, 0);
		}
	fprintf(out, "\nIn all: %" PRIu64 " allocations, %" PRIu64 " bytes leaked at exit, peaks summed %" PRIu64
	        " bytes (each process's own peak, whenever it was)\n", allocs, leaked, peaks);
	fprintf(out, "(a forked child's figures start from its parent's at the fork; in the sums, and with `--merge',\n"
	             " what a parent allocated before a fork counts once)\n");
	free(ord);
	free(imgs);
	return 0;
}

/* ---- --merge ------------------------------------------------------------- */

static const struct match *g_m;
static int g_field;

static int cmp_fig(const void *a, const void *b)
{
	const struct mstack *x = &g_m->s[*(const size_t *)a], *y = &g_m->s[*(const size_t *)b];
	uint64_t fx = x->f[0][g_field], fy = y->f[0][g_field];
	if (fx != fy)
		return fx > fy ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int merge(struct report *rs, size_t n, unsigned top, FILE *out)
{
	struct match m = { 0 };
	uint64_t peaks = 0, allocs = 0, bytes = 0, temps = 0, leaked = 0, frees = 0;
	size_t orphans = 0; /* forked children whose parent's profile is not here */
	for (size_t i = 0; i < n; i++) {
		if (parent_among(rs, n, i))
			prof_drop_inherited(rs[i].p);
		else
			orphans += rs[i].p->has_fork;
	}
	for (size_t i = 0; i < n; i++) {
		const struct profile *p = rs[i].p;
		match_add(&m, &rs[i], 0);
		peaks += p->peak.live_bytes;
		allocs += p->tot.allocs;
		frees += p->tot.frees;
		bytes += p->tot.bytes_total;
		temps += p->tot.temp_allocs;
		leaked += p->tot.live_bytes;
	}
	fprintf(out, "memlens heap profiles of %zu processes, merged (stacks matched by their frames, figures summed)\n",
	        n);
	fprintf(out, "  a forked child's figures start from its parent's at the fork: here what a process allocated\n"
	             "  before a fork counts once, in the parent (what is live counts in each process that has it)\n");
	if (orphans)
		fprintf(out, "  %zu forked process%s whose parent's profile is not among these: what %s inherited counts "
		        "in %s\n", orphans, orphans == 1 ? "" : "es", orphans == 1 ? "it" : "they",
		        orphans == 1 ? "it" : "them");
	fprintf(out, "\nSummary\n");
	fprintf(out, "  allocations      %" PRIu64 " (%" PRIu64 " bytes requested); %" PRIu64 " frees\n", allocs,
	        bytes, frees);
	fprintf(out, "  peak heap        %" PRIu64 " bytes: the sum of each process's own peak\n", peaks);
	fprintf(out, "  live when written %" PRIu64 " bytes (leaked at exit, or live at an exec)\n", leaked);
	fprintf(out, "  temporary        %" PRIu64 " allocations\n", temps);

	static const struct { const char *title; int field; const char *unit; } secs[] = {
		{ "Peak: top stacks by bytes live at their process's peak", SF_PEAK_BYTES, "bytes" },
		{ "Churn: top stacks by bytes allocated", SF_BYTES_TOTAL, "bytes" },
		{ "Allocations: top stacks by allocations", SF_ALLOCS, "allocations" },
		{ "Temporary: top stacks by temporary allocations", SF_TEMP_ALLOCS, "allocations" },
		{ "Live: stacks with blocks live when written (at exit: leaked)", SF_LIVE_BYTES, "bytes" },
	};
	size_t *ord = xmalloc((m.n ? m.n : 1) * sizeof *ord);
	g_m = &m;
	for (size_t k = 0; k < sizeof secs / sizeof secs[0]; k++) {
		size_t nv = 0;
		for (size_t i = 0; i < m.n; i++)
			if (m.s[i].f[0][secs[k].field])
				ord[nv++] = i;
		g_field = secs[k].field;
		qsort(ord, nv, sizeof *ord, cmp_fig);
		fprintf(out, "\n%s\n", secs[k].title);
		if (!nv)
			fprintf(out, "  (none)\n");
		for (size_t i = 0; i < nv && i < top; i++) {
			const uint64_t *f = m.s[ord[i]].f[0];
			fprintf(out, "  #%zu  %" PRIu64 " %s; %" PRIu64 " allocation%s, %" PRIu64 " bytes in all, %" PRIu64
			        " bytes leaked\n", i + 1, f[secs[k].field], secs[k].unit, f[SF_ALLOCS],
			        f[SF_ALLOCS] == 1 ? "" : "s", f[SF_BYTES_TOTAL], f[SF_LIVE_BYTES]);
			report_print_stack(m.s[ord[i]].r, out, m.s[ord[i]].node);
		}
		if (nv > top)
			fprintf(out, "  ... and %zu more stacks\n", nv - top);
	}
	free(ord);
	match_free(&m);
	return 0;
}

int report_procs(struct report *rs, const char *const *files, size_t n, int merged, unsigned top, FILE *out)
{
	return merged ? merge(rs, n, top, out) : tree(rs, files, n, out);
}
