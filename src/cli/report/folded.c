/* folded.c: --format folded, "main;f;g 1234" lines, outermost frame
 * first, for flamegraph.pl and speedscope; each stack weighs what --weight
 * says, and stacks that read the same are one line. */
#include "exporter.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct fline {
	char *s;
	uint64_t w;
};

static int cmp_fline(const void *a, const void *b)
{
	return strcmp(((const struct fline *)a)->s, ((const struct fline *)b)->s);
}

int report_folded(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	struct fline *lines = xcalloc(p->nstacks, sizeof *lines);
	size_t nl = 0;
	char name[2048];
	for (size_t i = 0; i < p->nstacks; i++) {
		uint64_t w = stack_weight(&p->stacks[i], r->o->weight);
		if (!w)
			continue;
		const struct xframe *xf;
		size_t nf = report_frames(r, p->stacks[i].node, &xf);
		size_t len = 0, cap = 256;
		char *s = xmalloc(cap);
		s[0] = '\0';
		if (nf == 0) {
			strcpy(s, "[no stack]");
			len = strlen(s);
		}
		for (size_t k = nf; k-- > 0;) {
			const struct sym_frame *f = &xf[k].sp->frames[xf[k].idx];
			if (f->func)
				text_esc(f->func, name, sizeof name, ESC_FOLDED);
			else
				frame_where(r, xf[k].sp, name, sizeof name, ESC_FOLDED);
			size_t l = strlen(name);
			if (len + l + 2 > cap) {
				while (len + l + 2 > cap)
					cap *= 2;
				s = xrealloc(s, cap);
			}
			if (len)
				s[len++] = ';';
			memcpy(s + len, name, l + 1);
			len += l;
		}
		lines[nl++] = (struct fline){ s, w };
	}
	qsort(lines, nl, sizeof *lines, cmp_fline);
	for (size_t i = 0; i < nl;) {
		size_t j = i;
		uint64_t w = 0;
		for (; j < nl && !strcmp(lines[j].s, lines[i].s); j++)
			w += lines[j].w;
		fprintf(out, "%s %" PRIu64 "\n", lines[i].s, w);
		for (size_t k = i; k < j; k++)
			free(lines[k].s);
		i = j;
	}
	free(lines);
	return 0;
}
