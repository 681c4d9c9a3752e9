#!/bin/bash
# ext_plugin: plugins (MEMLENS_PLUGINS, memlens run --plugin).
# - examples/dmd_plugin.c (built as its README says) on a program linked
#   with -lmemlens and, under `memlens run --plugin=`, on a plain build: its
#   report at exit names the program's top allocation site (big_allocator,
#   exactly 1000 allocations of 10000 bytes) first;
# - a test plugin: its memlens_plugin_init runs before main (it sets an
#   environment variable main checks); the observer it creates there gets
#   every chunk live at that moment replayed (exactly as many as
#   n_allocs - n_frees of memlens_get_stats said then), each one answering
#   alloc_get_info with that base, size and site; the chunk a library
#   constructor allocated before memlens's own constructor ran and kept is
#   replayed with its site in that constructor (the ASan build keeps no
#   sites for chunks made before its constructor); the one it freed is not;
#   later allocations (the program's constructor, main) arrive once each,
#   and so does one the plugin's init made after creating its observer;
# - a path that does not load: a "memlens: warning: plugin PATH: cannot
#   load it" line, the program runs and exits 0, the next plugin in the list
#   still loads; a .so without memlens_plugin_init: a warning naming it;
# - `memlens run --plugin=/nonexistent.so`: usage error (status 2);
# - `memlens run --plugin=dmd_plugin.so` (no slash) loads ./dmd_plugin.so.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
cc=${CC:-gcc}
san=
envv=()
asan=
if [ "$MEMLENS_TEST_ASAN" != 0 ]; then
	san="-fsanitize=address,undefined"
	envv=(ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:allocator_may_return_null=1)
	asan=asan
fi
inc=$BUILD/include

# the example, built as examples/README.md says
$cc -shared -fPIC -O2 -I"$inc" -o dmd_plugin.so "$ROOT/examples/dmd_plugin.c" || fail "dmd_plugin.so does not build"

cat > ext_replay.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <memlens.h>
#include <stdlib.h>
#include <string.h>

/* read by the test program (dlopen RTLD_NOLOAD + dlsym) */
struct ext_replay_stats {
	long init_ran, replayed, bad, early_kept, early_kept_site_ok, early_freed, ctor_later, main_later;
	long live_at_init, untracked_at_init, probe_events;
} ext_replay_stats;
static unsigned long long seq0;

static void on_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	struct ext_replay_stats *s = &ext_replay_stats;
	struct alloc_info ai;
	if (alloc_get_info(base, &ai) || ai.base != base || ai.size != size || ai.allocator != a || ai.site != site) {
		s->bad++;
		return;
	}
	if (size == 777)
		s->probe_events++;
	if (ai.seq <= seq0) { /* made before the plugin's init returned: a replay */
		s->replayed++;
		if (size == 31337) {
			Dl_info di;
			s->early_kept++;
			s->early_kept_site_ok += dladdr((const char *)site - 1, &di) && di.dli_sname &&
			                         !strcmp(di.dli_sname, "early_ctor");
		}
		if (size == 27182)
			s->early_freed++;
	} else if (size == 12345)
		s->ctor_later++;
	else if (size == 23456)
		s->main_later++;
}

void memlens_plugin_init(void)
{
	struct ext_replay_stats *s = &ext_replay_stats;
	setenv("EXT_PLUGIN_INIT", "1", 1);
	s->init_ran++;
	if (!memlens_observer_create(NULL, on_alloc, NULL, NULL))
		s->bad += 1000;
	/* made after the observer: reported to it as it is made, and so not to
	 * be replayed to it again; stays live: the last chunk before the replay */
	void *probe = malloc(777);
	struct alloc_info ai;
	if (!probe || alloc_get_info(probe, &ai))
		s->bad += 1000;
	seq0 = ai.seq;
	struct memlens_stats st;
	memlens_get_stats(&st, sizeof st);
	s->live_at_init = (long)(st.n_allocs - st.n_frees);
	s->untracked_at_init = (long)st.n_untracked;
}
C
$cc -shared -fPIC -g -O1 -I"$inc" -o ext_replay.so ext_replay.c || fail "ext_replay.so does not build"

