# shellcheck shell=bash
# lib.sh: helpers for the shell tests (sourced; run_tests.sh sets ROOT, BUILD,
# TB, MEMLENS, LIB and T, the test's own temp dir and working directory).
#
# A test fails with `fail MESSAGE` (prints "TESTFAIL: MESSAGE", exit 1) and
# skips with `skip WHY` (exit 77).  Programs run with a clean environment
# (`cleanenv`): env -i PATH=/usr/bin:/bin LANG=C HOME=$T.
set -u
: "${ROOT:?run me from tests/run_tests.sh}" "${T:=$(mktemp -d)}"
cd "$T" || exit 1

fail() { echo "TESTFAIL: $*" >&2; exit 1; }
skip() { echo "TESTSKIP: $*" >&2; exit 77; }
note() { echo "# $*" >&2; }

# show FILE [N]: prints the last N (20) lines of FILE, indented, on stderr.
show() { echo "--- ${1##*/}:" >&2; tail -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/  /' >&2; }

CLEANENV=(env -i PATH=/usr/bin:/bin LANG=C HOME="$T")

# need_prog NAME...: the test programs (from tests/preload/*.c) must exist.
need_prog() {
	local p
	for p in "$@"; do
		[ -x "$TB/preload/$p" ] || fail "test program $p did not build (see $TB/logs/preload-build-$p.log)"
	done
}
need_lib() {
	[ -e "$LIB" ] || fail "$LIB missing (make failed?)"
	[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
}

# linked_prog_env: for a .sh unit test that builds a program linked with
# -lmemlens: $cc, and under MEMLENS_TEST_ASAN the sanitizer flags ($san)
# and environment ($envv: ASan options, and memlens preloaded so that its
# malloc comes before ASan's).
linked_prog_env() {
	cc=${CC:-gcc}
	san=
	envv=()
	if [ "$MEMLENS_TEST_ASAN" != 0 ]; then
		san="-fsanitize=address,undefined"
		envv=(ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:allocator_may_return_null=1 LD_PRELOAD="$LIB")
	fi
}

# run OUTPREFIX CMD...: runs CMD; stdout -> OUTPREFIX.out, stderr ->
# OUTPREFIX.err, exit status -> $rc (and OUTPREFIX.rc).
run() {
	local o=$1; shift
	{ "$@" > "$o.out" 2> "$o.err" < /dev/null; } 2> /dev/null # (no "Segmentation fault" notices)
	rc=$?
	echo "$rc" > "$o.rc"
	return 0
}

# mlrun MODE OUTPREFIX [VAR=VALUE...] PROG [ARGS...]: runs the test program
# PROG (tests/preload/PROG.c) with memlens, in a clean environment plus the
# given variables.  MODE=preload: the plain build under `memlens run --`;
# MODE=linked: the build linked with `pkg-config --libs memlens`, run directly;
# MODE=plain: the plain build without memlens.
mlrun() {
	local mode=$1 o=$2; shift 2
	local vars=()
	while [ $# -gt 0 ] && [ "${1#*=}" != "$1" ]; do vars+=("$1"); shift; done
	local prog=$1; shift
	case $mode in
	preload) run "$o" "${CLEANENV[@]}" "${vars[@]}" "$MEMLENS" run -- "$TB/preload/$prog" "$@" ;;
	linked)  [ -x "$TB/preload/$prog.linked" ] || fail "test program $prog.linked did not build"
	         run "$o" "${CLEANENV[@]}" "${vars[@]}" "$TB/preload/$prog.linked" "$@" ;;
	plain)   run "$o" "${CLEANENV[@]}" "${vars[@]}" "$TB/preload/$prog" "$@" ;;
	*) fail "mlrun: bad mode $mode" ;;
	esac
}

# expect_rc OUTPREFIX N [WHAT]: exit status of the last run must be N.
expect_rc() {
	local got
	got=$(cat "$1.rc")
	if [ "$got" != "$2" ]; then
		show "$1.out"; show "$1.err"
		fail "${3:-$1}: exit status $got, expected $2"
	fi
}

# no_memlens_lines FILE [WHAT]: FILE (a stderr capture) has no "memlens:" line.
no_memlens_lines() {
	if grep -q '^memlens:' "$1"; then
		show "$1"
		fail "${2:-$1}: unexpected memlens output: $(grep -m1 '^memlens:' "$1")"
	fi
}

