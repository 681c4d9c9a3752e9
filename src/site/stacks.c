/* stacks.c: the trie of call stacks, (parent, pc) nodes found through a
 * hash table (the lookup is inline in stacks.h), and the site a recorded
 * chunk's node stands for. */
#include "site/stacks.h"
#include "base/prim.h"
#include "site/site.h"
#include "site/site_field.h"

struct ml_stack_node *memlens__stack_nodes;
uint32_t *memlens__stack_buckets, memlens__stack_n = 1;
static int trie_lock;

int memlens__stacks_init(void)
{
	memlens__stack_nodes = memlens__map((size_t)ML_STACK_MAX_NODES * sizeof *memlens__stack_nodes, 1);
	memlens__stack_buckets = memlens__map((size_t)ML_STACK_BUCKETS * sizeof *memlens__stack_buckets, 1);
	return memlens__stack_nodes && memlens__stack_buckets ? 0 : -1;
}

uint32_t memlens__stack_add(uint32_t parent, uintptr_t pc, unsigned h)
{
	struct ml_stack_node *nodes = memlens__stack_nodes;
	uint32_t *buckets = memlens__stack_buckets;
	uint32_t i;
	memlens__spin_lock(&trie_lock);
	for (i = buckets[h]; i; i = nodes[i].next)
		if (nodes[i].pc == pc && nodes[i].parent == parent)
			break;
	if (!i && memlens__stack_n < ML_STACK_MAX_NODES) {
		i = memlens__stack_n;
		nodes[i].pc = pc;
		nodes[i].parent = parent;
		nodes[i].next = buckets[h];
		__atomic_store_n(&buckets[h], i, __ATOMIC_RELEASE);
		__atomic_store_n(&memlens__stack_n, i + 1, __ATOMIC_RELEASE);
	}
	memlens__spin_unlock(&trie_lock);
	return i; /* 0 (the root) when the trie is full */
}

const void *memlens__site_of(const void *site)
{
	if (!memlens__site_is_node(site))
		return site;
	uint32_t i = memlens__site_node(site);
	if (!memlens__stack_exists(i))
		return NULL;
	/* The first frame outside the wrappers, as the site would be. */
	for (uint32_t k = i; k && k < ML_STACK_MAX_NODES; k = memlens__stack_nodes[k].parent) {
		if (!memlens__site_skips(memlens__stack_nodes[k].pc))
			return (const void *)memlens__stack_nodes[k].pc;
	}
	return i ? (const void *)memlens__stack_nodes[i].pc : NULL;
}
