/* diff.c: `memlens diff BASE NEW`: two heap profiles compared stack by
 * stack.  Both are read and symbolized as `memlens report` does; their
 * stacks are matched by their symbolized frames (report/match.h), so two
 * builds of a program compare.  Written as text (totals, then the biggest
 * growths and shrinks per measure), pprof (NEW - BASE as sample values),
 * JSON or an html page (diff_html.c); --fail-if conditions on the totals
 * make it a CI gate.
 *
 * Exit statuses: 0 done and no condition held; 1 a condition held (one
 * line each on stderr, after the report), a file is not a valid profile
 * or OUT cannot be written; 2 usage error (a malformed condition too). */
#include "diff.h"
#include "output.h"
#include "cmdline.h"
#include "subcommands.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char diff_usage[] =
"Usage: memlens diff BASE NEW [--format text|pprof|json|html] [-o OUT]\n"
"                    [--fail-if EXPR]... [--top N] [--debug-dir DIR] [--full-names]\n"
"\n"
"Compares two heap profiles written by `memlens run --profile'.  Stacks are\n"
"matched by their symbolized frames (function, file and line of every frame,\n"
"inlined ones too; a frame without a symbol by its module's name and offset),\n"
"not by addresses, so two builds of one program compare.  Measures: peak\n"
"(bytes live at the peak), churn (bytes allocated), allocs (allocations),\n"
"temps (temporary allocations), leaked (bytes live at exit).\n"
"\n"
"  --format FORMAT  text (default): both files' totals and their changes, then\n"
"                   per measure the stacks that grew and shrank most;\n"
"                   pprof: a gzip'd profile.proto whose values are NEW - BASE\n"
"                   (negative for a shrink), for `pprof -top' and flame graphs;\n"
"                   json: totals and every stack's figures and changes;\n"
"                   html: one self-contained page (works offline): both\n"
"                   totals and their changes, the conditions of --fail-if,\n"
"                   a differential flame graph (NEW's tree, or BASE's, or\n"
"                   the larger of each frame's; red grew, blue shrank), both\n"
"                   timelines on one chart, the biggest growths and shrinks\n"
"                   per measure (needs share/memlens/html-report.html, see\n"
"                   `memlens report --help')\n"
"  -o, --output OUT write to OUT instead of standard output\n"
"  --fail-if EXPR   exit 1 when EXPR holds (repeatable; any one suffices):\n"
"                   MEASURE OP VALUE, OP one of > >= < <=.  VALUE with a sign\n"
"                   (+ or -) is compared with the change NEW - BASE: +5% (of\n"
"                   BASE's total; from a BASE of 0 any growth is infinitely\n"
"                   many %), +1MiB, -100; without a sign with NEW's total:\n"
"                   0, 10MiB.  A percentage needs a sign.  Units: B, KiB,\n"
"                   MiB, GiB, TiB (powers of 1024, byte measures only) and\n"
"                   k, M, G (powers of 1000); decimals allowed (1.5MiB).\n"
"                   Examples: 'peak>+5%' 'leaked>0' 'allocs>=+10%' 'peak>+1MiB'\n"
"  --top N          stacks per section of the text diff (default 10)\n"
"  --debug-dir DIR  also look for debug files in DIR (repeatable)\n"
"  --full-names     C++ names in full (see `memlens report --help')\n"
"  -h, --help       print this help\n"
"\n"
"Exit status: 0 no condition held; 1 a condition held (after the report, one\n"
"line per condition on stderr: `memlens diff: fail: ...'), or a file is not a\n"
"valid profile, or OUT cannot be written; 2 usage error.\n";

/* ---- measures ------------------------------------------------------------ */

static const struct {
	const char *name, *title;
	int field;                 /* the stack figure */
	int bytes;
} measures[M_N] = {
	{ "peak", "Peak (bytes live at the peak)", SF_PEAK_BYTES, 1 },
	{ "churn", "Churn (bytes allocated)", SF_BYTES_TOTAL, 1 },
	{ "allocs", "Allocations", SF_ALLOCS, 0 },
	{ "temps", "Temporary allocations", SF_TEMP_ALLOCS, 0 },
	{ "leaked", "Leaked (bytes live at exit)", SF_LIVE_BYTES, 1 },
};

uint64_t diff_total(const struct profile *p, int m)
{
	switch (m) {
	case M_PEAK: return p->peak.live_bytes;
	case M_CHURN: return p->tot.bytes_total;
	case M_ALLOCS: return p->tot.allocs;
	case M_TEMPS: return p->tot.temp_allocs;
	case M_LEAKED: return p->tot.live_bytes;
	}
	return 0;
}

