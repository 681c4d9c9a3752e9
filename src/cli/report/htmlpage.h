/* htmlpage.h: what the html pages share (memlens report --format html,
 * html.c; memlens diff --format html, cli/diff_html.c): the call tree
 * merged by function with every node's figures for one or two sides, the
 * table of the frames the page shows, the tree of exact stacks (sites),
 * the timeline, and the page around the JSON: its head and the bundle of
 * scripts and styles (share/memlens/html-report.html), one for both pages.
 *
 * The JSON written keeps small for any profile: every flame node below
 * HTML_SMALL of its weight's total (the larger side's) is merged into one
 * "(small frames)" node per parent, and a timeline keeps at most
 * HTML_TIME_POINTS points, the highest of each stretch. */
#ifndef MEMLENS_REPORT_HTMLPAGE_H
#define MEMLENS_REPORT_HTMLPAGE_H
#include "exporter.h"
#include "tables.h"

#define HTML_SMALL 1000            /* frames below total / HTML_SMALL are merged */
#define HTML_TIME_POINTS 8000      /* timeline points kept */

/* The weights, in the pages' order: what a flame node weighs and the
 * second figure its tooltip gives. */
enum { HW_PEAK, HW_CHURN, HW_ALLOCS, HW_TEMP, HW_LEAKS, HW_N };
extern const char *const hw_names[HW_N];
extern const int hw_field[HW_N], hw_second[HW_N];

/* A node of the call tree merged by function: the flame graphs' nodes. */
struct fnode {
	uint32_t parent, frame;        /* frame: the first one seen (its file:line) */
	uint32_t child, sibling;       /* first child, next sibling; 0: none */
	uint64_t v[2][HW_N], s[2][HW_N]; /* per side: weight, second figure */
};

/* Zero-initialized but for out, nsides (1 or 2) and by_name. */
struct html {
	FILE *out;
	int nsides;
	int by_name;                   /* functions merged by name alone, not by
	                                * module too: two builds' executables */
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

/* Adds the stack at node of r's profile, with figures f, to side's tree. */
void html_add_stack(struct html *h, struct report *r, uint32_t node, const uint64_t *f, int side);
/* Every stack of r's profile added to side's tree. */
void html_add_profile(struct html *h, struct report *r, int side);
/* "flame":{weight: tree, ...}: nodes [frame, value, second, children]
 * with one side, [frame, NEW value, NEW second, BASE value, BASE second,
 * children] with two (side 1 then 0); see html.c and diff_html.c. */
void html_emit_flames(struct html *h);
/* The site (1-based node of the tree of exact frames) of a stack. */
uint32_t html_stack_site(struct html *h, struct report *r, uint32_t node);
/* "sites":[parent, frame, ...] */
void html_emit_sites(struct html *h);
/* "frames":[[function, file, line, inlined, module], ...] of the page. */
void html_emit_frames(struct html *h);
/* {"points":N,"t_ns":[...],"live_bytes":[...](,"rss":[...])} */
void html_emit_timeline(FILE *out, const struct profile *p);
/* Writes the page's head (its title escaped) up to the JSON's first
 * byte; html_page_end the rest.  The bundle is read first, by
 * html_asset: NULL after a message naming cmd. */
char *html_asset(const char *cmd, size_t *len);
void html_page_begin(FILE *out, const char *generator, const char *title);
void html_page_end(FILE *out, const char *asset, size_t len);
void html_free(struct html *h);
#endif
