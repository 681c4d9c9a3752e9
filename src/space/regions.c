/* regions.c: the region table and its page index.
 *
 * Records live in one reserved array and are recycled by id; the radix tree
 * (2048 x 4096 x 4096 entries for 47-bit addresses) maps pages to ids, and an
 * interior entry may hold an id directly when one region covers its whole
 * span (64 GiB or 16 MiB), so big reservations cost a few stores.  Nodes are
 * never unmapped, so a reader holding a stale pointer reads memory that is
 * still there; it then checks the record's sequence number and bounds.
 * Writers hold one lock and keep an address-ordered array of ids for range
 * operations (partial munmap, MAP_FIXED, mremap). */
#include "space/regions.h"
#include "base/prim.h"
#include "base/thread.h"
#include "space/objects.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define PAGE 4096UL
#define PAGE_UP(n) (((uintptr_t)(n) + PAGE - 1) & ~(PAGE - 1))
#define ADDR_BITS 47
#define L1_SHIFT 36
#define L2_SHIFT 24
#define L1_N (1UL << (ADDR_BITS - L1_SHIFT))
#define L2_N (1UL << (L1_SHIFT - L2_SHIFT))
#define L3_N (1UL << (L2_SHIFT - 12))
#define MAX_REGIONS (1U << 17)

static uintptr_t l1[L1_N]; /* 0, an L2 node, or id << 1 | 1 */
static struct ml_region *recs;  /* MAX_REGIONS, id 0 unused */
static uint32_t *order;         /* ids by start address (writers only) */
static uint32_t n_order, next_id = 1, *free_ids, n_free;
static uintptr_t *free_l2, *free_l3; /* recycled nodes, linked through entry 0 */

/* The writers' lock, owner-named (base/prim.h): a signal handler on the
 * holder's thread (mapping, querying, or forking inside memlens's own
 * update) tells that it holds the lock, and skips instead of waiting for
 * itself. */
static uintptr_t lock;
static inline int lock_mine(void) { return memlens__olock_mine(&lock); }
static inline int lock_try(void) { return memlens__olock_try(&lock); }
static inline void lock_release(void) { memlens__olock_unlock(&lock); }
static int ready;

/* ---- radix -------------------------------------------------------------- */

static uintptr_t *new_node(uintptr_t **freelist, size_t bytes, uintptr_t fill, int leaf)
{
	uintptr_t *n = *freelist;
	if (n)
		*freelist = (uintptr_t *)n[0];
	else if (!(n = memlens__map(bytes, 0)))
		return NULL;
	else if (!fill)
		return n; /* fresh pages are zero: not touching them saves their faults */
	if (leaf) {
		uint32_t *e = (uint32_t *)n;
		for (size_t i = 0; i < L3_N; i++)
			e[i] = (uint32_t)(fill >> 1);
	} else {
		for (size_t i = 0; i < L2_N; i++)
			n[i] = fill;
	}
	return n;
}

/* Replaces a node pointer with a whole-span entry; the old node is recycled
 * (a reader still inside it reads ids that fail validation). */
static void replace_entry(uintptr_t *slot, uintptr_t v, int child_is_leaf)
{
	uintptr_t old = *slot;
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
	if (old && !(old & 1)) {
		uintptr_t *n = (uintptr_t *)old;
		if (!child_is_leaf) /* an L2 node: recycle its children first */
			for (size_t i = 0; i < L2_N; i++)
				if (n[i] && !(n[i] & 1)) {
					((uintptr_t *)n[i])[0] = (uintptr_t)free_l3;
					free_l3 = (uintptr_t *)n[i];
				}
		n[0] = child_is_leaf ? (uintptr_t)free_l3 : (uintptr_t)free_l2;
		if (child_is_leaf)
			free_l3 = n;
		else
			free_l2 = n;
	}
}

