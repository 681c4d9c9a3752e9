/* profile_format.h: the heap profile file that `memlens run --profile`
 * writes (src/profile/write.c) and `memlens report` reads (src/cli/report*.c).
 *
 * All integers little-endian, fixed width, no padding between fields (the
 * structs below are only a description: readers parse field by field).
 *
 *   header   "MLPROF\r\n" (8 bytes), u32 version (1), u32 flags,
 *            u64 pid, u64 start_ns, u64 end_ns (CLOCK_MONOTONIC), u64 wall_start_s
 *            (unix time), u64 sample_bytes (0: every allocation recorded),
 *            u32 max_depth, u32 reason (why it was written: ML_PROF_END_*),
 *            u16 exe_len, exe_len bytes of the executable's path
 *   sections, each: u32 tag, u32 count, u64 bytes (of the payload that
 *            follows); a reader skips tags it does not know
 *   trailer  the section ML_PROF_TAG_END with count 0 and bytes 8: u64 the
 *            file's length up to the trailer; a file without it is
 *            truncated.
 *
 * Sections (count = number of records):
 *   MODS  loaded objects: u64 lo, u64 hi (the span it was mapped at),
 *         u64 bias (load bias: file address = run-time address - bias),
 *         u16 path_len, path, u8 build_id_len, build_id bytes
 *   NODE  the stack trie: record i is node i+1 (node 0 is the root, not
 *         written): u32 parent, u64 pc (a return address, for every frame,
 *         the leaf too: look up pc - 1 for the call's line).  A stack is a
 *         node; its frames are the node, its parent, ... up to the root,
 *         innermost first.
 *   STKS  one record per stack that allocated: u32 node, then u64 each:
 *         allocs, bytes_total (churn: every request), live_blocks,
 *         live_bytes (now, or at exit: leaked), peak_blocks, peak_bytes (live
 *         at the moment of the global peak), temp_allocs, temp_bytes
 *         (freed right after being made: no allocation in between, on the
 *         same thread), lifetime (sum over freed blocks of their lifetimes,
 *         measured in allocations: how many allocations the process made
 *         between the block's allocation and its free; approximate across
 *         threads), max_bytes (the largest single request), max_live_blocks
 *         and max_live_bytes (the most this stack had live at any moment;
 *         blocks and bytes each at their own maximum).  In sampling mode
 *         these are estimates already scaled (unbiased), rounded.
 *   TIME  the timeline: u64 t_ns (since start), u64 live_bytes, u64
 *         live_blocks, u64 total_allocated (bytes so far), in time order
 *   RSSB  (optional, absent from older files; right after TIME) one u64
 *         per TIME record, in its order: the process's resident set size
 *         in bytes at that point (from /proc/self/statm), 0 when unknown
 *   PEAK  one record: u64 t_ns, u64 live_bytes, u64 live_blocks,
 *         u64 total_allocated at the peak
 *   TOTL  one record: u64 allocs, u64 frees, u64 bytes_total, u64 temp_allocs,
 *         u64 live_blocks_at_end, u64 live_bytes_at_end, u64 samples
 *   PROC  (optional, absent from older files) one record: u64 ppid, the
 *         parent's pid when the file was written (memlens report's
 *         process tree)
 *   FRKT  (optional: a forked child's file; absent from older files) one
 *         record: u64 the parent's pid at the (last) fork, then the totals
 *         the child inherited there: u64 allocs, u64 frees, u64
 *         bytes_total, u64 temp_allocs.  The child's figures include them
 *         (they start from its parent's at the fork); a merge of the
 *         process tree counts them once.
 *   FRKS  (with FRKT) per stack that had allocated at the fork: u32 node,
 *         then u64 each: allocs, bytes_total, temp_allocs, temp_bytes,
 *         lifetime inherited (included in its STKS figures)
 */
#ifndef MEMLENS_PROFILE_FORMAT_H
#define MEMLENS_PROFILE_FORMAT_H
#include <stdint.h>

#define ML_PROF_MAGIC "MLPROF\r\n"
#define ML_PROF_VERSION 1

#define ML_PROF_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define ML_PROF_TAG_MODS ML_PROF_TAG('M', 'O', 'D', 'S')
#define ML_PROF_TAG_NODE ML_PROF_TAG('N', 'O', 'D', 'E')
#define ML_PROF_TAG_STKS ML_PROF_TAG('S', 'T', 'K', 'S')
#define ML_PROF_TAG_TIME ML_PROF_TAG('T', 'I', 'M', 'E')
#define ML_PROF_TAG_RSS ML_PROF_TAG('R', 'S', 'S', 'B')
#define ML_PROF_TAG_PEAK ML_PROF_TAG('P', 'E', 'A', 'K')
#define ML_PROF_TAG_TOTL ML_PROF_TAG('T', 'O', 'T', 'L')
#define ML_PROF_TAG_PROC ML_PROF_TAG('P', 'R', 'O', 'C')
#define ML_PROF_TAG_FRKT ML_PROF_TAG('F', 'R', 'K', 'T')
#define ML_PROF_TAG_FRKS ML_PROF_TAG('F', 'R', 'K', 'S')
#define ML_PROF_TAG_END ML_PROF_TAG('E', 'N', 'D', '!')

/* Why the file was written. */
/* At exec, the image's profile is written to FILE and the new image writes
 * FILE.exec1 (then .exec2, ...). */
enum { ML_PROF_END_EXIT = 0, ML_PROF_END_SIGNAL = 1, ML_PROF_END_SNAPSHOT = 2, ML_PROF_END_EXEC = 3 };

#define ML_PROF_STKS_FIELDS 12 /* u64s after the node id */

/* Limits a writer keeps and a reader enforces, so that a hostile file
 * cannot make the reader read or write without bound: max_depth is 1 to
 * ML_PROF_MAX_DEPTH and no node is deeper than the header's max_depth;
 * nodes (the root counted) and STKS records at most ML_PROF_MAX_NODES; TIME
 * records at most ML_PROF_MAX_TIME; at most ML_PROF_MAX_SECTIONS sections
 * (the trailer counted); MODS and sections a reader does not know at most
 * ML_PROF_MAX_OTHER bytes each. */
#define ML_PROF_MAX_DEPTH 256
#define ML_PROF_MAX_NODES (1u << 24)
#define ML_PROF_MAX_TIME (1u << 20)
#define ML_PROF_MAX_SECTIONS 64
#define ML_PROF_MAX_OTHER ((uint64_t)64 << 20)
#endif
