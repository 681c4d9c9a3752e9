/* diff.h: what memlens diff's formats share (diff.c; the html page,
 * diff_html.c). */
#ifndef MEMLENS_CLI_DIFF_H
#define MEMLENS_CLI_DIFF_H
#include "report/match.h"

/* The measures, in the order of the text, the json and the pages; the
 * stack figure of each is the flame weight of the same index
 * (report/htmlpage.h's hw_field). */
enum measure { M_PEAK, M_CHURN, M_ALLOCS, M_TEMPS, M_LEAKED, M_N };

struct diff {
	struct report r[2];        /* 0 BASE, 1 NEW */
	const char *file[2];
	struct match m;
	unsigned top;
	/* the --fail-if conditions, as given, whether each holds and why */
	size_t nconds;
	const char **cond_text;
	int *cond_holds;
	char (*cond_why)[512];
};

/* A profile's total of measure m. */
uint64_t diff_total(const struct profile *p, int m);

/* --format html: 0, or -1 after a message (no asset). */
int diff_html(struct diff *d, FILE *out);
#endif