static int64_t delta(uint64_t base, uint64_t now)
{
	return (int64_t)(now - base); /* two's complement: a shrink is negative */
}

/* "+1.5 KiB", "-512 B" */
static void fmt_sbytes(int64_t d, char *buf, size_t len)
{
	char b[48];
	fmt_bytes(d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d, b, sizeof b);
	snprintf(buf, len, "%c%s", d < 0 ? '-' : '+', b);
}

/* "+12.3%", "+inf%" (from nothing), "" for nothing to nothing */
static void fmt_pct(uint64_t base, int64_t d, char *buf, size_t len)
{
	if (base)
		snprintf(buf, len, "%+.1f%%", 100.0 * (double)d / (double)base);
	else
		snprintf(buf, len, d ? "+inf%%" : "+0.0%%");
}

/* ---- --fail-if ----------------------------------------------------------- */

enum { OP_GT, OP_GE, OP_LT, OP_LE };

struct cond {
	const char *text;
	int m, op;
	int rel;                   /* signed: compared with the change */
	int pct;                   /* a percentage of BASE's total */
	long double v;
};

static void __attribute__((noreturn, format(printf, 2, 3))) cond_error(const char *expr, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "memlens diff: --fail-if '%s': ", expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see `memlens diff --help')\n", stderr);
	exit(2);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static struct cond parse_cond(const char *expr)
{
	struct cond c = { expr, -1, 0, 0, 0, 0 };
	const char *s = skip_ws(expr), *w = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
		s++;
	for (int m = 0; m < M_N; m++)
		if ((size_t)(s - w) == strlen(measures[m].name) && !strncmp(w, measures[m].name, (size_t)(s - w)))
			c.m = m;
	if (c.m < 0)
		cond_error(expr, "%s `%.*s'; expected MEASURE OP VALUE, MEASURE one of peak, churn, allocs, temps, leaked",
		           s == w ? "no measure before" : "unknown measure", s == w ? (int)strlen(w) : (int)(s - w), w);
	s = skip_ws(s);
	if (s[0] == '>' || s[0] == '<') {
		c.op = s[0] == '>' ? (s[1] == '=' ? OP_GE : OP_GT) : (s[1] == '=' ? OP_LE : OP_LT);
		s += s[1] == '=' ? 2 : 1;
	} else {
		cond_error(expr, "expected an operator (>, >=, < or <=) after `%s'%s", measures[c.m].name,
		           *s == '=' ? " (= is not one: use >= or <=)" : "");
	}
	s = skip_ws(s);
	if (*s == '+' || *s == '-')
		c.rel = *s++ == '-' ? -1 : 1;
	const char *num = s;
	while ((*s >= '0' && *s <= '9') || *s == '.')
		s++;
	char nb[64];
	char *end;
	if (s == num || (size_t)(s - num) >= sizeof nb)
		cond_error(expr, "expected a number after the operator, as in peak>+5%% or leaked>0");
	memcpy(nb, num, (size_t)(s - num));
	nb[s - num] = '\0';
	errno = 0;
	c.v = strtold(nb, &end);
	if (*end || errno)
		cond_error(expr, "`%s' is not a number", nb);
	s = skip_ws(s);
	static const struct { const char *u; long double mul; int bytes; } units[] = {
		{ "B", 1, 1 }, { "KiB", 1024.0L, 1 }, { "MiB", 1048576.0L, 1 }, { "GiB", 1073741824.0L, 1 },
		{ "TiB", 1099511627776.0L, 1 }, { "k", 1e3L, 0 }, { "M", 1e6L, 0 }, { "G", 1e9L, 0 },
	};
	if (*s == '%') {
		c.pct = 1;
		s++;
		if (!c.rel)
			cond_error(expr, "a percentage needs a sign: +%s%% (grew by more than that share of BASE's total)"
			           " or -%s%%", nb, nb);
	} else if (*s) {
		const char *u = s;
		size_t k, ul;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		ul = (size_t)(s - u);
		for (k = 0; k < NELEMS(units) && (strlen(units[k].u) != ul || strncmp(u, units[k].u, ul)); k++)
			;
		if (k == NELEMS(units))
			cond_error(expr, "unknown unit `%.*s'; allowed: %%, B, KiB, MiB, GiB, TiB, k, M, G", (int)ul, u);
		if (units[k].bytes && !measures[c.m].bytes)
			cond_error(expr, "%s counts allocations: %s is a unit of bytes (k, M, G are allowed)",
			           measures[c.m].name, units[k].u);
		c.v *= units[k].mul;
	}
	s = skip_ws(s);
	if (*s)
		cond_error(expr, "unexpected `%s' after the value", s);
	if (c.rel < 0)
		c.v = -c.v;
	return c;
}

