/* stats.c: memlens_get_stats and the statistics printed at exit. */
#include "query/stats.h"
#include "memlens.h"
#include "allocators/custom.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/options.h"
#include "base/outfile.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/chunks.h"
#include <string.h>

ML_API_EXPORT int memlens_get_stats(struct memlens_stats *out, size_t out_size)
{
	struct memlens_stats s;
	struct mlthread *t = memlens__tls.self;
	if (!out)
		return -1;
	/* Publish our own pending delta so a single-threaded program's peak is
	 * exact; not from inside a hook (a signal handler), whose update of
	 * the pending fields we would race with. */
	if (t && memlens__tls.guard == ML_GUARD_NONE)
		memlens__thread_flush_peak(t);
	memlens__thread_sum(&s);
	s.n_untracked += __atomic_load_n(&memlens__untracked_global, __ATOMIC_RELAXED);
	s.bytes_metadata = memlens__chunk_metadata_bytes(s.n_allocs > s.n_frees ? s.n_allocs - s.n_frees : 0) +
	                   memlens__thread_records_bytes();
	memcpy(out, &s, out_size < sizeof s ? out_size : sizeof s);
	return 0;
}

/* The statistics as text into buf; returns the length written. */
static size_t format_stats(char *buf, size_t cap)
{
	struct memlens_stats s;
	char exe[512];
	struct mlbuf b = { buf, cap, 0 };
	memlens__exe_path(exe, sizeof exe);
	memlens_get_stats(&s, sizeof s);
	memlens__bfmt(&b, "memlens: stats pid=%d exe=%s\n", (int)memlens__getpid(), exe);
	memlens__bfmt(&b, "memlens: n_allocs=%lu n_frees=%lu n_reallocs=%lu n_bad_frees=%lu n_untracked=%lu\n",
	              (unsigned long)s.n_allocs, (unsigned long)s.n_frees, (unsigned long)s.n_reallocs,
	              (unsigned long)s.n_bad_frees, (unsigned long)s.n_untracked);
	memlens__bfmt(&b, "memlens: bytes_requested live=%lu peak=%lu total=%lu\n",
	              (unsigned long)s.bytes_requested_live, (unsigned long)s.bytes_requested_peak,
	              (unsigned long)s.bytes_requested_total);
	memlens__bfmt(&b, "memlens: bytes_usable live=%lu peak=%lu\n", (unsigned long)s.bytes_usable_live,
	              (unsigned long)s.bytes_usable_peak);
	memlens__bfmt(&b, "memlens: bytes_metadata %lu\n", (unsigned long)s.bytes_metadata);
	memlens__bfmt(&b, "memlens: bytes_cached %lu\n", (unsigned long)s.bytes_cached);
	memlens__bputs(&b, "memlens: size_classes");
	for (int i = 0; i < MEMLENS_SIZE_CLASSES; i++)
		if (s.size_class[i])
			memlens__bfmt(&b, " %d:%lu", i, (unsigned long)s.size_class[i]);
	memlens__bputc(&b, '\n');
	memlens__custom_print(&b);
	return b.len < cap ? b.len : cap;
}

ML_API_EXPORT void memlens_print_stats(int fd)
{
	char buf[8192];
	size_t n = format_stats(buf, sizeof buf);
	memlens__write_all(fd, buf, n);
}

/* MEMLENS_STATS=path: the process memlens run started (MEMLENS_ROOT_PID),
 * or any process not made by fork when that is unset, writes path; other
 * processes write path.<pid> so that they do not clobber it (a name memlens
 * makes: outfile.h never follows what sits there). */
void memlens__stats_at_exit(void)
{
	char path[ML_OUT_PATH_MAX];
	struct mlbuf b = MLBUF(path);
	pid_t pid = memlens__getpid();
	int own_name;
	if (!memlens__opt.stats)
		return;
	char buf[8192];
	size_t n = format_stats(buf, sizeof buf);
	if (!memlens__opt.stats_path) {
		memlens__log_write(buf, n);
		return;
	}
	own_name = memlens__opt.root_pid ? memlens__opt.root_pid != pid : memlens__forked_child;
	memlens__bputs(&b, memlens__opt.stats_path);
	if (own_name)
		memlens__bfmt(&b, ".%d", (int)pid);
	if (memlens__bend(&b) >= sizeof path) {
		memlens__warn("statistics: cannot write %s...: file name too long", path);
		return;
	}
	struct ml_outfile f;
	if (memlens__outfile_open(&f, "statistics", path, own_name) == 0) {
		memlens__outfile_write(&f, buf, n);
		memlens__outfile_close(&f);
	}
}