cat > noinit.c <<'C'
int ext_noinit_value = 42;
C
$cc -shared -fPIC -o noinit.so noinit.c || fail "noinit.so does not build"

# a library whose constructor runs before memlens's (later in the search list)
cat > early.c <<'C'
#include <stdlib.h>
void *early_kept;
__attribute__((constructor, noinline)) void early_ctor(void)
{
	void *gone = malloc(27182);
	early_kept = malloc(31337);
	free(gone);
}
C
mkdir -p lib # (not $T: the programs' rpath must not make ./x.so findable as x.so)
$cc -shared -fPIC -g -O1 -fno-builtin -o lib/libearly.so early.c || fail "libearly.so does not build"

cat > prog.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ext_replay_stats {
	long init_ran, replayed, bad, early_kept, early_kept_site_ok, early_freed, ctor_later, main_later;
	long live_at_init, untracked_at_init, probe_events;
};
static void *ctor_chunk;
__attribute__((constructor)) static void prog_ctor(void)
{
	ctor_chunk = malloc(12345);
}

void *keep[3000];
__attribute__((noinline)) void big_allocator(int i) { keep[i] = malloc(10000); }
__attribute__((noinline)) void small_allocator(int i) { keep[1000 + i] = malloc(100 + i % 7); }

/* every failed check is printed; the status says whether there was one */
static int failed;
#define FAIL(...) do { printf("TESTFAIL: " __VA_ARGS__); printf("\n"); failed = 1; } while (0)

int main(int argc, char **argv)
{
	const char *init = getenv("EXT_PLUGIN_INIT"); /* first: set by the plugin's init */
	if (argc > 1 && !strcmp(argv[1], "replay")) {
		if (!init || strcmp(init, "1"))
			FAIL("the plugin's init did not run before main (EXT_PLUGIN_INIT unset)");
		/* the plugin, by the name MEMLENS_PLUGINS gives it */
		const char *list = getenv("MEMLENS_PLUGINS");
		char path[4096] = "";
		for (const char *p = list; p && *p;) {
			size_t n = strcspn(p, ":");
			if (n < sizeof path && memmem(p, n, "ext_replay", 10)) {
				memcpy(path, p, n);
				path[n] = 0;
			}
			p += n + (p[n] == ':');
		}
		void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
		struct ext_replay_stats *s = h ? dlsym(h, "ext_replay_stats") : NULL;
		if (!s) {
			FAIL("plugin %s is not loaded (MEMLENS_PLUGINS=%s)", path, list ? list : "(unset)");
			return 1;
		}
		void *p = malloc(23456);
		printf("init ran %ld; replayed %ld chunks (live at init: %ld, untracked %ld); bad %ld; early kept %ld "
		       "(site ok %ld), early freed %ld; constructor chunk %ld, main's chunk %ld; init's own chunk %ld\n",
		       s->init_ran, s->replayed, s->live_at_init, s->untracked_at_init, s->bad, s->early_kept,
		       s->early_kept_site_ok, s->early_freed, s->ctor_later, s->main_later, s->probe_events);
		if (s->init_ran != 1)
			FAIL("init ran %ld times", s->init_ran);
		if (s->bad)
			FAIL("%ld on_alloc calls whose chunk does not answer alloc_get_info with that base/size/site", s->bad);
		if (s->replayed <= 0)
			FAIL("no chunks replayed");
		if (s->replayed != s->live_at_init)
			FAIL("%ld chunks replayed, %ld live when the plugin was initialized", s->replayed, s->live_at_init);
		/* the ASan build records chunks made before its constructor without sites */
		int asan = argc > 2 && !strcmp(argv[2], "asan");
		if (s->early_kept != 1 || s->early_kept_site_ok != !asan)
			FAIL("the chunk libearly's constructor kept: replayed %ld times, with its site %ld times",
			     s->early_kept, s->early_kept_site_ok);
		if (s->early_freed)
			FAIL("a chunk freed before the plugin loaded was replayed");
		if (s->probe_events != 1)
			FAIL("the chunk the plugin's init allocated after creating its observer: %ld on_alloc calls for it, "
			     "want 1 (reported as made, then replayed again?)", s->probe_events);
		if (s->ctor_later != 1 || s->main_later != 1)
			FAIL("later allocations: constructor's %ld, main's %ld (want 1 and 1)", s->ctor_later, s->main_later);
		free(p);
		return failed;
	}
	for (int i = 0; i < 1000; i++) {
		big_allocator(i);
		small_allocator(i);
	}
	for (int i = 0; i < 2000; i++)
		free(keep[i]);
	printf("done\n");
	return 0;
}
C
# shellcheck disable=SC2086
$cc $TCFLAGS $san -o prog prog.c -L"$BUILD/lib" -Llib -Wl,-rpath,"$BUILD/lib" -Wl,-rpath,"$T/lib" -Wl,--no-as-needed \
	-lmemlens -learly -ldl -rdynamic $san || fail "prog does not build"
