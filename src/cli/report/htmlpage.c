/* htmlpage.c: what the html pages share (htmlpage.h). */
#include "htmlpage.h"
#include "cli/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTML_ASSET "share/memlens/html-report.html"

const char *const hw_names[HW_N] = { "peak", "churn", "allocs", "temp", "leaks" };
const int hw_field[HW_N] = { SF_PEAK_BYTES, SF_BYTES_TOTAL, SF_ALLOCS, SF_TEMP_ALLOCS, SF_LIVE_BYTES };
const int hw_second[HW_N] = { SF_PEAK_BLOCKS, SF_ALLOCS, SF_BYTES_TOTAL, SF_TEMP_BYTES, SF_LIVE_BLOCKS };

/* The internal id of xframe x of r, its function's id in *func. */
static uint32_t frame_id(struct html *h, struct report *r, const struct xframe *x, uint32_t *func)
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
	const char *mod = x->sp->mod >= 0 ? base_name(r->p->mods[x->sp->mod].path) : "";
	char name[1024], key[3072];
	if (f->func)
		snprintf(name, sizeof name, "%s", f->func);
	else
		frame_func(r, x, name, sizeof name);
	snprintf(key, sizeof key, "%s\037%s", name, h->by_name && f->func ? "" : mod);
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

static void add_figs(struct fnode *n, const uint64_t *f, int side)
{
	for (int m = 0; m < HW_N; m++) {
		n->v[side][m] += f[hw_field[m]];
		n->s[side][m] += f[hw_second[m]];
	}
}

/* The stack's figures added to the nodes of its path, outermost first. */
void html_add_stack(struct html *h, struct report *r, uint32_t node, const uint64_t *f, int side)
{
	if (!h->nfn) { /* the root: fn[0], its own parent */
		fnode_child(h, 0, UINT32_MAX, 0);
		h->fn[0].child = h->fn[0].sibling = 0;
	}
	const struct xframe *xf;
	size_t nf = report_frames(r, node, &xf);
	uint32_t at = 0;
	add_figs(&h->fn[0], f, side);
	for (size_t k = nf; k-- > 0;) {
		uint32_t func, fr = frame_id(h, r, &xf[k], &func);
		at = fnode_child(h, at, func, fr);
		add_figs(&h->fn[at], f, side);
	}
}

void html_add_profile(struct html *h, struct report *r, int side)
{
	const struct profile *p = r->p;
	for (size_t i = 0; i < p->nstacks; i++)
		html_add_stack(h, r, p->stacks[i].node, p->stacks[i].f, side);
}

/* ---- the flame graphs ---------------------------------------------------- */

static int hw_sort;                /* the weight cmp_kids orders by */
static const struct fnode *sort_fn;

/* A node's size for merging and order: the larger side's. */
static uint64_t fsize(const struct fnode *n, int m)
{
	return n->v[0][m] > n->v[1][m] ? n->v[0][m] : n->v[1][m];
}

static int cmp_kids(const void *a, const void *b)
{
	uint64_t x = fsize(&sort_fn[*(const uint32_t *)a], hw_sort), y = fsize(&sort_fn[*(const uint32_t *)b], hw_sort);
	return x > y ? -1 : x < y;
}

/* The figures of a node: NEW's then BASE's with two sides. */
static void put_figs(struct html *h, const uint64_t v[2], const uint64_t s[2])
{
	if (h->nsides == 2)
		fprintf(h->out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, v[1], s[1], v[0], s[0]);
	else
		fprintf(h->out, ",%" PRIu64 ",%" PRIu64, v[0], s[0]);
}

/* Node i of weight m as [frame, figures, [children]], its children
 * heaviest first; those below thr merged into [-1, figures, count] (one
 * alone keeps its name, as a leaf [frame, figures]).  The root's frame
 * is -2. */
static void emit_node(struct html *h, uint32_t i, int m, uint64_t thr)
{
	FILE *o = h->out;
	size_t n = 0;
	for (uint32_t k = h->fn[i].child; k; k = h->fn[k].sibling)
		n += fsize(&h->fn[k], m) > 0;
	fprintf(o, "[%" PRId64, i ? (int64_t)frame_out(h, h->fn[i].frame) : -2);
	put_figs(h, (uint64_t[2]){ h->fn[i].v[0][m], h->fn[i].v[1][m] },
	         (uint64_t[2]){ h->fn[i].s[0][m], h->fn[i].s[1][m] });
	if (n) {
		uint32_t *kids = xmalloc(n * sizeof *kids);
		n = 0;
		for (uint32_t k = h->fn[i].child; k; k = h->fn[k].sibling)
			if (fsize(&h->fn[k], m) > 0)
				kids[n++] = k;
		hw_sort = m;
		sort_fn = h->fn;
		qsort(kids, n, sizeof *kids, cmp_kids);
		uint64_t sv[2] = { 0, 0 }, ss[2] = { 0, 0 };
		size_t ns = 0, first = 1;
		fputs(",[", o);
		for (size_t k = 0; k < n; k++) {
			const struct fnode *c = &h->fn[kids[k]];
			if (fsize(c, m) >= thr) {
				if (!first)
					putc(',', o);
				first = 0;
				emit_node(h, kids[k], m, thr);
				continue;
			}
			for (int d = 0; d < 2; d++) {
				sv[d] += c->v[d][m];
				ss[d] += c->s[d][m];
			}
			ns++;
		}
		if (ns == 1) {
			fprintf(o, "%s[%" PRIu32, first ? "" : ",", frame_out(h, h->fn[kids[n - 1]].frame));
			put_figs(h, sv, ss);
			putc(']', o);
		} else if (ns) {
			fprintf(o, "%s[-1", first ? "" : ",");
			put_figs(h, sv, ss);
			fprintf(o, ",%zu]", ns);
		}
		putc(']', o);
		free(kids);
	}
	putc(']', o);
}