/* The condition holds for these totals; its reason in buf. */
static int cond_holds(const struct cond *c, uint64_t base, uint64_t now, char *buf, size_t len)
{
	int64_t d = delta(base, now);
	long double x;
	if (c->pct)
		x = base ? 100.0L * (long double)d / (long double)base
		         : d > 0 ? 1e300L : d < 0 ? -1e300L : 0; /* from nothing: infinitely many % */
	else if (c->rel)
		x = (long double)d;
	else
		x = (long double)now;
	int holds = c->op == OP_GT ? x > c->v : c->op == OP_GE ? x >= c->v : c->op == OP_LT ? x < c->v : x <= c->v;
	if (!holds)
		return 0;
	static const char *const rel_word[] = { "over", "at least", "under", "at most" };
	const char *name = measures[c->m].name, *thr = skip_ws(c->text);
	thr += strlen(name);
	thr = skip_ws(skip_ws(thr) + (c->op == OP_GE || c->op == OP_LE ? 2 : 1)); /* the VALUE as given */
	char ab[64], pb[32], nb[64];
	if (measures[c->m].bytes)
		fmt_sbytes(d, ab, sizeof ab);
	else
		snprintf(ab, sizeof ab, "%+" PRId64, d);
	fmt_pct(base, d, pb, sizeof pb);
	const char *verb = d > 0 ? "grew" : d < 0 ? "shrank" : "did not change:";
	if (c->rel && c->pct)
		snprintf(buf, len, "%s %s %s (%s), %s %s", name, verb, pb + (d != 0), ab, rel_word[c->op], thr);
	else if (c->rel)
		snprintf(buf, len, "%s %s %s (%s), %s %s", name, verb, ab + (d != 0), pb, rel_word[c->op], thr);
	else {
		char bb[64];
		if (measures[c->m].bytes) {
			fmt_bytes(now, nb, sizeof nb);
			fmt_bytes(base, bb, sizeof bb);
		} else {
			snprintf(nb, sizeof nb, "%" PRIu64, now);
			snprintf(bb, sizeof bb, "%" PRIu64, base);
		}
		snprintf(buf, len, "%s is %s in NEW (%s in BASE, %s), %s %s", name, nb, bb, pb, rel_word[c->op], thr);
	}
	return 1;
}

/* ---- the diff ------------------------------------------------------------ */

static int64_t sdelta(const struct mstack *s, int m)
{
	return delta(s->f[0][measures[m].field], s->f[1][measures[m].field]);
}

static int g_measure; /* for cmp_growth */

static int cmp_growth(const void *a, const void *b)
{
	const struct mstack *x = *(const struct mstack *const *)a, *y = *(const struct mstack *const *)b;
	int64_t dx = sdelta(x, g_measure), dy = sdelta(y, g_measure);
	return dx != dy ? (dx > dy ? -1 : 1) : (x < y ? -1 : x > y);
}

static void print_num(FILE *out, int m, uint64_t v)
{
	fprintf(out, "%" PRIu64 "%s", v, measures[m].bytes ? " B" : "");
}

static void print_entry(struct diff *d, FILE *out, const struct mstack *s, int m, size_t rank)
{
	int64_t dv = sdelta(s, m);
	char h[64], name[4096];
	int f = measures[m].field;
	fprintf(out, "  #%zu  %+" PRId64, rank, dv);
	if (measures[m].bytes) {
		fmt_sbytes(dv, h, sizeof h);
		fprintf(out, " B (%s)", h);
	}
	fputs(": ", out);
	print_num(out, m, s->f[0][f]);
	fputs(" -> ", out);
	print_num(out, m, s->f[1][f]);
	fprintf(out, "%s\n", !s->in[0] ? " (new stack)" : !s->in[1] ? " (gone)" : "");
	match_name(s->r, s->node, 4, name, sizeof name);
	fprintf(out, "      in %s\n", name);
	(void)d;
}