# shellcheck disable=SC2086
$cc $TCFLAGS $san -o prog.plain prog.c -Llib -Wl,-rpath,"$T/lib" -Wl,--no-as-needed -learly -ldl -rdynamic $san \
	|| fail "prog.plain does not build"
readelf -d prog | grep -q 'NEEDED.*libmemlens' || fail "prog does not need libmemlens.so"

# Failures of the replay runs are reported at the end, so that the checks
# after them run too.
deferred=()
expect_rc_later() {
	if [ "$(cat "$1.rc")" != "$2" ]; then
		show "$1.out"; show "$1.err"
		deferred+=("$3: $(grep -m1 '^TESTFAIL: ' "$1.out" | sed 's/^TESTFAIL: //') (status $(cat "$1.rc"))")
	fi
}

# linked: MEMLENS_PLUGINS; ASan: libmemlens preloaded so that it is the malloc
lrun() {
	local o=$1; shift
	if [ -n "$san" ]; then
		run "$o" "${CLEANENV[@]}" "${envv[@]}" LD_PRELOAD="$LIB" "$@"
	else
		run "$o" "${CLEANENV[@]}" "$@"
	fi
}
# memlens run
mrun() {
	local o=$1; shift
	run "$o" "${CLEANENV[@]}" "${envv[@]}" "$MEMLENS" run "$@"
}

# expect_dmd OUT WHAT: the dmd report's first site is big_allocator.
expect_dmd() {
	grep -q '^dmd: [0-9]* allocations, [0-9]* bytes; top sites by bytes:$' "$1.err" || { show "$1.err"; fail "$2: no dmd report"; }
	local first
	first=$(grep -m1 '^dmd:  1\. ' "$1.err")
	[[ $first =~ ^dmd:\ \ 1\.\ +10000000\ bytes\ in\ +1000\ allocations\ at\ big_allocator\+0x[0-9a-f]+\ \(.*prog(\.plain)?\)$ ]] \
		|| { show "$1.err"; fail "$2: first dmd site is \"$first\", want big_allocator's 1000 x 10000 bytes"; }
	grep -q '^dmd:  2\. .* small_allocator+' "$1.err" || { show "$1.err"; fail "$2: small_allocator is not second"; }
	grep -v '^dmd: ' "$1.err" | grep -q . && { show "$1.err"; fail "$2: unexpected stderr output"; }
	grep -qx done "$1.out" || fail "$2: the program did not finish"
}

lrun d1 MEMLENS_PLUGINS=./dmd_plugin.so ./prog
expect_rc d1 0 "dmd, MEMLENS_PLUGINS"
expect_dmd d1 "dmd, MEMLENS_PLUGINS"

