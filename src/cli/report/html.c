/* html.c: --format html, one self-contained page: a summary, a flame graph
 * (five weights), the heap over time and tables of the top stacks.
 *
 * The page is the profile's figures as JSON in a <script
 * type="application/json"> element, followed by the page's scripts and
 * styles: web/report.{js,css} and the libraries they draw with (d3,
 * d3-flame-graph, uPlot), which the build bundles from web/node_modules
 * into one file, share/memlens/html-report.html beside bin/ (the build tree
 * has the install's layout).  It is read at run time, so nothing here knows
 * the libraries; without it the format says how to make it.
 *
 * What is embedded stays small for any profile: the flame graph of each
 * weight is aggregated here, every node below HTML_SMALL of the weight's
 * total merged into one "(small frames)" node per parent, and the tables get
 * the HTML_TOP stacks of each weight.  The timeline keeps at most
 * HTML_TIME_POINTS points, the highest of each stretch. */
#include "exporter.h"
#include "tables.h"
#include "cli/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTML_SMALL 1000            /* frames below total / HTML_SMALL are merged */
#define HTML_TOP 2000              /* stacks per weight in the tables */
#define HTML_TIME_POINTS 8000      /* timeline points kept */
#define HTML_ASSET "share/memlens/html-report.html"

/* The weights, in the page's order: what a flame node weighs and the
 * second figure its tooltip gives. */
enum { HW_PEAK, HW_CHURN, HW_ALLOCS, HW_TEMP, HW_LEAKS, HW_N };
static const char *const hw_names[HW_N] = { "peak", "churn", "allocs", "temp", "leaks" };
static const int hw_field[HW_N] = { SF_PEAK_BYTES, SF_BYTES_TOTAL, SF_ALLOCS, SF_TEMP_ALLOCS, SF_LIVE_BYTES };
static const int hw_second[HW_N] = { SF_PEAK_BLOCKS, SF_ALLOCS, SF_BYTES_TOTAL, SF_TEMP_BYTES, SF_LIVE_BLOCKS };

/* A node of the call tree merged by function: the flame graphs' nodes. */
struct fnode {
	uint32_t parent, frame;        /* frame: the first one seen (its file:line) */
	uint32_t child, sibling;       /* first child, next sibling; 0: none */
	uint64_t v[HW_N], s[HW_N];
};

struct html {
	struct report *r;
	FILE *out;
	struct strtab frames;          /* frame key -> internal frame id */
	struct strtab funcs;           /* function key -> id (flame merging) */
	int32_t *frame_out;            /* internal id -> index in "frames", -1 */
	size_t capout, nout;
	uint32_t *frame_order;         /* "frames" index -> internal id */
	struct fnode *fn;              /* fn[0]: the root */
	size_t nfn, capfn;
	struct kmap fmap;              /* (parent, func) -> fnode */
	struct kmap smap;              /* (parent site, frame) -> site */
	struct kmap xmap;              /* (sym_pc, frame index) -> frame | func << 32 */
	uint32_t *sites;               /* pairs: parent site, output frame */
	size_t nsites, capsites;
};

/* The internal id of xframe x, its function's id in *func. */
static uint32_t frame_id(struct html *h, const struct xframe *x, uint32_t *func)
{
	/* each pc is symbolized once and kept, so its frames' ids are too:
	 * the keys below are made once per frame, not once per stack */
	int found;
	struct kent *e = km_slot(&h->xmap, (uint64_t)(uintptr_t)x->sp, x->idx, 0, &found);
	if (found) {
		*func = (uint32_t)(e->v >> 32);
		return (uint32_t)e->v;
	}
	const struct sym_frame *f = &x->sp->frames[x->idx];
	const char *mod = x->sp->mod >= 0 ? base_name(h->r->p->mods[x->sp->mod].path) : "";
	char name[1024], key[3072];
	if (f->func)
		snprintf(name, sizeof name, "%s", f->func);
	else
		frame_func(h->r, x, name, sizeof name);
	snprintf(key, sizeof key, "%s\037%s", name, mod);
	*func = st_index(&h->funcs, key);
	snprintf(key, sizeof key, "%s\037%s\037%s\037%u\037%d", name, mod, f->file ? f->file : "", f->line,
	         f->inlined);
	uint32_t id = st_index(&h->frames, key);
	e->v = id | (uint64_t)*func << 32;
	return id;
}