void html_emit_flames(struct html *h)
{
	if (!h->nfn) { /* no stack: a root alone */
		fnode_child(h, 0, UINT32_MAX, 0);
		h->fn[0].child = h->fn[0].sibling = 0;
	}
	fputs("\"flame\":{", h->out);
	for (int m = 0; m < HW_N; m++) {
		uint64_t total = fsize(&h->fn[0], m), thr = total / HTML_SMALL + (total % HTML_SMALL != 0);
		fprintf(h->out, "%s\"%s\":", m ? ",\n" : "", hw_names[m]);
		emit_node(h, 0, m, thr ? thr : 1);
	}
	fputs("},\n", h->out);
}

/* ---- stacks and frames ----------------------------------------------------- */

uint32_t html_stack_site(struct html *h, struct report *r, uint32_t node)
{
	const struct xframe *xf;
	size_t nf = report_frames(r, node, &xf);
	uint32_t at = 0;
	for (size_t k = nf; k-- > 0;) {
		uint32_t func, fr = frame_out(h, frame_id(h, r, &xf[k], &func));
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

void html_emit_sites(struct html *h)
{
	fputs("\"sites\":[", h->out);
	for (size_t i = 0; i < 2 * h->nsites; i++)
		fprintf(h->out, "%s%" PRIu32, i ? "," : "", h->sites[i]);
	fputs("],\n", h->out);
}

/* file "" and line 0 when unknown. */
void html_emit_frames(struct html *h)
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
 * point) too. */
void html_emit_timeline(FILE *out, const struct profile *p)
{
	size_t n = p->ntime, keep = n < HTML_TIME_POINTS ? n : HTML_TIME_POINTS;
	size_t *pick = xmalloc((keep + 1) * sizeof *pick);
	for (size_t b = 0; b < keep; b++) {
		size_t lo = b * n / keep, hi = (b + 1) * n / keep, best = lo;
		for (size_t i = lo; i < hi; i++)
			if (p->timeline[i].live_bytes > p->timeline[best].live_bytes)
				best = i;
		pick[b] = best;
	}
	fprintf(out, "{\"points\":%zu,\"t_ns\":[", n);
	for (size_t b = 0; b < keep; b++)
		fprintf(out, "%s%" PRIu64, b ? "," : "", p->timeline[pick[b]].t_ns);
	fputs("],\"live_bytes\":[", out);
	for (size_t b = 0; b < keep; b++)
		fprintf(out, "%s%" PRIu64, b ? "," : "", p->timeline[pick[b]].live_bytes);
	if (p->has_rss) {
		fputs("],\"rss\":[", out);
		for (size_t b = 0; b < keep; b++)
			fprintf(out, "%s%" PRIu64, b ? "," : "", p->timeline[pick[b]].rss);
	}
	fputs("]}", out);
	free(pick);
}

/* ---- the page ---------------------------------------------------------------- */

/* The bundle of scripts and styles, share/memlens/html-report.html above
 * the directory of memlens's executable. */
char *html_asset(const char *cmd, size_t *len)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		fprintf(stderr, "%s: --format html: cannot find memlens's own directory "
		        "(/proc/self/exe: %s)\n", cmd, strerror(errno));
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
		fprintf(stderr, "%s: --format html needs %s (the page's scripts): %s; "
		        "it is made by `make deps && make' and installed by `make install'\n", cmd, path,
		        strerror(errno));
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
		fprintf(stderr, "%s: --format html: %s: %s\n", cmd, path, bad ? "read error" : "empty");
		free(buf);
		return NULL;
	}
	return buf;
}

void html_page_begin(FILE *out, const char *generator, const char *title)
{
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"generator\" content=\"%s\">\n<title>", generator);
	/* the title's text: '<' and '&' as entities */
	char name[512];
	text_esc(title, name, sizeof name, ESC_TEXT);
	for (const char *s = name; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else
			putc(*s, out);
	}
	fputs("</title>\n<script type=\"application/json\" id=\"memlens-data\">{", out);
}

void html_page_end(FILE *out, const char *asset, size_t len)
{
	fputs("}</script>\n", out);
	fwrite(asset, 1, len, out);
}

void html_free(struct html *h)
{
	st_free(&h->frames);
	st_free(&h->funcs);
	free(h->frame_out);
	free(h->frame_order);
	free(h->fn);
	free(h->fmap.e);
	free(h->smap.e);
	free(h->xmap.e);
	free(h->sites);
}
