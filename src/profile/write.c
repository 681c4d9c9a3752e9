/* write.c: the profile file (profile_format.h), at exit, on a fatal signal,
 * at exec and as a snapshot: the figures are copied under their lock
 * (record.c) and written from the copy while the program goes on.  Nothing
 * here calls malloc; the file is written with raw system calls, through
 * outfile.h (a temporary name renamed into place, or a device or FIFO
 * written directly). */
#include "profile/profile.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/options.h"
#include "base/outfile.h"
#include "base/prim.h"
#include "base/run_state.h"
#include "base/runtime.h"
#include "profile/profile_format.h"
#include "profile/profile_internal.h"
#include "site/stacks.h"
#include "space/objects.h"
#include <string.h>
#include <unistd.h>

_Static_assert(ML_STACK_MAX_NODES == ML_PROF_MAX_NODES, "a profile holds every node of the trie");

struct out { struct ml_outfile f; uint64_t off; char buf[65536]; size_t n; };

static void flush(struct out *o)
{
	if (o->n)
		memlens__outfile_write(&o->f, o->buf, o->n);
	o->off += o->n;
	o->n = 0;
}
static void put(struct out *o, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		size_t k = sizeof o->buf - o->n < len ? sizeof o->buf - o->n : len;
		memcpy(o->buf + o->n, c, k);
		o->n += k;
		c += k;
		len -= k;
		if (o->n == sizeof o->buf)
			flush(o);
	}
}
static void u8(struct out *o, uint8_t v) { put(o, &v, 1); }
static void u16(struct out *o, uint16_t v) { put(o, &v, 2); }
static void u32(struct out *o, uint32_t v) { put(o, &v, 4); }
static void u64(struct out *o, uint64_t v) { put(o, &v, 8); }
static void section(struct out *o, uint32_t tag, uint32_t count, uint64_t bytes)
{
	u32(o, tag);
	u32(o, count);
	u64(o, bytes);
}

/* Modules: the objects memlens knows (objects.c), with their build-ids. */
struct mods { struct out *o; int pass; uint32_t count; uint64_t bytes; };

static void mod_cb(const struct ml_object *ob, void *arg)
{
	struct mods *m = arg;
	size_t pl = strlen(ob->path);
	if (pl > 65535)
		pl = 65535;
	if (m->pass == 0) {
		m->count++;
		m->bytes += 8 * 3 + 2 + pl + 1 + (size_t)ob->build_id_len;
		return;
	}
	u64(m->o, ob->lo);
	u64(m->o, ob->hi);
	u64(m->o, ob->bias);
	u16(m->o, (uint16_t)pl);
	put(m->o, ob->path, pl);
	u8(m->o, (uint8_t)ob->build_id_len);
	put(m->o, ob->build_id, (size_t)ob->build_id_len);
}

static int write_lock;

void memlens__profile_next_name(char *buf, size_t len)
{
	struct mlbuf b = { buf, len, 0 };
	const char *dot = strrchr(memlens__prof_path, '.');
	unsigned long n = 0;
	size_t keep = strlen(memlens__prof_path);
	if (dot && !strncmp(dot, ".exec", 5) && dot[5] >= '0' && dot[5] <= '9') {
		const char *c = dot + 5;
		while (*c >= '0' && *c <= '9')
			n = n * 10 + (unsigned long)(*c++ - '0');
		if (!*c)
			keep = (size_t)(dot - memlens__prof_path);
		else
			n = 0;
	}
	memlens__bputs(&b, "MEMLENS_PROFILE=");
	for (size_t i = 0; i < keep; i++)
		memlens__bputc(&b, memlens__prof_path[i]);
	memlens__bfmt(&b, ".exec%lu", n + 1);
	memlens__bend(&b);
}

