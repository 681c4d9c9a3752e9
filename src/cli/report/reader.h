/* reader.h: a heap profile in memory, and the reader that makes one from a
 * file (src/profile/profile_format.h is the contract).
 *
 * The reader never trusts the file: every count is checked against the
 * bytes that hold it before anything is allocated, and a corrupt, truncated
 * or foreign file gives one message naming the problem and its byte offset.
 * What the rest of `memlens report` sees is a validated profile. */
#ifndef MEMLENS_REPORT_READER_H
#define MEMLENS_REPORT_READER_H
#include <stddef.h>
#include <stdint.h>

/* The figures of one STKS record, in file order (ML_PROF_STKS_FIELDS of
 * them).  SF_LIFETIME is measured in allocations: the sum, over the freed
 * blocks, of how many allocations the process made between a block's
 * allocation and its free.  SF_MAX_LIVE_BLOCKS and SF_MAX_LIVE_BYTES are the
 * most the stack had live at any moment, each at its own maximum. */
enum {
	SF_ALLOCS, SF_BYTES_TOTAL, SF_LIVE_BLOCKS, SF_LIVE_BYTES, SF_PEAK_BLOCKS,
	SF_PEAK_BYTES, SF_TEMP_ALLOCS, SF_TEMP_BYTES, SF_LIFETIME, SF_MAX_BYTES,
	SF_MAX_LIVE_BLOCKS, SF_MAX_LIVE_BYTES,
	SF_N
};

struct prof_module {
	uint64_t lo, hi, bias;     /* run-time span [lo, hi) and load bias */
	char *path;
	unsigned build_id_len;
	uint8_t build_id[255];
};

struct prof_node {
	uint32_t parent;           /* 0: the root */
	uint32_t depth;            /* frames from here to the root (root: 0) */
	uint64_t pc;
};

struct prof_stack {
	uint32_t node;
	uint64_t f[SF_N];
};

struct prof_sample {               /* a TIME record, or the PEAK record */
	uint64_t t_ns, live_bytes, live_blocks, total;
	uint64_t rss;                  /* TIME: the RSS section's bytes, 0 unknown */
};

struct prof_totals {
	uint64_t allocs, frees, bytes_total, temp_allocs, live_blocks, live_bytes, samples;
};

struct profile {
	uint32_t version, flags, max_depth, reason;
	uint64_t pid, start_ns, end_ns, wall_start_s, sample_bytes;
	char *exe;
	struct prof_module *mods;
	size_t nmods;
	struct prof_node *nodes;   /* nodes[0] is the root; nnodes counts it */
	size_t nnodes;
	struct prof_stack *stacks; /* one per node (duplicates merged), by node */
	size_t nstacks;
	struct prof_sample *timeline; /* by time */
	size_t ntime;
	struct prof_sample peak;
	int has_peak, has_totals;  /* 0: derived from the other sections */
	uint64_t ppid;             /* the parent when written (PROC section) */
	int has_ppid;              /* 0: an older file, no PROC section */
	int has_rss;               /* the timeline carries RSS (an RSS section) */
	struct prof_totals tot;
	/* A forked child's file (FRKT, FRKS): what it inherited at the fork,
	 * included in its figures: the totals (allocs, frees, bytes_total,
	 * temp_allocs) and per stack (SF_ALLOCS, SF_BYTES_TOTAL,
	 * SF_TEMP_ALLOCS, SF_TEMP_BYTES, SF_LIFETIME; one per node, by node). */
	int has_fork;
	uint64_t fork_ppid;        /* the parent at the fork */
	struct prof_totals fork_tot;
	struct prof_stack *fork_stacks;
	size_t nfork;
	size_t file_size;
};

/* Reads a profile's bytes from path, only as far as its own structure
 * says (a foreign file or a device is left after its first bytes); NULL
 * with the reason (strerror's) in err when the file cannot be read.  What
 * it returns goes to prof_parse, which finds any problem where reading
 * stopped. */
uint8_t *prof_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Parses a whole file held in memory.  NULL on error, with the message
 * ("truncated at offset 1234 (in section STKS)", ...) in err. */
struct profile *prof_parse(const uint8_t *buf, size_t len, char *err, size_t errlen);
void prof_free(struct profile *p);

/* Takes out of p's figures what it inherited at its fork (nothing for a
 * file without FRKT): the allocations, bytes, temporaries, lifetimes and
 * frees its parent made; what is live stays (it is live in the child too).
 * For a merge of a process tree that holds the parent. */
void prof_drop_inherited(struct profile *p);
#endif