static void header_line(FILE *out, const char *what, const char *file, const struct profile *p)
{
	char e[1024], x[1024];
	fprintf(out, "  %-4s %s: %s (pid %" PRIu64 ")\n", what, text_esc(file, e, sizeof e, ESC_TEXT),
	        p->exe[0] ? text_esc(p->exe, x, sizeof x, ESC_TEXT) : "?", p->pid);
}

static int diff_text(struct diff *d, FILE *out)
{
	const struct profile *b = d->r[0].p, *n = d->r[1].p;
	fprintf(out, "memlens diff\n");
	header_line(out, "BASE", d->file[0], b);
	header_line(out, "NEW", d->file[1], n);
	fprintf(out, "\nTotals       %16s %16s %16s\n", "BASE", "NEW", "change");
	for (int m = 0; m < M_N; m++) {
		uint64_t x = diff_total(b, m), y = diff_total(n, m);
		int64_t dv = delta(x, y);
		char pb[32], h[64] = "";
		fmt_pct(x, dv, pb, sizeof pb);
		if (measures[m].bytes)
			fmt_sbytes(dv, h, sizeof h);
		fprintf(out, "  %-10s %16" PRIu64 " %16" PRIu64 " %+16" PRId64 " %9s%s%s%s\n", measures[m].name, x, y, dv, pb,
		        h[0] ? "  (" : "", h, h[0] ? ")" : "");
	}
	fprintf(out, "  (peak, churn and leaked in bytes; allocs and temps count allocations)\n");

	const struct mstack **v = xmalloc((d->m.n ? d->m.n : 1) * sizeof *v);
	for (int m = 0; m < M_N; m++) {
		size_t nv = 0;
		for (size_t i = 0; i < d->m.n; i++)
			if (sdelta(&d->m.s[i], m))
				v[nv++] = &d->m.s[i];
		g_measure = m;
		qsort(v, nv, sizeof *v, cmp_growth);
		size_t ngrow = 0;
		while (ngrow < nv && sdelta(v[ngrow], m) > 0)
			ngrow++;
		fprintf(out, "\n%s: biggest growths\n", measures[m].title);
		if (!ngrow)
			fprintf(out, "  (none)\n");
		for (size_t i = 0; i < ngrow && i < d->top; i++)
			print_entry(d, out, v[i], m, i + 1);
		if (ngrow > d->top)
			fprintf(out, "  ... and %zu more stacks that grew\n", ngrow - d->top);
		fprintf(out, "\n%s: biggest shrinks\n", measures[m].title);
		if (ngrow == nv)
			fprintf(out, "  (none)\n");
		for (size_t i = 0; i < nv - ngrow && i < d->top; i++)
			print_entry(d, out, v[nv - 1 - i], m, i + 1);
		if (nv - ngrow > d->top)
			fprintf(out, "  ... and %zu more stacks that shrank\n", nv - ngrow - d->top);
	}
	free(v);
	return 0;
}

static void json_side(FILE *out, const char *file, const struct profile *p)
{
	fprintf(out, "{\"file\": ");
	json_str(out, file);
	fprintf(out, ", \"exe\": ");
	json_str(out, p->exe);
	fprintf(out, ", \"pid\": %" PRIu64 "}", p->pid);
}

static void json_figs(FILE *out, const uint64_t *f)
{
	fputc('{', out);
	for (int m = 0; m < M_N; m++)
		fprintf(out, "%s\"%s\": %" PRIu64, m ? ", " : "", measures[m].name, f[measures[m].field]);
	fputc('}', out);
}