/* Its index in the page's frame table, given one when new: only the
 * frames the page shows are written. */
static uint32_t frame_out(struct html *h, uint32_t id)
{
	if (id >= h->capout) {
		size_t n = h->capout ? h->capout : 1024;
		while (n <= id)
			n *= 2;
		h->frame_out = xrealloc(h->frame_out, n * sizeof *h->frame_out);
		h->frame_order = xrealloc(h->frame_order, n * sizeof *h->frame_order);
		for (size_t i = h->capout; i < n; i++)
			h->frame_out[i] = -1;
		h->capout = n;
	}
	if (h->frame_out[id] < 0) {
		h->frame_order[h->nout] = id;
		h->frame_out[id] = (int32_t)h->nout++;
	}
	return (uint32_t)h->frame_out[id];
}

static uint32_t fnode_child(struct html *h, uint32_t parent, uint32_t func, uint32_t frame)
{
	int found;
	struct kent *e = km_slot(&h->fmap, parent, func, 0, &found);
	if (found)
		return (uint32_t)e->v;
	if (h->nfn == h->capfn) {
		h->capfn = h->capfn ? h->capfn * 2 : 1024;
		h->fn = xrealloc(h->fn, h->capfn * sizeof *h->fn);
	}
	uint32_t i = (uint32_t)h->nfn++;
	memset(&h->fn[i], 0, sizeof h->fn[i]);
	h->fn[i].parent = parent;
	h->fn[i].frame = frame;
	h->fn[i].sibling = h->fn[parent].child;
	h->fn[parent].child = i;
	e->v = i;
	return i;
}

/* Every stack's figures added to the nodes of its path, outermost first. */
static void build_tree(struct html *h)
{
	const struct profile *p = h->r->p;
	fnode_child(h, 0, UINT32_MAX, 0); /* the root: fn[0], its own parent */
	h->fn[0].child = h->fn[0].sibling = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *st = &p->stacks[i];
		const struct xframe *xf;
		size_t nf = report_frames(h->r, st->node, &xf);
		uint32_t at = 0;
		for (int m = 0; m < HW_N; m++) {
			h->fn[0].v[m] += st->f[hw_field[m]];
			h->fn[0].s[m] += st->f[hw_second[m]];
		}
		for (size_t k = nf; k-- > 0;) {
			uint32_t func, fr = frame_id(h, &xf[k], &func);
			at = fnode_child(h, at, func, fr);
			for (int m = 0; m < HW_N; m++) {
				h->fn[at].v[m] += st->f[hw_field[m]];
				h->fn[at].s[m] += st->f[hw_second[m]];
			}
		}
	}
}

/* ---- writing ----------------------------------------------------------- */

static int hw_sort;                /* the weight cmp_kids orders by */
static const struct fnode *sort_fn;

static int cmp_kids(const void *a, const void *b)
{
	uint64_t x = sort_fn[*(const uint32_t *)a].v[hw_sort], y = sort_fn[*(const uint32_t *)b].v[hw_sort];
	return x > y ? -1 : x < y;
}

/* Node i of weight m as [frame, value, second, [children]], its children
 * heaviest first; those below thr merged into [-1, value, second, count]
 * (one alone keeps its name, as a leaf [frame, value, second]).  The
 * root's frame is -2. */
