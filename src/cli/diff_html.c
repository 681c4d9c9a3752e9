/* diff_html.c: memlens diff --format html, one self-contained page: both
 * profiles' totals and their changes, which --fail-if conditions hold, a
 * differential flame graph, both timelines, and the stacks that grew and
 * shrank most per measure.
 *
 * It is the page of memlens report --format html (report/htmlpage.h: the
 * same bundle of scripts, which draws a diff when the JSON's "format" is
 * "memlens-diff-html"; web/report.js).  The flame tree is the union of
 * both profiles' matched stacks, merged by function name (not module: the
 * two executables' names may differ), every node with NEW's figures and
 * BASE's; the page sizes it by NEW, by BASE or by the larger of the two
 * and colours each frame by its change. */
#include "diff.h"
#include "report/htmlpage.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_HTML_TOP 200          /* growths, and shrinks, per measure */

static const char *const measure_names[M_N] = { "peak", "churn", "allocs", "temps", "leaked" };

static const int stack_fields[] = {
	SF_ALLOCS, SF_BYTES_TOTAL, SF_PEAK_BYTES, SF_PEAK_BLOCKS, SF_TEMP_ALLOCS, SF_TEMP_BYTES,
	SF_LIVE_BYTES, SF_LIVE_BLOCKS
};
static const char *const stack_field_names[] = {
	"allocs", "bytes_total", "peak_bytes", "peak_blocks", "temp_allocs", "temp_bytes",
	"live_bytes", "live_blocks"
};
#define NSF (sizeof stack_fields / sizeof stack_fields[0])

static void side(FILE *o, const char *label, const char *file, const struct profile *p)
{
	static const char *const reasons[] = { "exit", "signal", "snapshot", "exec" };
	uint64_t temp_bytes = 0;
	for (size_t i = 0; i < p->nstacks; i++)
		temp_bytes += p->stacks[i].f[SF_TEMP_BYTES];
	fprintf(o, "{\"label\":\"%s\",\"file\":", label);
	json_str_script(o, file);
	fputs(",\"exe\":", o);
	json_str_script(o, p->exe);
	fprintf(o, ",\"pid\":%" PRIu64 ",\"reason\":\"%s\",\"duration_ns\":%" PRIu64 ",\"sample_bytes\":%" PRIu64
	        ",\"nstacks\":%zu,\n\"totals\":{", p->pid, p->reason < 4 ? reasons[p->reason] : "other",
	        p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0, p->sample_bytes, p->nstacks);
	for (int m = 0; m < M_N; m++)
		fprintf(o, "\"%s\":%" PRIu64 ",", measure_names[m], diff_total(p, m));
	fprintf(o, "\"temp_bytes\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"leaked_blocks\":%" PRIu64 "},\n",
	        temp_bytes, p->tot.frees, p->tot.live_blocks);
	if (p->has_peak || p->ntime)
		fprintf(o, "\"peak\":{\"t_ns\":%" PRIu64 ",\"live_bytes\":%" PRIu64 ",\"live_blocks\":%" PRIu64 "},\n",
		        p->peak.t_ns, p->peak.live_bytes, p->peak.live_blocks);
	else
		fputs("\"peak\":null,\n", o);
	fputs("\"timeline\":", o);
	html_emit_timeline(o, p);
	fputs("}", o);
}

struct ranked_delta {
	int64_t d;
	size_t i;
};

static int cmp_delta(const void *a, const void *b)
{
	const struct ranked_delta *x = a, *y = b;
	if (x->d != y->d)
		return x->d > y->d ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The DIFF_HTML_TOP stacks that grew most and shrank most per measure,
 * as [site, in BASE, in NEW, BASE's figures..., NEW's figures...]. */
static void emit_stacks(struct diff *d, struct html *h)
{
	size_t n = d->m.n;
	struct ranked_delta *rk = xmalloc((n + 1) * sizeof *rk);
	char *sel = xcalloc(n + 1, 1);
	for (int m = 0; m < M_N; m++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const struct mstack *s = &d->m.s[i];
			int64_t dv = (int64_t)(s->f[1][hw_field[m]] - s->f[0][hw_field[m]]);
			if (dv)
				rk[k++] = (struct ranked_delta){ dv, i };
		}
		qsort(rk, k, sizeof *rk, cmp_delta);
		for (size_t j = 0; j < k && j < DIFF_HTML_TOP && rk[j].d > 0; j++)
			sel[rk[j].i] = 1;
		for (size_t j = 0; j < k && j < DIFF_HTML_TOP && rk[k - 1 - j].d < 0; j++)
			sel[rk[k - 1 - j].i] = 1;
	}
	fputs("\"stack_fields\":[", h->out);
	for (size_t k = 0; k < NSF; k++)
		fprintf(h->out, "%s\"%s\"", k ? "," : "", stack_field_names[k]);
	fputs("],\n\"stacks\":[", h->out);
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		const struct mstack *s = &d->m.s[i];
		if (!sel[i])
			continue;
		fprintf(h->out, "%s[%" PRIu32 ",%d,%d", first ? "" : ",\n", html_stack_site(h, s->r, s->node),
		        s->in[0], s->in[1]);
		first = 0;
		for (int side = 0; side < 2; side++)
			for (size_t k = 0; k < NSF; k++)
				fprintf(h->out, ",%" PRIu64, s->f[side][stack_fields[k]]);
		putc(']', h->out);
	}
	fputs("],\n", h->out);
	html_emit_sites(h);
	free(sel);
	free(rk);
}

int diff_html(struct diff *d, FILE *out)
{
	size_t alen;
	char *asset = html_asset("memlens diff", &alen);
	if (!asset)
		return -1;
	struct html h = { .out = out, .nsides = 2, .by_name = 1 };
	/* NEW first: a frame's file:line is the first one seen */
	for (int side = 1; side >= 0; side--)
		for (size_t i = 0; i < d->m.n; i++)
			if (d->m.s[i].in[side])
				html_add_stack(&h, d->m.s[i].r, d->m.s[i].node, d->m.s[i].f[side], side);

	char title[512];
	const struct profile *n = d->r[1].p;
	snprintf(title, sizeof title, "memlens diff: %s", base_name(n->exe[0] ? n->exe : "?"));
	html_page_begin(out, "memlens diff --format html", title);
	fputs("\"format\":\"memlens-diff-html\",\"version\":1,\n\"sides\":[", out);
	side(out, "BASE", d->file[0], d->r[0].p);
	fputs(",\n", out);
	side(out, "NEW", d->file[1], n);
	fputs("],\n\"fail_if\":[", out);
	for (size_t i = 0; i < d->nconds; i++) {
		fputs(i ? ",{\"expr\":" : "{\"expr\":", out);
		json_str_script(out, d->cond_text[i]);
		fprintf(out, ",\"holds\":%s,\"why\":", d->cond_holds[i] ? "true" : "false");
		json_str_script(out, d->cond_holds[i] ? d->cond_why[i] : "");
		putc('}', out);
	}
	fprintf(out, "],\n\"nstacks\":%zu,\"top\":%d,\"small\":%d,\n", d->m.n, DIFF_HTML_TOP, HTML_SMALL);
	html_emit_flames(&h);
	emit_stacks(d, &h);
	html_emit_frames(&h);
	html_page_end(out, asset, alen);

	free(asset);
	html_free(&h);
	return 0;
}
