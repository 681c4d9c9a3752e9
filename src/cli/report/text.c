/* text.c: the text report (--format text, the default): the run's summary,
 * then the top stacks (--top) by bytes live at the peak, by bytes
 * allocated (churn), by temporary allocations, and the stacks live when
 * the file was written (leaks, at exit), each with its symbolized frames. */
#include "exporter.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

void fmt_bytes(uint64_t b, char *buf, size_t len)
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

void report_print_stack(struct report *r, FILE *out, uint32_t node)
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


/* Stacks with a nonzero figure k, largest first. */
static size_t rank(struct report *r, int k, struct ranked *out)
{
	size_t n = 0;
	for (size_t i = 0; i < r->p->nstacks; i++)
		if (r->p->stacks[i].f[k])
			out[n++] = (struct ranked){ r->p->stacks[i].f[k], i };
	qsort(out, n, sizeof *out, rank_cmp);
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
		report_print_stack(r, out, p->stacks[rk[shown].i].node);
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
		report_print_stack(r, out, p->stacks[rk[shown].i].node);
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
		report_print_stack(r, out, p->stacks[rk[shown].i].node);
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
		report_print_stack(r, out, p->stacks[rk[shown].i].node);
	}
	more_line(out, shown, n, rk, "bytes");
	free(rk);
	return 0;
}
