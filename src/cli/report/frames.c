/* frames.c: what the formats share (exporter.h): a stack's source-level
 * frames, their labels, and a stack's weight. */
#include "exporter.h"
#include "cli/xalloc.h"

#include <inttypes.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

size_t report_frames(struct report *r, uint32_t node, const struct xframe **out)
{
	size_t n = 0;
	for (uint32_t j = node; j != 0 && n < REPORT_MAX_FRAMES; j = r->p->nodes[j].parent) {
		const struct sym_pc *sp = sym_lookup(r->sym, r->p->nodes[j].pc);
		for (unsigned k = 0; k < sp->nframes && n < REPORT_MAX_FRAMES; k++) {
			if (n == r->bufcap) {
				r->bufcap = r->bufcap ? r->bufcap * 2 : 64;
				r->buf = xrealloc(r->buf, r->bufcap * sizeof *r->buf);
			}
			r->buf[n++] = (struct xframe){ sp, k };
		}
	}
	*out = r->buf;
	return n;
}

int rank_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

uint64_t stack_weight(const struct prof_stack *s, enum report_weight w)
{
	switch (w) {
	case RW_PEAK: return s->f[SF_PEAK_BYTES];
	case RW_CHURN: return s->f[SF_BYTES_TOTAL];
	case RW_LEAKS: return s->f[SF_LIVE_BYTES];
	case RW_TEMP: return s->f[SF_TEMP_ALLOCS];
	}
	return 0;
}

const char *weight_name(enum report_weight w)
{
	static const char *const names[] = { "peak", "churn", "leaks", "temp" };
	return (unsigned)w < NELEMS(names) ? names[w] : "?";
}

void frame_where(struct report *r, const struct sym_pc *sp, char *buf, size_t len, int flags)
{
	char mod[512];
	if (sp->mod >= 0)
		snprintf(buf, len, "%s+0x%" PRIx64, text_esc(base_name(r->p->mods[sp->mod].path), mod, sizeof mod, flags),
		         sp->off);
	else
		snprintf(buf, len, "0x%" PRIx64, sp->pc);
}

void frame_func(struct report *r, const struct xframe *x, char *buf, size_t len)
{
	const struct sym_frame *f = &x->sp->frames[x->idx];
	char e[512];
	if (f->func) {
		text_esc(f->func, buf, len, ESC_TEXT);
	} else if (x->sp->mod >= 0) {
		snprintf(buf, len, "0x%" PRIx64 " (%s+0x%" PRIx64 ")", x->sp->pc,
		         text_esc(base_name(r->p->mods[x->sp->mod].path), e, sizeof e, ESC_TEXT), x->sp->off);
	} else {
		snprintf(buf, len, "0x%" PRIx64 " (no module)", x->sp->pc);
	}
}

void frame_label_vg(struct report *r, const struct xframe *x, char *buf, size_t len)
{
	const struct sym_frame *f = &x->sp->frames[x->idx];
	const char *mod = x->sp->mod >= 0 ? r->p->mods[x->sp->mod].path : NULL;
	char fn[1024], e[1024];
	text_esc(f->func ? f->func : "???", fn, sizeof fn, ESC_TEXT);
	if (f->func && f->file)
		snprintf(buf, len, "0x%" PRIX64 ": %s (%s:%u)", x->sp->pc, fn, text_esc(base_name(f->file), e, sizeof e,
		         ESC_TEXT), f->line);
	else if (mod && mod[0])
		snprintf(buf, len, "0x%" PRIX64 ": %s (in %s)", x->sp->pc, fn, text_esc(mod, e, sizeof e, ESC_TEXT));
	else
		snprintf(buf, len, "0x%" PRIX64 ": %s", x->sp->pc, fn);
}

