/* report.h: `memlens report`, the reading side of the heap profiler.
 *
 *   report.c          the subcommand, the file reader (src/profile_format.h
 *                     is the contract), symbolization with libdw, the text
 *                     report, helpers shared by the formats
 *   report_formats.c  massif, DHAT, pprof, folded stacks and JSON
 *
 * The reader never trusts the file: every count is checked against the
 * bytes that hold it before anything is allocated, and a corrupt, truncated
 * or foreign file gives one message naming the problem and its byte offset.
 * The formats only ever see a validated profile. */
#ifndef MEMLENS_REPORT_H
#define MEMLENS_REPORT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The figures of one STKS record, in file order (ML_PROF_STKS_FIELDS of
 * them).  SF_LIFETIME is measured in allocations: the sum, over the freed
 * blocks, of how many allocations the process made between a block's
 * allocation and its free.  SF_MAX_LIVE_BLOCKS and SF_MAX_LIVE_BYTES are the
 * most the stack had live at any moment, each at its own maximum. */
enum {
	SF_ALLOCS, SF_BYTES_TOTAL, SF_LIVE_BLOCKS, SF_LIVE_BYTES, SF_PEAK_BLOCKS,
	SF_PEAK_BYTES, SF_TEMP_ALLOCS, SF_TEMP_BYTES, SF_LIFETIME, SF_MAX_BYTES,
	SF_MAX_LIVE_BLOCKS, SF_MAX_LIVE_BYTES,
	SF_N
};

struct prof_module {
	uint64_t lo, hi, bias;     /* run-time span [lo, hi) and load bias */
	char *path;
	unsigned build_id_len;
	uint8_t build_id[255];
};

struct prof_node {
	uint32_t parent;           /* 0: the root */
	uint32_t depth;            /* frames from here to the root (root: 0) */
	uint64_t pc;
};

struct prof_stack {
	uint32_t node;
	uint64_t f[SF_N];
};

struct prof_sample {               /* a TIME record, or the PEAK record */
	uint64_t t_ns, live_bytes, live_blocks, total;
};

struct prof_totals {
	uint64_t allocs, frees, bytes_total, temp_allocs, live_blocks, live_bytes, samples;
};

struct profile {
	uint32_t version, flags, max_depth, reason;
	uint64_t pid, start_ns, end_ns, wall_start_s, sample_bytes;
	char *exe;
	struct prof_module *mods;
	size_t nmods;
	struct prof_node *nodes;   /* nodes[0] is the root; nnodes counts it */
	size_t nnodes;
	struct prof_stack *stacks; /* one per node (duplicates merged), by node */
	size_t nstacks;
	struct prof_sample *timeline; /* by time */
	size_t ntime;
	struct prof_sample peak;
	int has_peak, has_totals;  /* 0: derived from the other sections */
	struct prof_totals tot;
	size_t file_size;
};

/* Parses a whole file held in memory.  NULL on error, with the message
 * ("truncated at offset 1234 (in section STKS)", ...) in err. */
struct profile *prof_parse(const uint8_t *buf, size_t len, char *err, size_t errlen);
void prof_free(struct profile *p);

/* ---- symbolization ------------------------------------------------------ */

/* One source-level frame of a pc: the pc's own function, or a function
 * inlined into it. */
struct sym_frame {
	const char *func;          /* NULL: unknown (no symbol) */
	const char *sysname;       /* linkage name, or func */
	const char *file;          /* NULL: unknown; full path as DWARF has it */
	unsigned line, start_line; /* 0: unknown */
	int inlined;               /* inlined into the next frame */
};

struct sym_pc {
	uint64_t pc;
	int mod;                   /* index into profile->mods, -1: none */
	uint64_t off;              /* pc - bias (file address) */
	unsigned nframes;          /* >= 1; innermost first */
	struct sym_frame *frames;
};

struct symbolizer;
/* debug_dirs: NULL-terminated extra directories searched for separate debug
 * files (DIR/.build-id/xx/yyyy.debug, and debuglinks), before the standard
 * ones.  flags: SYM_QUIET (no warnings), SYM_FULL_NAMES (C++ names as
 * demangled; by default template arguments are shortened to <...> and the
 * return types of template functions left out). */
enum { SYM_QUIET = 1, SYM_FULL_NAMES = 2 };
struct symbolizer *sym_new(const struct profile *p, const char *const *debug_dirs, int flags);
/* name with its template arguments shortened to <...> and without a return
 * type, into out (at most len bytes, always terminated). */
void short_name(const char *name, char *out, size_t len);
const struct sym_pc *sym_lookup(struct symbolizer *s, uint64_t pc);
/* Module m could be read (its frames may have names). */
int sym_module_ok(struct symbolizer *s, int m);
void sym_free(struct symbolizer *s);

/* ---- what the formats work from ---------------------------------------- */

enum report_format { RF_TEXT, RF_MASSIF, RF_DHAT, RF_PPROF, RF_FOLDED, RF_JSON };
enum report_weight { RW_PEAK, RW_CHURN, RW_LEAKS, RW_TEMP };

struct report_opts {
	enum report_format format;
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

/* The source-level frames of node's stack, innermost first (inlined frames
 * expanded, at most REPORT_MAX_FRAMES); the array is valid until the next
 * call. */
size_t report_frames(struct report *r, uint32_t node, const struct xframe **out);

/* Weight of a stack for o->weight (bytes; temp: a count of allocations). */
uint64_t stack_weight(const struct prof_stack *s, enum report_weight w);
const char *weight_name(enum report_weight w);

/* Every string a profile brings (paths, and the names and files of the
 * modules it names) is escaped for its output: in text-like outputs
 * (text, massif, folded, pprof's names, messages) by text_esc, in JSON by
 * json_str.  No control character reaches a terminal, and a name cannot
 * break a line-based format. */

/* s, escaped into out (at most len bytes, terminated, cut between whole
 * characters): control characters (C0, DEL, and C1 in UTF-8), backslashes
 * and bytes that are not UTF-8 become \n \r \t \\ or \xNN; with ESC_FOLDED
 * also ';' (the frame separator of folded stacks).  Returns out. */
enum { ESC_TEXT = 0, ESC_FOLDED = 1 };
const char *text_esc(const char *s, char *out, size_t len, int flags);

/* "0x401136: main (prog.c:12)", "0x7f12: ??? (in /lib/x.so)": valgrind's
 * style, used by massif and DHAT; escaped (text_esc). */
void frame_label_vg(struct report *r, const struct xframe *x, char *buf, size_t len);
/* "main" or, unknown, "0xADDR (module+0xOFF)"; escaped */
void frame_func(struct report *r, const struct xframe *x, char *buf, size_t len);
/* "module+0xOFF" / "0xADDR" (no module); escaped with flags (ESC_*) */
void frame_where(struct report *r, const struct sym_pc *sp, char *buf, size_t len, int flags);
const char *base_name(const char *path);

/* JSON string with its quotes; bytes that are not UTF-8 become U+FFFD,
 * control characters (C1 too) \u00XX. */
void json_str(FILE *f, const char *s);

int report_text(struct report *r, FILE *out);
int report_massif(struct report *r, FILE *out);
int report_dhat(struct report *r, FILE *out);
int report_pprof(struct report *r, FILE *out);
int report_folded(struct report *r, FILE *out);
int report_json(struct report *r, FILE *out);

/* `memlens report ...`: argv[0] is "report"'s first argument. */
int cmd_report(int argc, char **argv);
#endif
