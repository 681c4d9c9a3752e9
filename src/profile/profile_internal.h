/* profile_internal.h: what the profiler's files share (profile.h has the
 * rest of memlens's view).  walk.c/walk.h walk a recorded allocation's
 * stack, record.c keeps the figures per stack and thread, write.c writes the
 * file, start.c reads the options and takes signals.  Hidden, so that the
 * record path loads these directly, not through the GOT. */
#ifndef MEMLENS_PROFILE_INTERNAL_H
#define MEMLENS_PROFILE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include "base/compiler.h"
#include "base/prim.h"

/* Counts are kept in 16.16 fixed point, so that sampled estimates (each
 * sample stands for 1/p allocations) add up without rounding bias. */
#define FX 65536.0
#define FX_OUT(v) (((uint64_t)(v) + 32768) >> 16)

/* The options, as start.c read them. */
/* The profiler may still start (start.c: the constructor will decide):
 * threads that allocate meanwhile keep checking (record.c). */
extern ML_HIDDEN int memlens__prof_pending;
extern ML_HIDDEN char memlens__prof_path[4096]; /* MEMLENS_PROFILE */
extern ML_HIDDEN int memlens__prof_path_has_pid;
extern ML_HIDDEN uint64_t memlens__prof_sample; /* MEMLENS_SAMPLE; 0: every allocation */
/* Recording every allocation: profiling (or about to: set just before
 * memlens__profiling), with no sampling.  One test for the record path. */
extern ML_HIDDEN int memlens__prof_every;
extern ML_HIDDEN int memlens__prof_depth; /* MEMLENS_PROFILE_DEPTH */
extern ML_HIDDEN uint64_t memlens__prof_start_ns, memlens__prof_wall_start;

/* libc's clock_gettime reads the vDSO (no system call: a new peak takes the
 * time, and a program growing its heap makes one per allocation); it sets
 * no errno when it succeeds, takes no lock and is async-signal-safe. */
static inline uint64_t memlens__prof_now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Full unwinds (walk.c; diagnostics for MEMLENS_VERBOSE): new pc,
 * varying, out of bounds, no CFA. */
/* The profiler's walks that took the unwinder (rare: the walks themselves
 * are not counted), by why (walk.h); memlens run --verbose prints them. */
enum { ML_UNWIND_NEW, ML_UNWIND_VARIES, ML_UNWIND_BOUNDS, ML_UNWIND_NO_CFA, ML_UNWIND_TO_KNOWN, ML_UNWIND_WHYS };
extern ML_HIDDEN uint64_t memlens__prof_unwinds[ML_UNWIND_WHYS];

/* ---- the figures (record.c) ---- */

struct pstats {
	uint32_t node, peak_id;
	uint64_t allocs, bytes_total, live_blocks, live_bytes, peak_blocks, peak_bytes, temp_allocs, temp_bytes,
		lifetime, max_bytes, max_live_blocks, max_live_bytes;
	/* The figures a forked child inherited (its base_*), saved lazily as
	 * the peak's are: fork_id is the totals' when they were saved, and
	 * epoch the totals' when either was last checked (one compare on the
	 * common path). */
	uint32_t epoch, fork_id;
	uint64_t base_allocs, base_bytes_total, base_temp_allocs, base_temp_bytes, base_lifetime;
};

/* Global figures: live totals decide the peak. */
struct prof_totals {
	int64_t live_bytes; /* (live blocks: allocs - frees, memlens__prof_live_blocks) */
	uint64_t total_bytes, allocs, frees, temp;
	uint64_t samples; /* allocations recorded, while sampling (with every
	                     allocation recorded: allocs, memlens__prof_samples) */
	uint64_t peak_bytes, peak_blocks, peak_t, peak_total;
	uint32_t peak_id;
	uint32_t epoch;   /* moves with peak_id and fork_id */
	uint32_t fork_id; /* forks into this process since profiling began (0: none) */
	/* At the last fork: the parent's pid and its totals, inherited. */
	uint64_t fork_ppid, fork_allocs, fork_frees, fork_bytes_total, fork_temp;
};

/* The totals' live blocks (fixed point), and allocations recorded. */
static inline int64_t memlens__prof_live_blocks(const struct prof_totals *gg)
{
	return (int64_t)(gg->allocs - gg->frees);
}
static inline uint64_t memlens__prof_samples(const struct prof_totals *gg)
{
	return memlens__prof_sample ? gg->samples : FX_OUT(gg->allocs);
}

/* The timeline: about 100-200 points, massif's way. */
#define TL_MAX 200
struct tl_point { uint64_t t, live, blocks, total, rss; }; /* rss: bytes, 0 unknown */
/* The process's resident set size now, from /proc/self/statm (opened and
 * closed again: three system calls, at timeline points only); 0 when it
 * cannot be read. */
uint64_t memlens__prof_rss(void);

/* The figures as one moment saw them (for the writer). */
struct prof_figures { struct prof_totals g; struct tl_point tl[TL_MAX]; unsigned tl_n; uint32_t ns; };

/* Start-up: maps the per-stack tables; 0, or -1 without memory. */
int memlens__prof_tables_init(void);
/* Copies the figures under their lock into fig and, per stack, into memory
 * of our own (*stats_out, *len_out long: returns 1, to be unmapped), or
 * leaves the stacks' figures where they are (returns 0: no memory). */
int memlens__prof_copy_figures(struct prof_figures *fig, struct pstats **stats_out, size_t *len_out);
/* What a forked child inherited of the stack s (a copy of the figures
 * under the totals gg): allocs, bytes_total, temp_allocs, temp_bytes,
 * lifetime (fixed point where the figures are). */
void memlens__prof_fork_base(const struct pstats *s, const struct prof_totals *gg, uint64_t out[5]);
/* A snapshot asked for by a signal: 1 if this thread is changing the
 * figures (written when it is done), else 0 (write it now). */
int memlens__prof_defer_snapshot(void);
/* The constructor: this thread's stack, now that the mappings are known. */
void memlens__prof_thread_rebound(void);
#endif
