/* stacks.h: the trie of call stacks (stacks.c).  The profiler records each
 * allocation's stack as a node of it, (parent, pc) edges found through a
 * hash table; queries read a node back as a site (site_field.h).  Nodes are
 * never removed: a node once found stays valid.  The lookup is inline here,
 * so that the profiler's walk, which looks up a frame at a time, pays no
 * call for it. */
#ifndef MEMLENS_STACKS_H
#define MEMLENS_STACKS_H
#include <stdint.h>
#include "base/compiler.h"

struct ml_stack_node { uintptr_t pc; uint32_t parent, next; };
#define ML_STACK_MAX_NODES (1u << 24) /* the profile format's ML_PROF_MAX_NODES */
#define ML_STACK_BUCKETS (1u << 20)
extern ML_HIDDEN struct ml_stack_node *memlens__stack_nodes;
extern ML_HIDDEN uint32_t *memlens__stack_buckets, memlens__stack_n; /* node 0: the root */

/* memlens's own code, from its ELF header to the end of its text: the
 * thread trampoline under every thread's start routine, the pthread_create
 * wrapper above the allocations of the real pthread_create.  Not the
 * program's frames: the trie gives them no node of their own (a check made
 * once per new edge of a thread's stacks, not per allocation). */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _etext[] __attribute__((visibility("hidden")));

/* Maps the trie (the profiler's start-up): 0, or -1 without memory. */
int memlens__stacks_init(void);
/* The child's slow path: takes the trie's lock, adds it if still missing. */
uint32_t memlens__stack_add(uint32_t parent, uintptr_t pc, unsigned h);

/* The node for pc called from parent, made if new: 0 (the root) when the
 * trie is full. */
static inline uint32_t memlens__stack_child(uint32_t parent, uintptr_t pc)
{
	if (parent && pc - (uintptr_t)__ehdr_start < (uintptr_t)(_etext - __ehdr_start))
		return parent; /* a frame of memlens's own: the stack goes on without it */
	unsigned h = (unsigned)(((pc ^ ((uint64_t)parent << 40)) * 0x9e3779b97f4a7c15ull) >> 44) & (ML_STACK_BUCKETS - 1);
	for (uint32_t i = __atomic_load_n(&memlens__stack_buckets[h], __ATOMIC_ACQUIRE); i; i = memlens__stack_nodes[i].next)
		if (memlens__stack_nodes[i].pc == pc && memlens__stack_nodes[i].parent == parent)
			return i;
	return memlens__stack_add(parent, pc, h);
}

/* How many nodes there are (the root counted): 1..n-1 exist. */
static inline uint32_t memlens__stack_count(void) { return __atomic_load_n(&memlens__stack_n, __ATOMIC_ACQUIRE); }

/* Is node one the trie has made?  A tagged site field is used as an index
 * only then: whatever forged the tag, it never reads outside the trie. */
static inline int memlens__stack_exists(uint32_t node)
{
	/* 1 <= node < n; n passes 1 only once the trie is mapped */
	return node - 1 < memlens__stack_count() - 1;
}
#endif
