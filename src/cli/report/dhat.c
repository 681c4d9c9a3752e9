/* dhat.c: --format dhat, DHAT's JSON (dhatFileVersion 2, mode heap) for
 * valgrind's dh_view.html: per stack total, maximum (the stack's own most
 * live), at-t-gmax (peak) and at-t-end figures and lifetimes of the freed
 * blocks.  Time is counted in allocations, the unit of the profile's
 * lifetimes (tu "allocs", rates per million allocations, Mtu "M allocs"):
 * t-end is the number of allocations, t-gmax an estimate (the profile has
 * the bytes allocated up to the peak, not the allocations: t-end scaled by
 * that share of the bytes). */
#include "exporter.h"
#include "tables.h"
#include "cli/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct dpp {
	uint64_t tb, tbk, tl, mb, mbk, gb, gbk, eb, ebk;
	uint32_t *fs;
	size_t nfs;
};

int report_dhat(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	struct strtab ftbl = { 0 };
	struct kmap seqs = { 0 }; /* hash of a frame sequence -> pp index + 1 (chained by compare) */
	struct dpp *pps = xcalloc(p->nstacks, sizeof *pps);
	size_t npps = 0;
	char label[2048];
	st_index(&ftbl, "[root]");

	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *st = &p->stacks[i];
		const uint64_t *f = st->f;
		if (!f[SF_ALLOCS] && !f[SF_BYTES_TOTAL] && !f[SF_LIVE_BYTES] && !f[SF_PEAK_BYTES])
			continue;
		const struct xframe *xf;
		size_t nf = report_frames(r, st->node, &xf);
		uint32_t *fs = xmalloc((nf ? nf : 1) * sizeof *fs);
		if (nf == 0) {
			fs[0] = st_index(&ftbl, "[no stack]");
			nf = 1;
		} else {
			for (size_t k = 0; k < nf; k++) {
				frame_label_vg(r, &xf[k], label, sizeof label);
				fs[k] = st_index(&ftbl, label);
			}
		}
		/* dh_view rejects two records with the same frames: merge them */
		uint64_t h = 0;
		for (size_t k = 0; k < nf; k++)
			h = hash_mix(h ^ fs[k]) + k;
		struct dpp *d = NULL;
		for (uint64_t salt = 0;; salt++) {
			int found;
			struct kent *e = km_slot(&seqs, h, nf, salt, &found);
			if (!found) {
				e->v = npps;
				d = &pps[npps++];
				d->fs = fs;
				d->nfs = nf;
				break;
			}
			struct dpp *o = &pps[e->v];
			if (o->nfs == nf && !memcmp(o->fs, fs, nf * sizeof *fs)) {
				d = o;
				free(fs);
				break;
			}
		}
		/* the stack's own maxima; never below what it had at the peak or
		 * at exit (the runtime's maxima are racy across threads) */
		uint64_t maxb = f[SF_MAX_LIVE_BYTES], maxk = f[SF_MAX_LIVE_BLOCKS];
		if (maxb < f[SF_PEAK_BYTES])
			maxb = f[SF_PEAK_BYTES];
		if (maxb < f[SF_LIVE_BYTES])
			maxb = f[SF_LIVE_BYTES];
		if (maxk < f[SF_PEAK_BLOCKS])
			maxk = f[SF_PEAK_BLOCKS];
		if (maxk < f[SF_LIVE_BLOCKS])
			maxk = f[SF_LIVE_BLOCKS];
		d->tb += f[SF_BYTES_TOTAL];
		d->tbk += f[SF_ALLOCS];
		d->tl += f[SF_LIFETIME];
		d->mb += maxb;
		d->mbk += maxk;
		d->gb += f[SF_PEAK_BYTES];
		d->gbk += f[SF_PEAK_BLOCKS];
		d->eb += f[SF_LIVE_BYTES];
		d->ebk += f[SF_LIVE_BLOCKS];
	}

	/* Time in allocations: the end is the number of allocations; the peak's
	 * is estimated from the bytes allocated by then. */
	uint64_t te = p->tot.allocs, tg = 0;
	if (p->tot.bytes_total && p->peak.total)
		tg = p->peak.total >= p->tot.bytes_total
		             ? te
		             : (uint64_t)((long double)te * (long double)p->peak.total / (long double)p->tot.bytes_total + 0.5L);
	/* tuth: "short-lived" is at most 10 allocations on average (DHAT's
	 * default, 500 instructions, is about as many mallocs) */
	fprintf(out, "{\"dhatFileVersion\":2\n,\"mode\":\"heap\",\"verb\":\"Allocated\"\n"
	        ",\"bklt\":true,\"bkacc\":false\n,\"tu\":\"allocs\",\"Mtu\":\"M allocs\"\n,\"tuth\":10\n,\"cmd\":");
	json_str(out, p->exe[0] ? p->exe : "???");
	fprintf(out, "\n,\"pid\":%" PRIu64 "\n,\"te\":%" PRIu64 "\n,\"tg\":%" PRIu64 "\n,\"pps\":\n [", p->pid, te, tg);
	for (size_t i = 0; i < npps; i++) {
		const struct dpp *d = &pps[i];
		fprintf(out, "%s{\"tb\":%" PRIu64 ",\"tbk\":%" PRIu64 "\n  ,\"tl\":%" PRIu64
		        "\n  ,\"mb\":%" PRIu64 ",\"mbk\":%" PRIu64 "\n  ,\"gb\":%" PRIu64 ",\"gbk\":%" PRIu64
		        "\n  ,\"eb\":%" PRIu64 ",\"ebk\":%" PRIu64 "\n  ,\"fs\":[",
		        i ? "\n ," : "", d->tb, d->tbk, d->tl, d->mb, d->mbk, d->gb, d->gbk, d->eb, d->ebk);
		for (size_t k = 0; k < d->nfs; k++)
			fprintf(out, "%s%" PRIu32, k ? "," : "", d->fs[k]);
		fprintf(out, "]\n  }");
		free(d->fs);
	}
	fprintf(out, "\n ]\n,\"ftbl\":\n [");
	for (size_t i = 0; i < ftbl.n; i++) {
		fputs(i ? "\n ," : "", out);
		json_str(out, ftbl.strs[i]);
	}
	fprintf(out, "\n ]\n}\n");
	free(pps);
	free(seqs.e);
	st_free(&ftbl);
	return 0;
}