static int diff_json(struct diff *d, FILE *out)
{
	const struct profile *b = d->r[0].p, *n = d->r[1].p;
	fprintf(out, "{\n\"format\": \"memlens-diff\",\n\"base\": ");
	json_side(out, d->file[0], b);
	fprintf(out, ",\n\"new\": ");
	json_side(out, d->file[1], n);
	fprintf(out, ",\n\"totals\": {");
	for (int m = 0; m < M_N; m++) {
		uint64_t x = diff_total(b, m), y = diff_total(n, m);
		int64_t dv = delta(x, y);
		fprintf(out, "%s\n  \"%s\": {\"base\": %" PRIu64 ", \"new\": %" PRIu64 ", \"delta\": %" PRId64 ", \"pct\": ",
		        m ? "," : "", measures[m].name, x, y, dv);
		if (x)
			fprintf(out, "%.6g}", 100.0 * (double)dv / (double)x);
		else
			fputs("null}", out);
	}
	fprintf(out, "\n},\n\"stacks\": [");
	for (size_t i = 0; i < d->m.n; i++) {
		const struct mstack *s = &d->m.s[i];
		fprintf(out, "%s\n  {\"in_base\": %s, \"in_new\": %s, \"base\": ", i ? "," : "", s->in[0] ? "true" : "false",
		        s->in[1] ? "true" : "false");
		json_figs(out, s->f[0]);
		fprintf(out, ", \"new\": ");
		json_figs(out, s->f[1]);
		fprintf(out, ", \"delta\": {");
		for (int m = 0; m < M_N; m++)
			fprintf(out, "%s\"%s\": %" PRId64, m ? ", " : "", measures[m].name, sdelta(s, m));
		fprintf(out, "},\n   \"frames\": [");
		const struct xframe *xf;
		size_t nf = report_frames(s->r, s->node, &xf);
		for (size_t k = 0; k < nf; k++) {
			const struct sym_pc *sp = xf[k].sp;
			const struct sym_frame *f = &sp->frames[xf[k].idx];
			fprintf(out, "%s{\"function\": ", k ? ", " : "");
			if (f->func)
				json_str(out, f->func);
			else
				fputs("null", out);
			fprintf(out, ", \"file\": ");
			if (f->file)
				json_str(out, f->file);
			else
				fputs("null", out);
			fprintf(out, ", \"line\": %u, \"module\": ", f->line);
			if (sp->mod >= 0) {
				json_str(out, base_name(s->r->p->mods[sp->mod].path));
				fprintf(out, ", \"offset\": \"0x%" PRIx64 "\"", sp->off);
			} else {
				fputs("null, \"offset\": null", out);
			}
			fprintf(out, ", \"inlined\": %s}", f->inlined ? "true" : "false");
		}
		fputs("]}", out);
	}
	fprintf(out, "%s]\n}\n", d->m.n ? "\n" : "");
	return 0;
}

static int diff_sample(void *arg, size_t i, struct report **r, uint32_t *node, int64_t *v)
{
	struct diff *d = arg;
	const struct mstack *s = &d->m.s[i];
	int64_t b[PPROF_NTYPES];
	int any = 0;
	pprof_values(s->f[0], b);
	pprof_values(s->f[1], v);
	for (int k = 0; k < PPROF_NTYPES; k++) {
		v[k] -= b[k];
		any |= v[k] != 0;
	}
	*r = s->r;
	*node = s->node;
	return any;
}

static int diff_pprof(struct diff *d, FILE *out)
{
	const struct profile *n = d->r[1].p;
	struct report *reps[2] = { &d->r[0], &d->r[1] };
	char comment[4096], e0[1024], e1[1024];
	snprintf(comment, sizeof comment, "memlens diff: NEW - BASE; BASE %s, NEW %s",
	         text_esc(d->file[0], e0, sizeof e0, ESC_TEXT), text_esc(d->file[1], e1, sizeof e1, ESC_TEXT));
	struct pprof_src src = { reps, 2, d->m.n, diff_sample, d, comment, RW_PEAK, n->wall_start_s * 1000000000ULL,
	                         n->end_ns >= n->start_ns ? n->end_ns - n->start_ns : 0, n->sample_bytes };
	return pprof_write(&src, out);
}

/* ---- the command --------------------------------------------------------- */