# stats_kv FILE: the memlens statistics in FILE (lines "memlens: ...", other
# lines ignored) as KEY=VALUE lines: pid exe n_allocs n_frees n_reallocs
# n_bad_frees n_untracked req_live req_peak req_total usable_live usable_peak
# metadata cached and sc<I> for each size class.  Fails unless the seven lines are
# there, in order, in the documented format.
stats_kv() {
	local f=$1
	[ -s "$f" ] || fail "no statistics in $f"
	local lines=$T/.stats_lines.$$
	grep '^memlens: ' "$f" | grep -E '^memlens: (stats |n_allocs=|bytes_requested |bytes_usable |bytes_metadata |bytes_cached |size_classes)' > "$lines"
	local re1='^memlens: stats pid=[0-9]+ exe=.+$'
	local re2='^memlens: n_allocs=[0-9]+ n_frees=[0-9]+ n_reallocs=[0-9]+ n_bad_frees=[0-9]+ n_untracked=[0-9]+$'
	local re3='^memlens: bytes_requested live=[0-9]+ peak=[0-9]+ total=[0-9]+$'
	local re4='^memlens: bytes_usable live=[0-9]+ peak=[0-9]+$'
	local re5='^memlens: bytes_metadata [0-9]+$'
	local re6='^memlens: bytes_cached [0-9]+$'
	local re7='^memlens: size_classes( [0-9]+:[0-9]+)*$'
	local i=0 re line
	for re in "$re1" "$re2" "$re3" "$re4" "$re5" "$re6" "$re7"; do
		i=$((i + 1))
		line=$(sed -n "${i}p" "$lines")
		if ! [[ $line =~ $re ]]; then
			show "$f"
			fail "statistics line $i in ${f##*/} is \"$line\", expected /$re/"
		fi
	done
	[ "$(wc -l < "$lines")" = 7 ] || { show "$f"; fail "${f##*/} holds $(wc -l < "$lines") statistics lines, expected 7 (one process)"; }
	awk '
	$2 == "stats" { for (i = 3; i <= NF; i++) print $i; next }
	$2 ~ /^n_allocs=/ { for (i = 2; i <= NF; i++) print $i; next }
	$2 == "bytes_requested" { for (i = 3; i <= NF; i++) print "req_" $i; next }
	$2 == "bytes_usable" { for (i = 3; i <= NF; i++) print "usable_" $i; next }
	$2 == "bytes_metadata" { print "metadata=" $3; next }
	$2 == "bytes_cached" { print "cached=" $3; next }
	$2 == "size_classes" { for (i = 3; i <= NF; i++) { split($i, a, ":"); print "sc" a[1] "=" a[2] } }
	' "$lines"
	rm -f "$lines"
}

# sv KVFILE KEY: one value from stats_kv output (0 for an absent size class).
sv() {
	local v
	v=$(sed -n "s/^$2=//p" "$1" | head -n 1)
	if [ -z "$v" ]; then
		case $2 in sc*) v=0 ;; *) fail "no $2 in statistics ${1##*/}" ;; esac
	fi
	echo "$v"
}

# expect_stat KVFILE KEY VALUE: exact statistics value.
expect_stat() {
	local v
	v=$(sv "$1" "$2")
	[ "$v" = "$3" ] || { cat "$1" >&2; fail "${1##*/}: $2=$v, expected $3"; }
}

# norm FILE: replaces hex addresses by 0xADDR and numbers after "thread "/"pid=" by N.
norm() {
	sed -E -e 's/0x[0-9a-fA-F]+/0xADDR/g' -e 's/thread [0-9]+/thread N/g' -e 's/pid=[0-9]+/pid=N/g' "$1"
}

# same_files A B WHAT: byte-identical or fail with a diff.
same_files() {
	if ! cmp -s "$1" "$2"; then
		diff -u "$1" "$2" | head -n 30 >&2
		fail "$3: $1 and $2 differ"
	fi
}