mrun d2 --plugin=./dmd_plugin.so -- ./prog.plain
expect_rc d2 0 "dmd, memlens run --plugin"
expect_dmd d2 "dmd, memlens run --plugin"

# replay
lrun r1 MEMLENS_PLUGINS=./ext_replay.so ./prog replay $asan
cat r1.out
expect_rc_later r1 0 "replay, MEMLENS_PLUGINS"
no_memlens_lines r1.err "replay, MEMLENS_PLUGINS"

mrun r2 --plugin=./ext_replay.so -- ./prog.plain replay $asan
cat r2.out
expect_rc_later r2 0 "replay, memlens run --plugin"
no_memlens_lines r2.err "replay, memlens run --plugin"

# two plugins: both initialized
mrun r3 --plugin=./dmd_plugin.so --plugin=./ext_replay.so -- ./prog.plain replay $asan
expect_rc_later r3 0 "replay with dmd first"
grep -q '^dmd: ' r3.err || { show r3.err; fail "dmd with ext_replay: no report"; }

# a plugin that does not load: a warning, the program runs; the next one loads
lrun b1 MEMLENS_PLUGINS=/nonexistent/x.so:./dmd_plugin.so ./prog
expect_rc b1 0 "bad plugin path"
grep -q '^memlens: warning: plugin /nonexistent/x.so: cannot load it' b1.err \
	|| { show b1.err; fail "bad plugin path: no \"plugin /nonexistent/x.so: cannot load it\" warning"; }
[ "$(grep -c '^memlens:' b1.err)" = 1 ] || { show b1.err; fail "bad plugin path: more than one memlens line"; }
expect_dmd_err() { grep -q '^dmd:  1\. .*big_allocator' "$1.err" || { show "$1.err"; fail "$2"; }; }
expect_dmd_err b1 "the plugin after a bad one was not loaded"
grep -qx done b1.out || fail "bad plugin path: the program did not finish"

# a .so without memlens_plugin_init
lrun n1 MEMLENS_PLUGINS=./noinit.so ./prog
expect_rc n1 0 "plugin without init"
grep -q '^memlens: warning: plugin ./noinit.so: it defines no memlens_plugin_init' n1.err \
	|| { show n1.err; fail "plugin without init: no warning naming memlens_plugin_init"; }
mrun n2 --plugin=./noinit.so -- ./prog.plain
expect_rc n2 0 "plugin without init, memlens run"
grep -q "^memlens: warning: plugin $T/noinit.so: it defines no memlens_plugin_init" n2.err \
	|| { show n2.err; fail "plugin without init (memlens run): no warning"; }

# memlens run --plugin of a missing file: usage error, the program does not run
mrun u1 --plugin=/nonexistent.so -- ./prog.plain
expect_rc u1 2 "memlens run --plugin=/nonexistent.so"
grep -q -- '--plugin=/nonexistent.so' u1.err || { show u1.err; fail "usage error does not name the option"; }
grep -qx done u1.out && fail "memlens run --plugin=/nonexistent.so ran the program"
mrun u2 --plugin=a.so:b.so -- ./prog.plain
expect_rc u2 2 "memlens run --plugin=a.so:b.so"

# a relative FILE without a slash is a file in the current directory too
# ("A relative FILE is made absolute against the current directory"), not
# a name for the library search path
mrun d3 --plugin=dmd_plugin.so -- ./prog.plain
if [ "$(cat d3.rc)" != 0 ] || grep -v '^dmd: ' d3.err | grep -q . || ! grep -q '^dmd:  1\. .*big_allocator' d3.err; then
	show d3.err
	deferred+=("memlens run --plugin=dmd_plugin.so (no slash): the plugin was not found: $(head -n 1 d3.err)")
fi
if [ ${#deferred[@]} != 0 ]; then
	for d in "${deferred[@]}"; do echo "TESTFAIL: $d" >&2; done
	fail "${#deferred[@]} failures (above): ${deferred[0]}"
fi
exit 0