int cmd_diff(int argc, char **argv)
{
	const char *files[2] = { NULL, NULL }, *outpath = NULL, *format = "text", *v;
	int nfiles = 0, no_more_opts = 0, sym_flags = 0;
	xalloc_exit_as("memlens diff", 1);
	const char **dirs = xcalloc((size_t)argc + 1, sizeof *dirs);
	struct cond *conds = xcalloc((size_t)argc + 1, sizeof *conds);
	size_t ndirs = 0, nconds = 0;
	struct diff d;
	memset(&d, 0, sizeof d);
	d.top = 10;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (no_more_opts || a[0] != '-' || !a[1]) {
			if (nfiles == 2)
				cli_usage_error("diff", "two profiles, BASE and NEW (got a third: `%s')", a);
			files[nfiles++] = a;
		} else if (!strcmp(a, "--")) {
			no_more_opts = 1;
		} else if (!strcmp(a, "--full-names")) {
			sym_flags |= SYM_FULL_NAMES;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(diff_usage, stdout);
			exit(0);
		} else if ((v = cli_opt_value("diff", argc, argv, &i, "--format", "-f"))) {
			if (strcmp(v, "text") && strcmp(v, "pprof") && strcmp(v, "json") && strcmp(v, "html"))
				cli_usage_error("diff", "--format %s: unknown format; allowed: text, pprof, json, html", v);
			format = v;
		} else if ((v = cli_opt_value("diff", argc, argv, &i, "--output", "-o"))) {
			if (!*v)
				cli_usage_error("diff", "-o needs a file name");
			outpath = v;
		} else if ((v = cli_opt_value("diff", argc, argv, &i, "--fail-if", NULL))) {
			conds[nconds++] = parse_cond(v);
		} else if ((v = cli_opt_value("diff", argc, argv, &i, "--top", NULL))) {
			d.top = cli_top("diff", v);
		} else if ((v = cli_opt_value("diff", argc, argv, &i, "--debug-dir", NULL))) {
			dirs[ndirs++] = cli_debug_dir("diff", v);
		} else {
			cli_usage_error("diff", "unknown option `%s'; allowed: --format, -o, --fail-if, --top, --debug-dir, "
			            "--full-names, --help", a);
		}
	}
	if (nfiles < 2)
		cli_usage_error("diff", "%s; usage: memlens diff BASE NEW [--fail-if EXPR]", nfiles ? "no NEW profile given"
		            : "no profiles given");
	int binary = !strcmp(format, "pprof");
	if (binary && !outpath && isatty(STDOUT_FILENO))
		cli_usage_error("diff", "pprof output is binary; give -o FILE or redirect it");

	int rc = 0;
	struct report_opts o = { RW_PEAK, d.top, NULL };
	for (int k = 0; k < 2; k++) {
		d.file[k] = files[k];
		d.r[k].o = &o;
		d.r[k].p = prof_load("memlens diff", files[k]);
		if (!d.r[k].p) {
			rc = 1;
			goto out;
		}
	}
	/* NEW first: a stack both have is read from NEW's modules (the build
	 * being looked at names its frames) */
	for (int k = 1; k >= 0; k--) {
		d.r[k].sym = sym_new(d.r[k].p, dirs, sym_flags);
		match_add(&d.m, &d.r[k], k);
	}

	/* the conditions first: the html page shows which hold */
	d.nconds = nconds;
	d.cond_text = xcalloc(nconds + 1, sizeof *d.cond_text);
	d.cond_holds = xcalloc(nconds + 1, sizeof *d.cond_holds);
	d.cond_why = xcalloc(nconds + 1, sizeof *d.cond_why);
	for (size_t i = 0; i < nconds; i++) {
		int m = conds[i].m;
		d.cond_text[i] = conds[i].text;
		d.cond_holds[i] = cond_holds(&conds[i], diff_total(d.r[0].p, m), diff_total(d.r[1].p, m),
		                             d.cond_why[i], sizeof d.cond_why[i]);
	}

	FILE *out = stdout;
	struct cli_output co;
	if (outpath) {
		int e = output_open(&co, outpath);
		if (e) {
			fprintf(stderr, "memlens diff: %s: %s\n", outpath, strerror(e));
			rc = 1;
			goto out;
		}
		out = co.f;
	}
	if (!strcmp(format, "json"))
		rc = diff_json(&d, out);
	else if (!strcmp(format, "html"))
		rc = diff_html(&d, out);
	else
		rc = binary ? diff_pprof(&d, out) : diff_text(&d, out);
	int werr = 0;
	if (outpath && rc)
		output_abandon(&co); /* a failed or partial diff never replaces OUT */
	else if (outpath)
		werr = output_close(&co);
	else if (fflush(out) != 0 || ferror(out))
		werr = errno ? errno : EIO;
	if (rc == 0 && werr) {
		fprintf(stderr, "memlens diff: %s: write error: %s\n", outpath ? outpath : "standard output",
		        strerror(werr));
		rc = 1;
	} else if (rc) {
		rc = 1;
	}
	if (rc == 0) {
		for (size_t i = 0; i < nconds; i++) {
			if (d.cond_holds[i]) {
				fprintf(stderr, "memlens diff: fail: %s\n", d.cond_why[i]);
				rc = 1;
			}
		}
	}
out:
	match_free(&d.m);
	for (int k = 0; k < 2; k++) {
		free(d.r[k].buf);
		if (d.r[k].sym)
			sym_free(d.r[k].sym);
		prof_free(d.r[k].p);
	}
	free(d.cond_text);
	free(d.cond_holds);
	free(d.cond_why);
	free(conds);
	free(dirs);
	return rc;
}