# compare NAME [VAR=VALUE...] CMD...: runs CMD plain and under `memlens run
# --` (clean environment plus the variables), each from the current
# directory; the exit status and stdout must be identical and memlens must
# print nothing.  Outputs (in $T, whatever the current directory):
# NAME.plain.{out,err,rc}, NAME.ml.{out,err,rc}.
# With STATS_FILE set, the memlens run also gets MEMLENS_STATS=$STATS_FILE.
compare() {
	local name=$1; shift
	local vars=()
	while [ $# -gt 0 ] && [ "${1#*=}" != "$1" ]; do vars+=("$1"); shift; done
	name=$T/$name
	run "$name.plain" "${CLEANENV[@]}" "${vars[@]}" "$@"
	local prc=$rc
	if [ -n "${STATS_FILE:-}" ]; then
		run "$name.ml" "${CLEANENV[@]}" "${vars[@]}" MEMLENS_STATS="$STATS_FILE" "$MEMLENS" run -- "$@"
	else
		run "$name.ml" "${CLEANENV[@]}" "${vars[@]}" "$MEMLENS" run -- "$@"
	fi
	if [ "$rc" != "$prc" ]; then
		show "$name.plain.err"; show "$name.ml.err"
		fail "${name##*/}: exit status $rc under memlens, $prc plain"
	fi
	same_files "$name.plain.out" "$name.ml.out" "${name##*/}: stdout plain vs memlens"
	no_memlens_lines "$name.ml.err" "${name##*/}"
	rc=$prc
}

# compare_profile NAME WANT_RC CMD...: after `compare NAME ... CMD...`, the
# same CMD under `memlens run --profile -o $T/NAME.prof`: exit status
# WANT_RC, the plain run's stdout, no memlens output; the profile must then
# be read by `memlens report --format json` (its output: NAME.rep.out).
compare_profile() {
	local name=$1 want=$2; shift 2
	run "$name.pr" "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o "$T/$name.prof" -- "$@"
	expect_rc "$name.pr" "$want" "$name under memlens run --profile"
	same_files "$T/$name.plain.out" "$name.pr.out" "$name: stdout plain vs --profile"
	no_memlens_lines "$name.pr.err" "$name --profile"
	run "$name.rep" "$MEMLENS" report "$T/$name.prof" --format json
	expect_rc "$name.rep" 0 "memlens report of $name's profile"
}

# report_json PROF OUT WHAT: `memlens report PROF --format json` into OUT;
# the test fails (showing why) when the profile is not read.
report_json() {
	"$MEMLENS" report "$1" --format json > "$2" 2> "$2.err" || { show "$2.err"; fail "$3: memlens report of $1 failed"; }
}

# counts FILE: the counts of FILE (n_allocs n_frees n_reallocs n_bad_frees
# n_untracked; byte totals can differ run to run, e.g. with the number of
# digits of a pid), with n_allocs >= n_frees checked.
counts() {
	stats_kv "$1" > "$1.kv"
	[ "$(sv "$1.kv" n_allocs)" -ge "$(sv "$1.kv" n_frees)" ] || fail "${1##*/}: n_allocs < n_frees"
	grep '^n_' "$1.kv"
}

# deterministic NAME N [VAR=VALUE...] CMD...: N runs under memlens with
# MEMLENS_STATS give identical counts (RELIABILITY #37/#38).
deterministic() {
	local name=$1 n=$2; shift 2
	local vars=()
	while [ $# -gt 0 ] && [ "${1#*=}" != "$1" ]; do vars+=("$1"); shift; done
	# A real program's counts can, very rarely, move by one chunk for reasons
	# of its own (seen once in many runs: one extra live 128 KiB buffer in
	# python3); a set of runs that disagrees is repeated once, and only a
	# second disagreement fails.
	local attempt i diffs
	for attempt in 1 2; do
		diffs=
		for i in $(seq "$n"); do
			rm -rf "$T/$name.det$i"; mkdir "$T/$name.det$i"
			run "$T/$name.det$i/run" "${CLEANENV[@]}" "${vars[@]}" MEMLENS_STATS="$T/$name.det$i/stats" "$MEMLENS" run -- "$@"
			counts "$T/$name.det$i/stats" > "$T/$name.det$i.counts"
			if [ "$i" -gt 1 ] && ! cmp -s "$T/$name.det1.counts" "$T/$name.det$i.counts"; then
				diffs=$(diff "$T/$name.det1.counts" "$T/$name.det$i.counts" | head -n 20)
				break
			fi
		done
		[ -z "$diffs" ] && return 0
		echo "$name: counts differ between runs (attempt $attempt):" >&2
		echo "$diffs" >&2
	done
	fail "$name: counts differ between run 1 and run $i, twice"
}

# need_browser: the html pages' checks need /usr/bin/chromium (skipped
# without it), node and web/node_modules' playwright-core (make deps).
need_browser() {
	[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (make deps installs it)"
	command -v node > /dev/null || fail "no node (make deps installs nodejs)"
	[ -d "$ROOT/web/node_modules/playwright-core" ] || fail "web/node_modules missing: run make deps"
}

# page_check ARTDIR SCRIPT ARGS...: runs the page check SCRIPT (a .mjs under
# tests/unit, see report/browser.mjs) with ARGS, shows its output, keeps
# what it left in $T (screenshots, *.png) and the pages it was given in
# $BUILD/tests/artifacts/ARTDIR, and fails unless it said ok.
page_check() {
	local art="$BUILD/tests/artifacts/$1" script=$2 a
	shift 2
	mkdir -p "$art"
	ROOT=$ROOT node "$ROOT/tests/unit/$script" "$@" > check.out 2>&1
	rc=$?
	cat check.out >&2
	cp -f "$T"/*.png "$art/" 2> /dev/null
	for a in "$@"; do case $a in *.html) cp -f "$a" "$art/" 2> /dev/null ;; esac; done
	note "screenshots: $(cd "$art" && ls ./*.png 2> /dev/null | sed "s|^\./|$art/|" | tr '\n' ' ')"
	[ "$rc" = 0 ] && grep -qx ok check.out || fail "the page failed its checks (above)"
}