void memlens__profile_write(int reason)
{
	if (!memlens__profiling || !memlens__spin_trylock(&write_lock))
		return;
	static struct out o; /* 64 KiB: not on the (possibly small) stack */
	char path[ML_OUT_PATH_MAX];
	struct mlbuf b = MLBUF(path);
	pid_t pid = memlens__getpid();
	int own_name = memlens__prof_path_has_pid;
	/* %p in the name: the pid; otherwise processes other than the one that
	 * memlens run started (or, without it, fork children) add .PID.  Either
	 * way memlens made the name (outfile.h: never followed). */
	for (const char *c = memlens__prof_path; *c; c++)
		if (c[0] == '%' && c[1] == 'p') {
			memlens__bdec(&b, (uint64_t)pid);
			c++;
		} else
			memlens__bputc(&b, *c);
	if (!memlens__prof_path_has_pid && (memlens__opt.root_pid ? memlens__opt.root_pid != pid : memlens__forked_child)) {
		memlens__bfmt(&b, ".%d", (int)pid);
		own_name = 1;
	}
	o.off = 0;
	o.n = 0;
	if (reason != ML_PROF_END_SNAPSHOT) /* written, or a message says why not */
		memlens__run_owes(0, ML_RUN_OWES_PROFILE);
	if (memlens__bend(&b) >= sizeof path) {
		memlens__warn("profile: cannot write %s...: file name too long", path);
		memlens__spin_unlock(&write_lock);
		return;
	}
	if (memlens__outfile_open(&o.f, "profile", path, own_name) != 0) {
		memlens__spin_unlock(&write_lock);
		return;
	}
	char exe[4096];
	memlens__exe_path(exe, sizeof exe);
	size_t el = strlen(exe);
	put(&o, ML_PROF_MAGIC, 8);
	u32(&o, ML_PROF_VERSION);
	u32(&o, 0);
	u64(&o, (uint64_t)pid);
	u64(&o, memlens__prof_start_ns);
	u64(&o, memlens__prof_now_ns());
	u64(&o, memlens__prof_wall_start);
	u64(&o, memlens__prof_sample);
	u32(&o, (uint32_t)memlens__prof_depth);
	u32(&o, (uint32_t)reason);
	u16(&o, (uint16_t)el);
	put(&o, exe, el);

	struct mods m = { &o, 0, 0, 0 };
	memlens__objects_foreach(mod_cb, &m);
	section(&o, ML_PROF_TAG_MODS, m.count, m.bytes);
	m.pass = 1;
	memlens__objects_foreach(mod_cb, &m);

	static struct prof_figures fig; /* under write_lock */
	struct pstats *fs;
	size_t fs_len;
	int fs_mapped = memlens__prof_copy_figures(&fig, &fs, &fs_len);
	/* after the copy: every stack it holds has its nodes among these */
	uint32_t nn = memlens__stack_count();
	section(&o, ML_PROF_TAG_NODE, nn - 1, (uint64_t)(nn - 1) * 12);
	for (uint32_t i = 1; i < nn; i++) {
		u32(&o, memlens__stack_nodes[i].parent);
		u64(&o, memlens__stack_nodes[i].pc);
	}

	uint32_t ns = fig.ns, pid_now = fig.g.peak_id;
	section(&o, ML_PROF_TAG_STKS, ns, (uint64_t)ns * (4 + 8 * ML_PROF_STKS_FIELDS));
	for (uint32_t i = 0; i < ns; i++) {
		const struct pstats *s = &fs[i];
		int at_peak_now = s->peak_id != pid_now; /* unchanged since the peak */
		u32(&o, s->node);
		u64(&o, FX_OUT(s->allocs));
		u64(&o, s->bytes_total);
		u64(&o, FX_OUT(s->live_blocks));
		u64(&o, s->live_bytes);
		u64(&o, FX_OUT(at_peak_now ? s->live_blocks : s->peak_blocks));
		u64(&o, at_peak_now ? s->live_bytes : s->peak_bytes);
		u64(&o, FX_OUT(s->temp_allocs));
		u64(&o, s->temp_bytes);
		u64(&o, s->lifetime);
		u64(&o, s->max_bytes);
		u64(&o, FX_OUT(s->max_live_blocks));
		u64(&o, s->max_live_bytes);
	}

	if (fig.g.fork_id) { /* optional: what a forked child inherited */
		uint64_t b[5];
		uint32_t nb = 0;
		for (uint32_t i = 0; i < ns; i++) {
			memlens__prof_fork_base(&fs[i], &fig.g, b);
			nb += (b[0] | b[1]) != 0;
		}
		section(&o, ML_PROF_TAG_FRKT, 1, 40);
		u64(&o, fig.g.fork_ppid);
		u64(&o, FX_OUT(fig.g.fork_allocs));
		u64(&o, FX_OUT(fig.g.fork_frees));
		u64(&o, fig.g.fork_bytes_total);
		u64(&o, FX_OUT(fig.g.fork_temp));
		section(&o, ML_PROF_TAG_FRKS, nb, (uint64_t)nb * 44);
		for (uint32_t i = 0; i < ns; i++) {
			memlens__prof_fork_base(&fs[i], &fig.g, b);
			if (!(b[0] | b[1]))
				continue;
			u32(&o, fs[i].node);
			u64(&o, FX_OUT(b[0]));
			u64(&o, b[1]);
			u64(&o, FX_OUT(b[2]));
			u64(&o, b[3]);
			u64(&o, b[4]);
		}
	}

	if (fs_mapped)
		memlens__unmap(fs, fs_len);

	unsigned tn = fig.tl_n;
	section(&o, ML_PROF_TAG_TIME, tn + 1, (uint64_t)(tn + 1) * 32);
	for (unsigned i = 0; i < tn; i++) {
		u64(&o, fig.tl[i].t);
		u64(&o, fig.tl[i].live);
		u64(&o, fig.tl[i].blocks);
		u64(&o, fig.tl[i].total);
	}
	u64(&o, memlens__prof_now_ns() - memlens__prof_start_ns); /* the end, as the last point */
	u64(&o, (uint64_t)fig.g.live_bytes);
	u64(&o, FX_OUT(memlens__prof_live_blocks(&fig.g)));
	u64(&o, fig.g.total_bytes);

	/* optional: the resident set size at each point of the timeline */
	section(&o, ML_PROF_TAG_RSS, tn + 1, (uint64_t)(tn + 1) * 8);
	for (unsigned i = 0; i < tn; i++)
		u64(&o, fig.tl[i].rss);
	u64(&o, memlens__prof_rss());

	section(&o, ML_PROF_TAG_PEAK, 1, 32);
	u64(&o, fig.g.peak_t);
	u64(&o, fig.g.peak_bytes);
	u64(&o, FX_OUT(fig.g.peak_blocks));
	u64(&o, fig.g.peak_total);

	section(&o, ML_PROF_TAG_TOTL, 1, 56);
	u64(&o, FX_OUT(fig.g.allocs));
	u64(&o, FX_OUT(fig.g.frees));
	u64(&o, fig.g.total_bytes);
	u64(&o, FX_OUT(fig.g.temp));
	u64(&o, FX_OUT(memlens__prof_live_blocks(&fig.g)));
	u64(&o, (uint64_t)fig.g.live_bytes);
	u64(&o, memlens__prof_samples(&fig.g));

	section(&o, ML_PROF_TAG_PROC, 1, 8); /* optional: the process tree's parent */
	u64(&o, (uint64_t)ML_SYS(SYS_getppid, 0, 0, 0, 0, 0, 0));

	uint64_t len = o.off + o.n;
	section(&o, ML_PROF_TAG_END, 0, 8);
	u64(&o, len);
	flush(&o);
	if (memlens__outfile_close(&o.f) == 0 && memlens__opt.verbose) /* else outfile said why */
		memlens__diag("profile: wrote %s (%llu stacks walked; unwinds up to a known frame: %llu; full unwinds: %llu new return addresses, %llu varying frame sizes, %llu out of bounds, %llu without a CFA)",
		              path, (unsigned long long)memlens__prof_samples(&fig.g), (unsigned long long)memlens__prof_unwinds[ML_UNWIND_TO_KNOWN],
		              (unsigned long long)memlens__prof_unwinds[ML_UNWIND_NEW],
		              (unsigned long long)memlens__prof_unwinds[ML_UNWIND_VARIES],
		              (unsigned long long)memlens__prof_unwinds[ML_UNWIND_BOUNDS],
		              (unsigned long long)memlens__prof_unwinds[ML_UNWIND_NO_CFA]);
	memlens__spin_unlock(&write_lock);
}
