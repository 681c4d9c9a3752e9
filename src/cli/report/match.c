/* match.c: stacks keyed by their symbolized frames (match.h). */
#include "match.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void kput(struct match *m, size_t *n, const char *s, size_t l)
{
	if (*n + l + 1 > m->kcap) {
		while (*n + l + 1 > m->kcap)
			m->kcap = m->kcap ? m->kcap * 2 : 1024;
		m->kb = xrealloc(m->kb, m->kcap);
	}
	memcpy(m->kb + *n, s, l);
	*n += l;
	m->kb[*n] = '\0';
}

/* The key of node's stack in m->kb: a record per frame, fields separated
 * by \x1f, records ended by \x1e (neither occurs in names a compiler
 * makes; a name holding them at worst merges two stacks). */
static const char *stack_key(struct match *m, struct report *r, uint32_t node)
{
	const struct xframe *xf;
	size_t nf = report_frames(r, node, &xf), n = 0;
	char t[64];
	kput(m, &n, "", 0);
	for (size_t i = 0; i < nf; i++) {
		const struct sym_pc *sp = xf[i].sp;
		const struct sym_frame *f = &sp->frames[xf[i].idx];
		if (f->func) {
			const char *fn = f->sysname ? f->sysname : f->func;
			kput(m, &n, "F", 1);
			kput(m, &n, fn, strlen(fn));
			kput(m, &n, "\x1f", 1);
			if (f->file)
				kput(m, &n, f->file, strlen(f->file));
			snprintf(t, sizeof t, "\x1f%u\x1e", f->line);
		} else if (sp->mod >= 0) {
			const char *b = base_name(r->p->mods[sp->mod].path);
			kput(m, &n, "M", 1);
			kput(m, &n, b, strlen(b));
			snprintf(t, sizeof t, "\x1f%" PRIx64 "\x1e", sp->off);
		} else {
			snprintf(t, sizeof t, "A%" PRIx64 "\x1e", sp->pc);
		}
		kput(m, &n, t, strlen(t));
	}
	return m->kb;
}

void match_add(struct match *m, struct report *r, int side)
{
	const struct profile *p = r->p;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *st = &p->stacks[i];
		uint32_t k = st_index(&m->keys, stack_key(m, r, st->node));
		if (k == m->n) { /* a new stack */
			if (m->n == m->cap) {
				m->cap = m->cap ? m->cap * 2 : 256;
				m->s = xrealloc(m->s, m->cap * sizeof *m->s);
			}
			memset(&m->s[k], 0, sizeof m->s[k]);
			m->s[k].r = r;
			m->s[k].node = st->node;
			m->n++;
		}
		m->s[k].in[side] = 1;
		uint64_t *d = m->s[k].f[side];
		for (int j = 0; j < SF_N; j++)
			if (j == SF_MAX_BYTES)
				d[j] = d[j] > st->f[j] ? d[j] : st->f[j];
			else
				d[j] += st->f[j];
	}
}

void match_free(struct match *m)
{
	st_free(&m->keys);
	free(m->s);
	free(m->kb);
	memset(m, 0, sizeof *m);
}

void match_name(struct report *r, uint32_t node, unsigned nframes, char *buf, size_t len)
{
	const struct xframe *xf;
	size_t nf = report_frames(r, node, &xf), n = 0;
	char fn[512], file[512], one[1100];
	buf[0] = '\0';
	if (nf == 0)
		snprintf(buf, len, "(no stack)");
	for (size_t i = 0; i < nf && i < nframes; i++) {
		const struct sym_frame *f = &xf[i].sp->frames[xf[i].idx];
		frame_func(r, &xf[i], fn, sizeof fn);
		if (f->func && f->file)
			snprintf(one, sizeof one, "%s%s (%s:%u)", i ? " < " : "", fn,
			         text_esc(base_name(f->file), file, sizeof file, ESC_TEXT), f->line);
		else
			snprintf(one, sizeof one, "%s%s", i ? " < " : "", fn);
		size_t l = strlen(one);
		if (n + l + 1 > len)
			break;
		memcpy(buf + n, one, l + 1);
		n += l;
	}
}
