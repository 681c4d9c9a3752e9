#!/bin/bash
# plugin_load: plugins that are hard to load.
# - `memlens run --plugin="decoy.so x/p.so"`: ld.so splits LD_PRELOAD at
#   spaces, so the path is not preloaded (decoy.so would be): the right file
#   is loaded (its init runs once, the decoy is never loaded), with one
#   warning that says so, and the program's output and status are unchanged;
# - a plugin whose memlens_plugin_init crashes (SIGSEGV), aborts, or whose
#   constructor crashes while memlens loads it: one line naming the plugin
#   and the signal, then the program dies of that signal as it would have
#   (status 128+N, linked and under memlens run); a handler the program's
#   earlier code had installed is still the one that runs after a plugin
#   that did not crash, and so is --profile-signals' handler.
. "$ROOT/tests/lib.sh"
need_lib
need_prog ten_exact
cc=${CC:-gcc}
inc=$BUILD/include

plugin() { # plugin OUT.so BODY: a plugin whose memlens_plugin_init is BODY
	printf '#include <signal.h>\n#include <stdlib.h>\n#include <unistd.h>\n%s\n' "$2" > "${1%.so}.c"
	$cc -shared -fPIC -I"$inc" -o "$1" "${1%.so}.c" || fail "$1 does not build"
}
mkdir -p "decoy.so x"
plugin "decoy.so x/p.so" 'void memlens_plugin_init(void) { if (write(2, "right plugin\n", 13)) {} }'
plugin decoy.so 'void memlens_plugin_init(void) { if (write(2, "decoy plugin\n", 13)) {} }
__attribute__((constructor)) static void c(void) { if (write(2, "decoy loaded\n", 13)) {} }'

run s "${CLEANENV[@]}" "$MEMLENS" run --plugin="decoy.so x/p.so" -- /bin/echo ran
expect_rc s 0 "a plugin path with a space"
[ "$(cat s.out)" = ran ] || fail "a plugin path with a space: output changed: $(cat s.out)"
printf '%s\n' "memlens: warning: --plugin=decoy.so x/p.so: LD_PRELOAD cannot carry a path with white space; the plugin is loaded with dlopen before main instead, so its functions do not interpose on the program's" \
	"right plugin" > s.want
same_files s.want s.err "a plugin path with a space"

plugin segv.so 'void memlens_plugin_init(void) { *(volatile int *)8 = 1; }'
plugin abrt.so 'void memlens_plugin_init(void) { abort(); }'
plugin ctor.so 'void memlens_plugin_init(void) {}
__attribute__((constructor)) static void c(void) { raise(SIGBUS); }'
plugin fine.so 'void memlens_plugin_init(void) {}'

# crashed WHAT RC OUT LINE: the run died with status RC after exactly LINE.
crashed() {
	expect_rc "$3" "$2" "$1"
	[ -s "$3.out" ] && fail "$1: the program ran"
	[ "$(cat "$3.err")" = "$4" ] || { show "$3.err"; fail "$1: stderr is not \"$4\""; }
}
P=$TB/preload/ten_exact
run c1 "${CLEANENV[@]}" "$MEMLENS" run --plugin=./segv.so -- "$P"
crashed "init SIGSEGV, memlens run" 139 c1 "memlens: warning: plugin $T/segv.so: died of signal 11 (SIGSEGV) in its memlens_plugin_init"
run c2 "${CLEANENV[@]}" "$MEMLENS" run --plugin=./abrt.so -- "$P"
crashed "init abort, memlens run" 134 c2 "memlens: warning: plugin $T/abrt.so: died of signal 6 (SIGABRT) in its memlens_plugin_init"
if [ -x "$P.linked" ]; then
	run c3 "${CLEANENV[@]}" MEMLENS_PLUGINS=./fine.so:./segv.so "$P.linked"
	crashed "init SIGSEGV, linked" 139 c3 "memlens: warning: plugin ./segv.so: died of signal 11 (SIGSEGV) in its memlens_plugin_init"
	run c4 "${CLEANENV[@]}" MEMLENS_PLUGINS=./ctor.so "$P.linked"
	crashed "constructor SIGBUS, linked" 135 c4 "memlens: warning: plugin ./ctor.so: died of signal 7 (SIGBUS) while loading (in its constructors)"
	run c5 "${CLEANENV[@]}" MEMLENS_PLUGINS=./fine.so "$P.linked"
	expect_rc c5 0 "a plugin that does not crash"
	[ -s c5.err ] && { show c5.err; fail "a plugin that does not crash: stderr output"; }
else
	fail "ten_exact.linked did not build"
fi

# a SIGSEGV handler installed before the plugins load (a preloaded library's
# constructor) is the program's again afterwards: it runs on a later fault
cat > handler.c <<'C'
#include <signal.h>
#include <unistd.h>
static void on_segv(int sig) { (void)sig; if (write(1, "own handler\n", 12)) {} _exit(42); }
__attribute__((constructor)) static void install(void) { signal(SIGSEGV, on_segv); }
C
$cc -shared -fPIC -o libhandler.so handler.c || fail "libhandler.so does not build"
cat > fault.c <<'C'
int main(void) { return *(volatile int *)8; }
C
$cc -O0 -o fault fault.c || fail "fault does not build"
run h "${CLEANENV[@]}" LD_PRELOAD="$T/libhandler.so" "$MEMLENS" run --plugin=./fine.so -- ./fault
expect_rc h 42 "the program's SIGSEGV handler after a plugin loaded"
grep -qx "own handler" h.out || { show h.out; fail "the program's SIGSEGV handler did not run"; }

# --profile-signals' handler is the one in place after a plugin loaded
# (memlens saves and puts back its own actions as they are): the fault
# writes the profile
run g "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/g.prof" --plugin=./fine.so -- ./fault
expect_rc g 139 "--profile-signals with a plugin, a fault"
[ -s g.prof ] || { show g.err; fail "--profile-signals with a plugin: no profile written on SIGSEGV"; }
exit 0
