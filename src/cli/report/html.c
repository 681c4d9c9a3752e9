/* html.c: --format html, one self-contained page: a summary, a flame graph
 * (five weights), the heap over time and tables of the top stacks.
 *
 * The page is the profile's figures as JSON in a <script
 * type="application/json"> element, followed by the page's scripts and
 * styles: web/report.{js,css} and the libraries they draw with (d3,
 * d3-flame-graph, uPlot), which the build bundles from web/node_modules
 * into one file, share/memlens/html-report.html beside bin/ (the build tree
 * has the install's layout).  It is read at run time, so nothing here knows
 * the libraries; without it the format says how to make it.  The tree, the
 * frames, the timeline and the page around them are htmlpage.c's, shared
 * with memlens diff --format html.
 *
 * What is embedded stays small for any profile: the flame graphs are
 * aggregated (htmlpage.h) and the tables get the HTML_TOP stacks of each
 * weight. */
#include "htmlpage.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define HTML_TOP 2000              /* stacks per weight in the tables */


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
static void emit_stacks(struct html *h, struct report *r)
{
	const struct profile *p = r->p;
	struct ranked *rk = xmalloc((p->nstacks + 1) * sizeof *rk);
	char *sel = xcalloc(p->nstacks + 1, 1);
	for (int m = 0; m < HW_N; m++) {
		size_t n = 0;
		for (size_t i = 0; i < p->nstacks; i++)
			if (p->stacks[i].f[hw_field[m]])
				rk[n++] = (struct ranked){ p->stacks[i].f[hw_field[m]], i };
		qsort(rk, n, sizeof *rk, rank_cmp);
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
		fprintf(h->out, "%s[%" PRIu32, first ? "" : ",\n", html_stack_site(h, r, p->stacks[i].node));
		first = 0;
		for (size_t k = 0; k < NSF; k++)
			fprintf(h->out, ",%" PRIu64, p->stacks[i].f[stack_fields[k]]);
		putc(']', h->out);
	}
	fputs("],\n", h->out);
	html_emit_sites(h);
	free(sel);
	free(rk);
}

static void emit_summary(struct html *h, struct report *r)
{
	const struct profile *p = r->p;
	const struct prof_totals *t = &p->tot;
	static const char *const reasons[] = { "exit", "signal", "snapshot", "exec" };
	uint64_t temp_bytes = 0;
	for (size_t i = 0; i < p->nstacks; i++)
		temp_bytes += p->stacks[i].f[SF_TEMP_BYTES];
	FILE *o = h->out;
	fputs("\"format\":\"memlens-html\",\"version\":1,\n\"file\":", o);
	json_str_script(o, r->o->file ? base_name(r->o->file) : "");
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

int report_html(struct report *r, FILE *out)
{
	size_t alen;
	char *asset = html_asset("memlens report", &alen);
	if (!asset)
		return -1;
	struct html h = { .out = out, .nsides = 1 };
	html_add_profile(&h, r, 0);

	char title[512];
	snprintf(title, sizeof title, "memlens: %s heap profile", base_name(r->p->exe[0] ? r->p->exe : "?"));
	html_page_begin(out, "memlens report --format html", title);
	emit_summary(&h, r);
	fputs("\"timeline\":", out);
	html_emit_timeline(out, r->p);
	fputs(",\n", out);
	html_emit_flames(&h);
	emit_stacks(&h, r);
	html_emit_frames(&h);
	html_page_end(out, asset, alen);

	free(asset);
	html_free(&h);
	return 0;
}