/* Maps the pages [lo, hi) to id (0: to nothing). */
static void radix_set(uintptr_t lo, uintptr_t hi, uint32_t id)
{
	uintptr_t whole = id ? (uintptr_t)id << 1 | 1 : 0;
	if (hi > 1UL << ADDR_BITS)
		hi = 1UL << ADDR_BITS;
	while (lo < hi) {
		size_t i1 = lo >> L1_SHIFT;
		uintptr_t s1 = i1 << L1_SHIFT, e1 = s1 + (1UL << L1_SHIFT);
		if (lo == s1 && hi >= e1) {
			replace_entry(&l1[i1], whole, 0);
			lo = e1;
			continue;
		}
		uintptr_t v = l1[i1];
		if (!v || (v & 1)) { /* split: an L2 node filled with the old value */
			uintptr_t *n = new_node(&free_l2, L2_N * sizeof(uintptr_t), v, 0);
			if (!n)
				return;
			__atomic_store_n(&l1[i1], (uintptr_t)n, __ATOMIC_RELEASE);
			v = (uintptr_t)n;
		}
		uintptr_t *l2 = (uintptr_t *)v, top = hi < e1 ? hi : e1;
		while (lo < top) {
			size_t i2 = (lo >> L2_SHIFT) & (L2_N - 1);
			uintptr_t s2 = lo & ~((1UL << L2_SHIFT) - 1), e2 = s2 + (1UL << L2_SHIFT);
			if (lo == s2 && top >= e2) {
				replace_entry(&l2[i2], whole, 1);
				lo = e2;
				continue;
			}
			uintptr_t w = l2[i2];
			if (!w || (w & 1)) {
				uintptr_t *n = new_node(&free_l3, L3_N * sizeof(uint32_t), w, 1);
				if (!n)
					return;
				__atomic_store_n(&l2[i2], (uintptr_t)n, __ATOMIC_RELEASE);
				w = (uintptr_t)n;
			}
			uintptr_t t2 = top < e2 ? top : e2;
			size_t pages = (t2 - lo + PAGE - 1) / PAGE;
			uint32_t *e = (uint32_t *)w + ((lo >> 12) & (L3_N - 1)), *end = e + pages;
			/* One fence orders the record before all these stores. */
			__atomic_thread_fence(__ATOMIC_RELEASE);
			for (; e < end; e++)
				__atomic_store_n(e, id, __ATOMIC_RELAXED);
			lo += pages * PAGE;
		}
	}
}

static inline uint32_t radix_get(uintptr_t a)
{
	if (a >> ADDR_BITS)
		return 0;
	uintptr_t v = __atomic_load_n(&l1[a >> L1_SHIFT], __ATOMIC_ACQUIRE);
	if (!v || (v & 1))
		return (uint32_t)(v >> 1);
	v = __atomic_load_n(&((uintptr_t *)v)[(a >> L2_SHIFT) & (L2_N - 1)], __ATOMIC_ACQUIRE);
	if (!v || (v & 1))
		return (uint32_t)(v >> 1);
	return __atomic_load_n(&((uint32_t *)v)[(a >> 12) & (L3_N - 1)], __ATOMIC_ACQUIRE);
}

/* ---- readers ------------------------------------------------------------ */

int memlens__region_find(uintptr_t a, struct ml_region *out)
{
	for (int tries = 0; tries < 4; tries++) {
		uint32_t id = radix_get(a);
		if (!id || id >= MAX_REGIONS)
			return 0;
		const struct ml_region *r = &recs[id];
		uint32_t s = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		memcpy(out, r, sizeof *out);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) != s)
			continue;
		out->seq = s;
		out->pad = 0;
		if (a - out->start < out->end - out->start)
			return 1;
		/* Stale id (a writer is moving pages): look again. */
	}
	return 0;
}

int memlens__region_unchanged(const struct ml_region *r, uintptr_t a)
{
	uint32_t id = radix_get(a);
	return id && id < MAX_REGIONS && __atomic_load_n(&recs[id].seq, __ATOMIC_ACQUIRE) == r->seq &&
	       recs[id].start == r->start;
}

