/* exporters.c: the formats of `memlens report --format`, one row each
 * (exporter.h).  The order is --help's; the first row is the default.  A
 * row's help is its entry in --help after "NAME: ", lines of at most 58
 * columns joined by '\n'. */
#include "exporter.h"

const struct report_exporter report_exporters[] = {
	{ "text", "summary and the top stacks by peak live\n"
	          "bytes, by churn, by temporary allocations, and leaks", 0, report_text },
	{ "massif", "valgrind's massif format (ms_print FILE)", 0, report_massif },
	{ "dhat", "DHAT's JSON (valgrind's dh_view.html opens it)", 0, report_dhat },
	{ "pprof", "gzip'd profile.proto (go tool pprof FILE)", 1, report_pprof },
	{ "folded", "\"main;f;g 1234\" lines for flame graphs", 0, report_folded },
	{ "json", "everything, for scripts", 0, report_json },
	{ "html", "one self-contained page: flame graph, heap\n"
	          "over time, top stacks (opens offline)", 0, report_html },
	{ NULL, NULL, 0, NULL }
};
