// OBJS: cli/report cli/report_formats
// CFLAGS: -Isrc/cli
// LIBS: -ldw -lelf -lz -ldl
/* report_reader.c: libFuzzer target for `memlens report`'s reader: each
 * input is parsed as a profile (prof_parse); one that is rejected must come
 * with a message, one that is read is written in every format (to
 * /dev/null), symbolized against the modules it names.  Seeds:
 * report_reader.seeds. */
#include "report.h"

#include <dlfcn.h>
#include <stdlib.h>

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum report_format fmts[] = { RF_TEXT, RF_MASSIF, RF_DHAT, RF_PPROF, RF_FOLDED, RF_JSON };
	char err[512] = "";
	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		/* held for good: each symbolizer's dlopen/dlclose of it is then
		 * a count, not a load */
		dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	}
	struct profile *p = prof_parse(data, size, err, sizeof err);
	if (!p) {
		if (!err[0])
			abort(); /* rejected without a message */
		return 0;
	}
	struct report_opts o = { RF_TEXT, RW_PEAK, 10, "fuzz" };
	struct report r = { p, sym_new(p, NULL, SYM_QUIET | (size & 1 ? SYM_FULL_NAMES : 0)), &o, NULL, 0 };
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		o.format = fmts[i];
		o.weight = (enum report_weight)((i + size) % 4);
		switch (fmts[i]) {
		case RF_TEXT: report_text(&r, devnull); break;
		case RF_MASSIF: report_massif(&r, devnull); break;
		case RF_DHAT: report_dhat(&r, devnull); break;
		case RF_PPROF: report_pprof(&r, devnull); break;
		case RF_FOLDED: report_folded(&r, devnull); break;
		case RF_JSON: report_json(&r, devnull); break;
		}
	}
	free(r.buf);
	sym_free(r.sym);
	prof_free(p);
	return 0;
}