static void emit_node(struct html *h, uint32_t i, int m, uint64_t thr)
{
	FILE *o = h->out;
	size_t n = 0;
	for (uint32_t k = h->fn[i].child; k; k = h->fn[k].sibling)
		n += h->fn[k].v[m] > 0;
	fprintf(o, "[%" PRId64 ",%" PRIu64 ",%" PRIu64, i ? (int64_t)frame_out(h, h->fn[i].frame) : -2,
	        h->fn[i].v[m], h->fn[i].s[m]);
	if (n) {
		uint32_t *kids = xmalloc(n * sizeof *kids);
		n = 0;
		for (uint32_t k = h->fn[i].child; k; k = h->fn[k].sibling)
			if (h->fn[k].v[m] > 0)
				kids[n++] = k;
		hw_sort = m;
		sort_fn = h->fn;
		qsort(kids, n, sizeof *kids, cmp_kids);
		uint64_t sv = 0, ss = 0;
		size_t ns = 0, first = 1;
		fputs(",[", o);
		for (size_t k = 0; k < n; k++) {
			const struct fnode *c = &h->fn[kids[k]];
			if (c->v[m] >= thr) {
				if (!first)
					putc(',', o);
				first = 0;
				emit_node(h, kids[k], m, thr);
				continue;
			}
			sv += c->v[m];
			ss += c->s[m];
			ns++;
		}
		if (ns == 1)
			fprintf(o, "%s[%" PRIu32 ",%" PRIu64 ",%" PRIu64 "]", first ? "" : ",",
			        frame_out(h, h->fn[kids[n - 1]].frame), sv, ss);
		else if (ns)
			fprintf(o, "%s[-1,%" PRIu64 ",%" PRIu64 ",%zu]", first ? "" : ",", sv, ss, ns);
		putc(']', o);
		free(kids);
	}
	putc(']', o);
}

