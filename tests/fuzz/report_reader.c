// OBJS: cli/report/* cli/xalloc
// CFLAGS: -Isrc/cli
// LIBS: -ldw -lelf -lz -ldl
/* report_reader.c: libFuzzer target for `memlens report`'s reader: each
 * input is parsed as a profile (prof_parse); one that is rejected must come
 * with a message, one that is read is written in every format (to
 * /dev/null), symbolized against the modules it names.  Seeds:
 * report_reader.seeds. */
#include "report/exporter.h"

#include <dlfcn.h>
#include <stdlib.h>

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	struct report_opts o = { RW_PEAK, 10, "fuzz" };
	struct report r = { p, sym_new(p, NULL, SYM_QUIET | (size & 1 ? SYM_FULL_NAMES : 0)), &o, NULL, 0 };
	for (size_t i = 0; report_exporters[i].name; i++) {
		o.weight = (enum report_weight)((i + size) % 4);
		report_exporters[i].write(&r, devnull);
	}
	free(r.buf);
	sym_free(r.sym);
	prof_free(p);
	return 0;
}
