/* exporter.h: what each output format of `memlens report` works from, and
 * how one is plugged in.
 *
 * An exporter is a function that writes a validated profile, symbolized
 * on demand, to a stream: one file here (text.c, massif.c, ...) and one
 * row in exporters.c's table, which gives it its --format name and its
 * words in --help.  The helpers below are what the formats share: a
 * stack's source-level frames, their labels (escaped, escape.h), and a
 * stack's weight for --weight. */
#ifndef MEMLENS_REPORT_EXPORTER_H
#define MEMLENS_REPORT_EXPORTER_H
#include "escape.h"
#include "reader.h"
#include "symbolizer.h"

#include <stdio.h>

enum report_weight { RW_PEAK, RW_CHURN, RW_LEAKS, RW_TEMP };

struct report_opts {
	enum report_weight weight;
	unsigned top;              /* stacks per text section */
	const char *file;          /* the profile's name, for headers */
};

/* A source-level frame of a stack: frame idx of a pc's symbolization. */
struct xframe {
	const struct sym_pc *sp;
	unsigned idx;
};

#define REPORT_MAX_FRAMES 1024     /* expanded frames kept per stack (innermost) */

struct report {
	struct profile *p;
	struct symbolizer *sym;
	const struct report_opts *o;
	struct xframe *buf;        /* scratch for report_frames */
	size_t bufcap;
};

struct report_exporter {
	const char *name;          /* --format NAME */
	const char *help;          /* for --help: what it writes; lines joined by '\n' */
	int binary;                /* refused on a terminal (without -o) */
	/* 0, or -1 after a message; write errors are the caller's to find */
	int (*write)(struct report *r, FILE *out);
};

/* Every format, in the order --help lists them; the first is the default.
 * The last row's name is NULL. */
extern const struct report_exporter report_exporters[];

int report_text(struct report *r, FILE *out);
int report_massif(struct report *r, FILE *out);
int report_dhat(struct report *r, FILE *out);
int report_pprof(struct report *r, FILE *out);
int report_folded(struct report *r, FILE *out);
int report_json(struct report *r, FILE *out);
int report_html(struct report *r, FILE *out);

/* pprof.c's writer, for any set of samples: sample i (of nsamples) is the
 * stack node of input r (one of reps, whose modules are the mappings),
 * with PPROF_NTYPES values (signed: a diff's are NEW - BASE) in the order
 * of pprof_values; sample returns 0 to leave it out. */
#define PPROF_NTYPES 8
struct pprof_src {
	struct report *const *reps;
	size_t nreps;
	size_t nsamples;
	int (*sample)(void *arg, size_t i, struct report **r, uint32_t *node, int64_t *v);
	void *arg;
	const char *comment;
	enum report_weight weight; /* the default sample type */
	uint64_t time_nanos, duration_nanos, period;
};
int pprof_write(const struct pprof_src *src, FILE *out);
/* A STKS record's figures as pprof's sample values. */
void pprof_values(const uint64_t *f, int64_t *v);

/* A stack's frames, one line each ("at 0x...: func (file:line)", "by ..."),
 * as the text report shows them (text.c). */
void report_print_stack(struct report *r, FILE *out, uint32_t node);

/* Bytes for people: "512 B", "1.5 KiB", ... (text.c). */
void fmt_bytes(uint64_t b, char *buf, size_t len);

/* ---- shared by the formats (frames.c) ------------------------------------ */

/* The source-level frames of node's stack, innermost first (inlined frames
 * expanded, at most REPORT_MAX_FRAMES); the array is valid until the next
 * call. */
size_t report_frames(struct report *r, uint32_t node, const struct xframe **out);

/* Weight of a stack for o->weight (bytes; temp: a count of allocations). */
/* A stack index i with its figure key, for qsort by rank_cmp: largest key
 * first, ties in index order (a stable, reproducible ranking). */
struct ranked {
	uint64_t key;
	size_t i;
};
int rank_cmp(const void *a, const void *b);

uint64_t stack_weight(const struct prof_stack *s, enum report_weight w);
/* "peak", "churn", "leaks", "temp": --weight's names. */
const char *weight_name(enum report_weight w);

/* "0x401136: main (prog.c:12)", "0x7f12: ??? (in /lib/x.so)": valgrind's
 * style, used by massif and DHAT; escaped (text_esc). */
void frame_label_vg(struct report *r, const struct xframe *x, char *buf, size_t len);
/* "main" or, unknown, "0xADDR (module+0xOFF)"; escaped */
void frame_func(struct report *r, const struct xframe *x, char *buf, size_t len);
/* "module+0xOFF" / "0xADDR" (no module); escaped with flags (ESC_*) */
void frame_where(struct report *r, const struct sym_pc *sp, char *buf, size_t len, int flags);
#endif