static void emit_flames(struct html *h)
{
	fputs("\"flame\":{", h->out);
	for (int m = 0; m < HW_N; m++) {
		uint64_t total = h->fn[0].v[m], thr = total / HTML_SMALL + (total % HTML_SMALL != 0);
		fprintf(h->out, "%s\"%s\":", m ? ",\n" : "", hw_names[m]);
		emit_node(h, 0, m, thr ? thr : 1);
	}
	fputs("},\n", h->out);
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

/* The site (a node of the tree of exact frames, 1-based) of stack st. */
static uint32_t stack_site(struct html *h, const struct prof_stack *st)
{
	const struct xframe *xf;
	size_t nf = report_frames(h->r, st->node, &xf);
	uint32_t at = 0;
	for (size_t k = nf; k-- > 0;) {
		uint32_t func, fr = frame_out(h, frame_id(h, &xf[k], &func));
		int found;
		struct kent *e = km_slot(&h->smap, at, fr, 0, &found);
		if (!found) {
			if (h->nsites == h->capsites) {
				h->capsites = h->capsites ? h->capsites * 2 : 4096;
				h->sites = xrealloc(h->sites, h->capsites * 2 * sizeof *h->sites);
			}
			h->sites[2 * h->nsites] = at;
			h->sites[2 * h->nsites + 1] = fr;
			e->v = ++h->nsites;
		}
		at = (uint32_t)e->v;
	}
	return at;
}

static const int stack_fields[] = {
	SF_ALLOCS, SF_BYTES_TOTAL, SF_PEAK_BYTES, SF_PEAK_BLOCKS, SF_TEMP_ALLOCS, SF_TEMP_BYTES,
	SF_LIVE_BYTES, SF_LIVE_BLOCKS, SF_MAX_LIVE_BYTES, SF_MAX_BYTES
};
static const char *const stack_field_names[] = {
	"allocs", "bytes_total", "peak_bytes", "peak_blocks", "temp_allocs", "temp_bytes",
	"live_bytes", "live_blocks", "max_live_bytes", "max_bytes"
};
#define NSF (sizeof stack_fields / sizeof stack_fields[0])

/* The HTML_TOP heaviest stacks of each weight, as [site, figures...]. */
static void emit_stacks(struct html *h)
{
	const struct profile *p = h->r->p;
	struct ranked *rk = xmalloc((p->nstacks + 1) * sizeof *rk);
	char *sel = xcalloc(p->nstacks + 1, 1);
	for (int m = 0; m < HW_N; m++) {
		size_t n = 0;
		for (size_t i = 0; i < p->nstacks; i++)
			if (p->stacks[i].f[hw_field[m]])
				rk[n++] = (struct ranked){ p->stacks[i].f[hw_field[m]], i };
		qsort(rk, n, sizeof *rk, cmp_ranked);
		for (size_t k = 0; k < n && k < HTML_TOP; k++)
			sel[rk[k].i] = 1;
	}
	fputs("\"stack_fields\":[\"site\"", h->out);
	for (size_t k = 0; k < NSF; k++)
		fprintf(h->out, ",\"%s\"", stack_field_names[k]);
	fputs("],\n\"stacks\":[", h->out);
	int first = 1;
	for (size_t i = 0; i < p->nstacks; i++) {
		if (!sel[i])
			continue;
		fprintf(h->out, "%s[%" PRIu32, first ? "" : ",\n", stack_site(h, &p->stacks[i]));
		first = 0;
		for (size_t k = 0; k < NSF; k++)
			fprintf(h->out, ",%" PRIu64, p->stacks[i].f[stack_fields[k]]);
		putc(']', h->out);
	}
	fputs("],\n\"sites\":[", h->out);
	for (size_t i = 0; i < 2 * h->nsites; i++)
		fprintf(h->out, "%s%" PRIu32, i ? "," : "", h->sites[i]);
	fputs("],\n", h->out);
	free(sel);
	free(rk);
}

/* [function, file, line, inlined, module] of each frame the page shows;
 * file "" and line 0 when unknown. */
static void emit_frames(struct html *h)
{
	fputs("\"frames\":[", h->out);
	for (size_t i = 0; i < h->nout; i++) {
		char *key = xstrdup(h->frames.strs[h->frame_order[i]]), *part[5] = { 0 }, *s = key;
		for (int k = 0; k < 5; k++) {
			part[k] = s;
			s = strchr(s, '\037');
			if (!s)
				break;
			*s++ = '\0';
		}
		fprintf(h->out, "%s\n[", i ? "," : "");
		json_str_script(h->out, part[0]);
		putc(',', h->out);
		json_str_script(h->out, part[2] ? part[2] : "");
		fprintf(h->out, ",%s,%s,", part[3] ? part[3] : "0", part[4] && part[4][0] == '1' ? "1" : "0");
		json_str_script(h->out, part[1] ? part[1] : "");
		putc(']', h->out);
		free(key);
	}
	fputs("]", h->out);
}

/* The timeline as columns; past HTML_TIME_POINTS, the highest point of
 * each stretch.  With the profile's RSS section, "rss" (bytes, one per
 * point) too, and the page draws it beside the heap. */
static void emit_timeline(struct html *h)
{
	const struct profile *p = h->r->p;
	size_t n = p->ntime, keep = n < HTML_TIME_POINTS ? n : HTML_TIME_POINTS;
	size_t *pick = xmalloc((keep + 1) * sizeof *pick);
	for (size_t b = 0; b < keep; b++) {
		size_t lo = b * n / keep, hi = (b + 1) * n / keep, best = lo;
		for (size_t i = lo; i < hi; i++)
			if (p->timeline[i].live_bytes > p->timeline[best].live_bytes)
				best = i;
		pick[b] = best;
	}
	fprintf(h->out, "\"timeline\":{\"points\":%zu,\"t_ns\":[", n);
	for (size_t b = 0; b < keep; b++)
		fprintf(h->out, "%s%" PRIu64, b ? "," : "", p->timeline[pick[b]].t_ns);
	fputs("],\"live_bytes\":[", h->out);
	for (size_t b = 0; b < keep; b++)
		fprintf(h->out, "%s%" PRIu64, b ? "," : "", p->timeline[pick[b]].live_bytes);
	if (p->has_rss) {
		fputs("],\"rss\":[", h->out);
		for (size_t b = 0; b < keep; b++)
			fprintf(h->out, "%s%" PRIu64, b ? "," : "", p->timeline[pick[b]].rss);
	}
	fputs("]},\n", h->out);
	free(pick);
}

static void emit_summary(struct html *h)
{
	const struct profile *p = h->r->p;
	const struct prof_totals *t = &p->tot;
	static const char *const reasons[] = { "exit", "signal", "snapshot", "exec" };
	uint64_t temp_bytes = 0;
	for (size_t i = 0; i < p->nstacks; i++)
		temp_bytes += p->stacks[i].f[SF_TEMP_BYTES];
	FILE *o = h->out;
	fputs("\"format\":\"memlens-html\",\"version\":1,\n\"file\":", o);
	json_str_script(o, h->r->o->file ? base_name(h->r->o->file) : "");
	fputs(",\"exe\":", o);
	json_str_script(o, p->exe);
	/* the profile records no command line yet; the page shows one when
	 * it is a string */
	fprintf(o, ",\"cmdline\":null,\"pid\":%" PRIu64 ",\"reason\":\"%s\",\"duration_ns\":%" PRIu64
	        ",\"wall_start_s\":%" PRIu64 ",\"sample_bytes\":%" PRIu64 ",\n",
	        p->pid, p->reason < 4 ? reasons[p->reason] : "other",
	        p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0, p->wall_start_s, p->sample_bytes);
	fprintf(o, "\"totals\":{\"allocs\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes_total\":%" PRIu64
	        ",\"temp_allocs\":%" PRIu64 ",\"temp_bytes\":%" PRIu64 ",\"leaked_blocks\":%" PRIu64
	        ",\"leaked_bytes\":%" PRIu64 ",\"samples\":%" PRIu64 "},\n",
	        t->allocs, t->frees, t->bytes_total, t->temp_allocs, temp_bytes, t->live_blocks, t->live_bytes,
	        t->samples);
	if (p->has_peak || p->ntime)
		fprintf(o, "\"peak\":{\"t_ns\":%" PRIu64 ",\"live_bytes\":%" PRIu64 ",\"live_blocks\":%" PRIu64
		        ",\"total\":%" PRIu64 "},\n", p->peak.t_ns, p->peak.live_bytes, p->peak.live_blocks,
		        p->peak.total);
	else
		fputs("\"peak\":null,\n", o);
	fprintf(o, "\"nstacks\":%zu,\"top\":%d,\"small\":%d,\n", p->nstacks, HTML_TOP, HTML_SMALL);
}

/* The bundle of scripts and styles, share/memlens/html-report.html above
 * the directory of memlens's executable; NULL after a message. */
static char *read_asset(size_t *len)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		fprintf(stderr, "memlens report: --format html: cannot find memlens's own directory "
		        "(/proc/self/exe: %s)\n", strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	for (int up = 0; up < 2; up++) { /* bin/memlens -> the prefix */
		char *s = strrchr(exe, '/');
		if (s)
			*s = '\0';
	}
	snprintf(path, sizeof path, "%s/%s", exe, HTML_ASSET);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "memlens report: --format html needs %s (the page's scripts): %s; "
		        "it is made by `make deps && make' and installed by `make install'\n", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		size_t k = fread(buf + *len, 1, cap - *len, f);
		*len += k;
		if (k == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad || *len == 0) {
		fprintf(stderr, "memlens report: --format html: %s: %s\n", path, bad ? "read error" : "empty");
		free(buf);
		return NULL;
	}
	return buf;
}

int report_html(struct report *r, FILE *out)
{
	size_t alen;
	char *asset = read_asset(&alen);
	if (!asset)
		return -1;
	struct html h = { .r = r, .out = out };
	build_tree(&h);

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"generator\" content=\"memlens report --format html\">\n<title>memlens: ", out);
	/* the title's text: the executable's name, '<' and '&' as entities */
	char name[256];
	text_esc(base_name(r->p->exe[0] ? r->p->exe : "?"), name, sizeof name, ESC_TEXT);
	for (const char *s = name; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else
			putc(*s, out);
	}
	fputs(" heap profile</title>\n<script type=\"application/json\" id=\"memlens-data\">{", out);
	emit_summary(&h);
	emit_timeline(&h);
	emit_flames(&h);
	emit_stacks(&h);
	emit_frames(&h);
	fputs("}</script>\n", out);
	fwrite(asset, 1, alen, out);

	free(asset);
	st_free(&h.frames);
	st_free(&h.funcs);
	free(h.frame_out);
	free(h.frame_order);
	free(h.fn);
	free(h.fmap.e);
	free(h.smap.e);
	free(h.xmap.e);
	free(h.sites);
	return 0;
}
