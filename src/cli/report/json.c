/* json.c: --format json, the whole profile with symbolized frames, for
 * scripts. */
#include "exporter.h"

#include <inttypes.h>
#include <string.h>

static void json_hex(FILE *out, uint64_t v)
{
	fprintf(out, "\"0x%" PRIx64 "\"", v);
}

int report_json(struct report *r, FILE *out)
{
	const struct profile *p = r->p;
	static const char *const reasons[] = { "exit", "signal", "snapshot", "exec" };
	static const char *const fields[SF_N] = {
		"allocs", "bytes_total", "live_blocks", "live_bytes", "peak_blocks", "peak_bytes",
		"temp_allocs", "temp_bytes", "lifetime_allocs", "max_bytes", "max_live_blocks", "max_live_bytes"
	};
	fprintf(out, "{\n\"format\": \"memlens-profile\",\n\"version\": %" PRIu32 ",\n\"file\": ", p->version);
	json_str(out, r->o->file ? r->o->file : "");
	fprintf(out, ",\n\"exe\": ");
	json_str(out, p->exe);
	fprintf(out, ",\n\"pid\": %" PRIu64, p->pid);
	if (p->has_ppid)
		fprintf(out, ",\n\"ppid\": %" PRIu64, p->ppid);
	fprintf(out, ",\n\"flags\": %" PRIu32 ",\n\"reason\": ", p->flags);
	if (p->reason < 4)
		fprintf(out, "\"%s\"", reasons[p->reason]);
	else
		fprintf(out, "%" PRIu32, p->reason);
	fprintf(out, ",\n\"start_ns\": %" PRIu64 ",\n\"end_ns\": %" PRIu64 ",\n\"duration_ns\": %" PRIu64
	        ",\n\"wall_start_s\": %" PRIu64 ",\n\"sample_bytes\": %" PRIu64 ",\n\"max_depth\": %" PRIu32 ",\n",
	        p->start_ns, p->end_ns, p->end_ns >= p->start_ns ? p->end_ns - p->start_ns : 0, p->wall_start_s,
	        p->sample_bytes, p->max_depth);
	const struct prof_totals *t = &p->tot;
	fprintf(out, "\"summary\": {\"allocs\": %" PRIu64 ", \"frees\": %" PRIu64 ", \"bytes_total\": %" PRIu64
	        ", \"temp_allocs\": %" PRIu64 ", \"leaked_blocks\": %" PRIu64 ", \"leaked_bytes\": %" PRIu64
	        ", \"samples\": %" PRIu64 ", \"from_sections\": %s},\n",
	        t->allocs, t->frees, t->bytes_total, t->temp_allocs, t->live_blocks, t->live_bytes, t->samples,
	        p->has_totals ? "true" : "false");
	if (p->has_fork) /* a forked child: what it inherited, included above */
		fprintf(out, "\"inherited\": {\"fork_ppid\": %" PRIu64 ", \"allocs\": %" PRIu64 ", \"frees\": %" PRIu64
		        ", \"bytes_total\": %" PRIu64 ", \"temp_allocs\": %" PRIu64 "},\n",
		        p->fork_ppid, p->fork_tot.allocs, p->fork_tot.frees, p->fork_tot.bytes_total, p->fork_tot.temp_allocs);
	fprintf(out, "\"peak\": {\"t_ns\": %" PRIu64 ", \"live_bytes\": %" PRIu64 ", \"live_blocks\": %" PRIu64
	        ", \"total_allocated\": %" PRIu64 ", \"from_sections\": %s},\n",
	        p->peak.t_ns, p->peak.live_bytes, p->peak.live_blocks, p->peak.total, p->has_peak ? "true" : "false");
	fprintf(out, "\"timeline\": [");
	for (size_t i = 0; i < p->ntime; i++) {
		const struct prof_sample *s = &p->timeline[i];
		fprintf(out, "%s\n  {\"t_ns\": %" PRIu64 ", \"live_bytes\": %" PRIu64 ", \"live_blocks\": %" PRIu64
		        ", \"total_allocated\": %" PRIu64, i ? "," : "", s->t_ns, s->live_bytes, s->live_blocks, s->total);
		if (p->has_rss) /* older files have none */
			fprintf(out, ", \"rss_bytes\": %" PRIu64, s->rss);
		putc('}', out);
	}
	fprintf(out, "%s],\n\"stacks\": [", p->ntime ? "\n" : "");
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct prof_stack *st = &p->stacks[i];
		fprintf(out, "%s\n  {\"node\": %" PRIu32, i ? "," : "", st->node);
		for (int k = 0; k < SF_N; k++)
			fprintf(out, ", \"%s\": %" PRIu64, fields[k], st->f[k]);
		fprintf(out, ",\n   \"frames\": [");
		const struct xframe *xf;
		size_t nf = report_frames(r, st->node, &xf);
		for (size_t k = 0; k < nf; k++) {
			const struct sym_pc *sp = xf[k].sp;
			const struct sym_frame *f = &sp->frames[xf[k].idx];
			fprintf(out, "%s\n    {\"pc\": ", k ? "," : "");
			json_hex(out, sp->pc);
			fprintf(out, ", \"module\": ");
			if (sp->mod >= 0) {
				json_str(out, p->mods[sp->mod].path);
				fprintf(out, ", \"offset\": ");
				json_hex(out, sp->off);
			} else {
				fprintf(out, "null, \"offset\": null");
			}
			fprintf(out, ", \"function\": ");
			if (f->func)
				json_str(out, f->func);
			else
				fputs("null", out);
			if (f->sysname && f->func && strcmp(f->sysname, f->func)) {
				fprintf(out, ", \"linkage_name\": ");
				json_str(out, f->sysname);
			}
			fprintf(out, ", \"file\": ");
			if (f->file)
				json_str(out, f->file);
			else
				fputs("null", out);
			fprintf(out, ", \"line\": %u, \"inlined\": %s}", f->line, f->inlined ? "true" : "false");
		}
		fprintf(out, "%s]}", nf ? "\n   " : "");
	}
	fprintf(out, "%s],\n\"modules\": [", p->nstacks ? "\n" : "");
	for (size_t i = 0; i < p->nmods; i++) {
		const struct prof_module *m = &p->mods[i];
		char id[2 * 255 + 1];
		for (unsigned k = 0; k < m->build_id_len; k++)
			sprintf(id + 2 * k, "%02x", m->build_id[k]);
		id[2 * m->build_id_len] = '\0';
		fprintf(out, "%s\n  {\"path\": ", i ? "," : "");
		json_str(out, m->path);
		fprintf(out, ", \"lo\": ");
		json_hex(out, m->lo);
		fprintf(out, ", \"hi\": ");
		json_hex(out, m->hi);
		fprintf(out, ", \"bias\": ");
		json_hex(out, m->bias);
		fprintf(out, ", \"build_id\": \"%s\", \"symbolized\": %s}", id,
		        sym_module_ok(r->sym, (int)i) ? "true" : "false");
	}
	fprintf(out, "%s]\n}\n", p->nmods ? "\n" : "");
	return 0;
}