/* ---- writers ------------------------------------------------------------ */

int memlens__regions_begin(void)
{
	if (lock_mine())
		return 0;
	for (int spins = 0; !lock_try(); spins++)
		if (spins > 64)
			ML_SYS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
		else
			memlens__pause();
	return 1;
}

void memlens__regions_end(int began)
{
	if (!began)
		return;
	lock_release();
}

static void rec_begin(struct ml_region *r) { __atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED); __atomic_thread_fence(__ATOMIC_RELEASE); }
static void rec_end(struct ml_region *r) { __atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE); }

static int init_tables(void)
{
	if (recs)
		return 1;
	recs = memlens__map(MAX_REGIONS * sizeof *recs, 1);
	order = memlens__map(MAX_REGIONS * sizeof *order, 1);
	free_ids = memlens__map(MAX_REGIONS * sizeof *free_ids, 1);
	return recs && order && free_ids;
}

/* First position in order[] whose region ends after a. */
static uint32_t order_search(uintptr_t a)
{
	uint32_t lo = 0, hi = n_order;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (recs[order[mid]].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t new_record(void)
{
	uint32_t id = n_free ? free_ids[--n_free] : next_id < MAX_REGIONS ? next_id++ : 0;
	return id;
}

static void order_insert(uint32_t id)
{
	uint32_t pos = order_search(recs[id].start);
	memmove(&order[pos + 1], &order[pos], (n_order - pos) * sizeof *order);
	order[pos] = id;
	n_order++;
}

static void order_delete(uint32_t pos)
{
	memmove(&order[pos], &order[pos + 1], (n_order - pos - 1) * sizeof *order);
	n_order--;
}

static uint32_t insert_record(const struct ml_region *src)
{
	uint32_t id = new_record();
	if (!id)
		return 0;
	struct ml_region *r = &recs[id];
	rec_begin(r);
	uint32_t s = r->seq;
	*r = *src;
	r->seq = s;
	rec_end(r);
	order_insert(id);
	radix_set(r->start, r->end, id);
	return id;
}

/* Removes [lo, hi) from every region it overlaps: whole regions go, others
 * are trimmed, and one that holds the range strictly inside is split. */
static void carve(uintptr_t lo, uintptr_t hi)
{
	uint32_t pos = order_search(lo);
	while (pos < n_order) {
		uint32_t id = order[pos];
		struct ml_region *r = &recs[id];
		if (r->start >= hi)
			break;
		if (lo <= r->start && r->end <= hi) { /* all of it */
			radix_set(r->start, r->end, 0);
			rec_begin(r);
			r->start = r->end = 0;
			rec_end(r);
			order_delete(pos);
			free_ids[n_free++] = id;
			continue;
		}
		if (r->start < lo && hi < r->end) { /* the middle: split */
			struct ml_region upper = *r;
			upper.offset += hi - r->start;
			upper.start = hi;
			rec_begin(r);
			r->end = lo;
			rec_end(r);
			radix_set(lo, hi, 0);
			insert_record(&upper); /* also moves [hi, end) to the new id */
			return;
		}
		if (r->start < lo) { /* the tail */
			radix_set(lo, r->end, 0);
			rec_begin(r);
			r->end = lo;
			rec_end(r);
			pos++;
			continue;
		}
		/* the head */
		radix_set(r->start, hi, 0);
		rec_begin(r);
		r->offset += hi - r->start;
		r->start = hi;
		rec_end(r);
		pos++;
	}
}

/* Region id grows up to end (the brk heap): what was there gives way. */
static void grow_to(uint32_t id, uintptr_t end)
{
	struct ml_region *r = &recs[id];
	uintptr_t from = r->end;
	if (end <= from)
		return;
	carve(from, end);
	rec_begin(r);
	r->end = end;
	rec_end(r);
	radix_set(from, end, id);
}

/* The brk region holding a, or the last one starting below it; 0 if none. */
static uint32_t brk_near(uintptr_t a)
{
	uint32_t pos = order_search(a);
	for (uint32_t i = pos ? pos - 1 : 0; i < n_order && i <= pos; i++)
		if (recs[order[i]].kind == ML_RK_BRK && recs[order[i]].start <= a)
			return order[i];
	return 0;
}

void memlens__region_add_locked(const struct ml_region *r)
{
	if (!init_tables() || r->end <= r->start)
		return;
	carve(r->start, r->end);
	insert_record(r);
}

void memlens__region_remove_locked(uintptr_t lo, uintptr_t hi)
{
	if (recs)
		carve(lo, hi);
}

void memlens__region_protect_locked(uintptr_t lo, uintptr_t hi, int prot)
{
	if (!recs)
		return;
	for (uint32_t pos = order_search(lo); pos < n_order && recs[order[pos]].start < hi; pos++) {
		struct ml_region *r = &recs[order[pos]];
		rec_begin(r);
		if (lo <= r->start && r->end <= hi) {
			r->prot = (uint8_t)prot;
			r->flags &= ~ML_RF_PROT_MIXED;
		} else {
			r->flags |= ML_RF_PROT_MIXED;
		}
		rec_end(r);
	}
}

int memlens__region_resize_locked(uintptr_t lo, uintptr_t old_hi, uintptr_t new_hi)
{
	uint32_t pos;
	if (!recs || (pos = order_search(lo)) >= n_order)
		return 0;
	uint32_t id = order[pos];
	struct ml_region *r = &recs[id];
	if (r->start != lo || r->end != old_hi || new_hi <= lo)
		return 0;
	if (new_hi > old_hi) {
		carve(old_hi, new_hi); /* (what was there is gone: stale records) */
		rec_begin(r);
		r->end = new_hi;
		rec_end(r);
		radix_set(old_hi, new_hi, id);
	} else if (new_hi < old_hi) {
		rec_begin(r); /* the record first: a reader of the tail's old id fails it */
		r->end = new_hi;
		rec_end(r);
		radix_set(new_hi, old_hi, 0);
	}
	return 1;
}

void memlens__region_move_locked(uintptr_t old, size_t old_len, uintptr_t new_, size_t new_len)
{
	struct ml_region r;
	uint32_t pos;
	if (!recs)
		return;
	if (new_ == old && memlens__region_resize_locked(old, old + PAGE_UP(old_len), old + PAGE_UP(new_len)))
		return; /* in place: only the pages between the two ends */
	pos = order_search(old);
	if (pos < n_order && recs[order[pos]].start <= old) {
		r = recs[order[pos]];
		r.offset += old - r.start;
	} else { /* not known: a mapping of the program's, as far as we can tell */
		memset(&r, 0, sizeof r);
		r.kind = ML_RK_MMAP;
		r.prot = PROT_READ | PROT_WRITE;
		r.flags = ML_RF_LEARNT;
	}
	carve(old, old + old_len);
	r.start = new_;
	r.end = new_ + new_len;
	carve(r.start, r.end);
	insert_record(&r);
}

void memlens__region_brk_locked(uintptr_t old, uintptr_t cur)
{
	if (!init_tables())
		return;
	old = PAGE_UP(old);
	cur = PAGE_UP(cur);
	/* The brk region ends at or below the old break. */
	uint32_t id = old ? brk_near(old - 1) : 0;
	if (id) {
		struct ml_region *r = &recs[id];
		if (cur > r->end)
			grow_to(id, cur);
		else if (cur < r->end) {
			if (cur <= r->start)
				carve(r->start, r->end);
			else
				carve(cur, r->end);
		}
		return;
	}
	if (cur > old) {
		struct ml_region r = { .kind = ML_RK_BRK, .prot = PROT_READ | PROT_WRITE, .start = old, .end = cur };
		memlens__region_add_locked(&r);
	}
}

uintptr_t memlens__region_add_stack(uintptr_t lo, uintptr_t hi, pid_t tid)
{
	int b = memlens__regions_begin();
	uintptr_t ret = 0;
	if (init_tables()) {
		/* The pages may hold what /proc/self/maps taught us (glibc maps
		 * stacks itself), or an old thread's stack: those give way; a
		 * mapping the program made keeps the stack as its contents. */
		int program_owned = 0;
		for (uint32_t pos = order_search(lo); pos < n_order && recs[order[pos]].start < hi; pos++) {
			const struct ml_region *r = &recs[order[pos]];
			if (!(r->flags & ML_RF_LEARNT) && r->kind != ML_RK_STACK)
				program_owned = 1;
		}
		if (!program_owned) {
			struct ml_region r = { .kind = ML_RK_STACK, .prot = PROT_READ | PROT_WRITE, .tid = tid, .start = lo, .end = hi };
			carve(lo, hi);
			if (insert_record(&r))
				ret = lo;
		}
	}
	memlens__regions_end(b);
	return ret;
}

void memlens__region_remove_stack(uintptr_t lo, pid_t tid)
{
	int b = memlens__regions_begin();
	if (recs) {
		uint32_t pos = order_search(lo);
		if (pos < n_order) {
			struct ml_region *r = &recs[order[pos]];
			if (r->start == lo && r->kind == ML_RK_STACK && r->tid == tid)
				carve(r->start, r->end);
		}
	}
	memlens__regions_end(b);
}

/* ---- learning from /proc/self/maps --------------------------------------- */

/* The hex number at *q, *q moved past it: strtoul would do too, at several
 * times the cost, and /proc/self/maps has three per line. */
static uint64_t hex(char **q)
{
	uint64_t v = 0;
	char *c = *q;
	for (;; c++) {
		unsigned d;
		if (*c >= '0' && *c <= '9')
			d = (unsigned)(*c - '0');
		else if ((*c | 32) >= 'a' && (*c | 32) <= 'f')
			d = (unsigned)((*c | 32) - 'a' + 10);
		else
			break;
		v = v << 4 | d;
	}
	*q = c;
	return v;
}

void memlens__read_maps(void (*fn)(const struct ml_maps_line *, void *), void *ctx)
{
	char buf[8192];
	size_t have = 0;
	int skip = 0; /* inside a line longer than buf */
	long fd = ML_SYS(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
	if (fd < 0)
		return;
	for (;;) {
		long n = ML_SYS(SYS_read, fd, buf + have, sizeof buf - 1 - have, 0, 0, 0);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		char *p = buf, *end = buf + have, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = 0;
			if (skip) {
				skip = 0;
				p = nl + 1;
				continue;
			}
			struct ml_maps_line l = {0};
			char *q = p;
			l.lo = hex(&q);
			if (*q == '-') {
				q++;
				l.hi = hex(&q);
			}
			while (*q == ' ')
				q++;
			l.prot = (q[0] == 'r' ? PROT_READ : 0) | (q[1] == 'w' ? PROT_WRITE : 0) | (q[2] == 'x' ? PROT_EXEC : 0);
			l.shared = q[3] == 's';
			q += 4;
			while (*q == ' ')
				q++;
			l.offset = hex(&q);
			for (int f = 0; f < 2 && *q; f++) { /* dev, inode */
				while (*q == ' ')
					q++;
				while (*q && *q != ' ')
					q++;
			}
			while (*q == ' ')
				q++;
			l.path = q;
			if (l.hi > l.lo)
				fn(&l, ctx);
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have == sizeof buf - 1) { /* one enormous line: drop it */
			have = 0;
			skip = 1;
		}
		memmove(buf, p, have);
	}
	memlens__close((int)fd);
}

struct learn { uintptr_t prev_hi; int init; };

static void learn_line(const struct ml_maps_line *l, void *arg)
{
	struct learn *st = arg;
	uintptr_t prev_hi = st->prev_hi;
	st->prev_hi = l->hi;
	if (l->hi > 1UL << ADDR_BITS) /* [vsyscall] */
		return;
	if (!strcmp(l->path, "[heap]")) {
		/* The brk heap: one region from its start to the current end. */
		uint32_t id = brk_near(l->lo);
		if (id) {
			grow_to(id, l->hi);
			return;
		}
		struct ml_region r = { .kind = ML_RK_BRK, .prot = (uint8_t)l->prot, .start = l->lo, .end = l->hi };
		carve(l->lo, l->hi);
		insert_record(&r);
		return;
	}
	if (!strcmp(l->path, "[stack]")) {
		uintptr_t lo = l->lo;
		if (st->init) { /* room to grow: down to RLIMIT_STACK, above the mapping below */
			struct rlimit rl;
			uintptr_t room = 8UL << 20;
			if (ML_SYS(SYS_getrlimit, RLIMIT_STACK, &rl, 0, 0, 0, 0) == 0 && rl.rlim_cur != RLIM_INFINITY)
				room = rl.rlim_cur < (1UL << 30) ? rl.rlim_cur : 1UL << 30;
			if (l->hi - room < lo && l->hi > room)
				lo = (l->hi - room) & ~(PAGE - 1);
			if (lo < prev_hi)
				lo = prev_hi;
		}
		struct ml_region r = { .kind = ML_RK_STACK, .flags = ML_RF_MAIN, .prot = PROT_READ | PROT_WRITE,
		                       .tid = memlens__getpid(), .start = lo, .end = l->hi };
		uint32_t pos = order_search(l->lo);
		if (pos < n_order && recs[order[pos]].kind == ML_RK_STACK && (recs[order[pos]].flags & ML_RF_MAIN))
			return;
		carve(lo, l->hi);
		insert_record(&r);
		return;
	}
	/* Anything else not yet known: the gaps between known regions. */
	uintptr_t at = l->lo;
	uint32_t pos = order_search(at);
	while (at < l->hi) {
		uintptr_t next = pos < n_order && recs[order[pos]].start < l->hi ? recs[order[pos]].start : l->hi;
		if (next > at) {
			struct ml_region r = { .kind = ML_RK_MMAP, .prot = (uint8_t)l->prot,
			                       .flags = ML_RF_LEARNT | (l->path[0] == '/' ? ML_RF_FILE : 0),
			                       .offset = l->offset + (at - l->lo), .start = at, .end = next };
			insert_record(&r);
			pos = order_search(next);
		}
		if (pos >= n_order || recs[order[pos]].start >= l->hi)
			break;
		at = recs[order[pos]].end;
		pos++;
	}
}

/* The brk end moves without a call memlens sees (glibc's malloc calls its
 * internal sbrk): ask the kernel. */
static int grow_brk(uintptr_t a)
{
	uint32_t id = brk_near(a);
	if (!id)
		return 0;
	uintptr_t cur = PAGE_UP(ML_SYS(SYS_brk, 0, 0, 0, 0, 0, 0));
	if (a >= cur || cur <= recs[id].end)
		return 0;
	grow_to(id, cur);
	return 1;
}

void memlens__region_brk_refresh(struct ml_region *r)
{
	uintptr_t cur = PAGE_UP(ML_SYS(SYS_brk, 0, 0, 0, 0, 0, 0));
	if (cur == r->end || cur <= r->start || !lock_try())
		return;
	memlens__region_brk_locked(r->end, cur);
	lock_release();
	memlens__region_find(r->start, r);
}

int memlens__region_still_mapped(const struct ml_region *r, uintptr_t a)
{
	unsigned char vec;
	if (!(r->flags & (ML_RF_LEARNT | ML_RF_MALLOC)))
		return 1;
	if (ML_SYS(SYS_mincore, a & ~(PAGE - 1), PAGE, &vec, 0, 0, 0) != -ENOMEM)
		return 1;
	/* Unmapped behind memlens's back (glibc trims its arenas itself). */
	if (lock_try()) {
		if (memlens__region_unchanged(r, a))
			carve(r->start, r->end);
		lock_release();
	}
	return 0;
}

int memlens__region_find_fresh(uintptr_t a, struct ml_region *out)
{
	if (memlens__region_find(a, out))
		return 1;
	if (!ready || a >> ADDR_BITS || !lock_try())
		return 0;
	int found = grow_brk(a) && memlens__region_find(a, out);
	if (!found) {
		memlens__objects_sync_locked();
		found = memlens__region_find(a, out);
	}
	if (!found) {
		unsigned char vec;
		long r = ML_SYS(SYS_mincore, a & ~(PAGE - 1), PAGE, &vec, 0, 0, 0);
		if (r != -ENOMEM) { /* mapped, by someone memlens did not see */
			struct learn st = { 0, 0 };
			memlens__read_maps(learn_line, &st);
			found = memlens__region_find(a, out);
		}
	}
	lock_release();
	return found;
}

/* Does region id hold a, by a consistent read of its record?  A record
 * always has its region's extent (a removed one has none). */
static inline int region_holds(uint32_t id, uintptr_t a)
{
	const struct ml_region *k = &recs[id];
	uint32_t s = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
	uintptr_t lo = __atomic_load_n(&k->start, __ATOMIC_RELAXED), hi = __atomic_load_n(&k->end, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return !(s & 1) && __atomic_load_n(&k->seq, __ATOMIC_RELAXED) == s && a - lo < hi - lo;
}

int memlens__region_known(uintptr_t a)
{
	struct ml_region r;
	/* Queries come in runs over one heap: the thread's last region
	 * first, then the radix tree (whose leaves, one entry a page, miss
	 * the cache on a big heap).  A record being changed: asked again. */
	uint32_t id = memlens__tls.region_hint;
	if (id && id < MAX_REGIONS && region_holds(id, a))
		return 1;
	id = radix_get(a);
	if (id && id < MAX_REGIONS && region_holds(id, a)) {
		memlens__tls.region_hint = id;
		return 1;
	}
	return memlens__region_find_fresh(a, &r);
}

void memlens__regions_init(void)
{
	int b = memlens__regions_begin();
	if (!ready && init_tables()) {
		struct learn st = { 0, 1 };
		memlens__objects_sync_locked();
		memlens__read_maps(learn_line, &st);
		ready = 1;
	}
	memlens__regions_end(b);
}

/* ---- fork --------------------------------------------------------------- */

/* A signal handler that forks while its thread holds the lock (inside an
 * update, or across a realloc's mremap) must not wait for itself: the lock
 * stays the interrupted update's, in parent and child, and the child's
 * fix-ups, which could meet that update half done, are skipped. */
static int prefork_took;

int memlens__regions_mine(void) { return memlens__olock_mine(&lock); }

void memlens__regions_prefork(void)
{
	prefork_took = memlens__olock_lock_unless_mine(&lock);
}

void memlens__regions_postfork(int child)
{
	if (!prefork_took)
		return;
	if (child && recs) {
		/* Only the forking thread lives on: other threads' stacks are now
		 * plain memory the child inherited. */
		uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
		pid_t tid = memlens__gettid();
		for (uint32_t pos = 0; pos < n_order; pos++) {
			struct ml_region *r = &recs[order[pos]];
			if (r->kind != ML_RK_STACK)
				continue;
			rec_begin(r);
			if (sp - r->start < r->end - r->start)
				r->tid = tid;
			else if (r->flags & ML_RF_MAIN)
				r->tid = 0; /* no thread runs on it; its start-up area stays */
			else {
				r->kind = ML_RK_MMAP;
				r->flags |= ML_RF_LEARNT;
			}
			rec_end(r);
		}
	}
	lock_release();
}
