#!/bin/bash
# NOASAN: the shim's posix_memalign must come after the runtime's
# signal_first_alloc: a query from a signal handler that runs inside
# memlens's malloc hook on a thread's first allocation (no memlens record
# yet, so no chunk header can be read there) answers unknown, never the
# level around the chunk (it answered "brk heap" for a live malloc chunk);
# see tests/unit/first_alloc/prog.c.  Built linked with -lmemlens before
# the shim's library, and run plain and under memlens run.
. "$ROOT/tests/lib.sh"
need_lib
cc=${CC:-gcc}
D=$ROOT/tests/unit/first_alloc
run shim "$cc" -shared -fPIC -O1 -o "$T/libshim.so" "$D/shim.c"
expect_rc shim 0 "building the shim"
run prog "$cc" -O1 -I"$ROOT/include" -o "$T/prog" "$D/prog.c" -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens \
	-L"$T" -Wl,-rpath,"$T" -lshim -lpthread
expect_rc prog 0 "building prog.c"
for mode in linked run; do
	if [ $mode = linked ]; then
		run r "${CLEANENV[@]}" "$T/prog"
	else
		run r "${CLEANENV[@]}" "$MEMLENS" run -- "$T/prog"
	fi
	expect_rc r 0 "$mode: prog (a wrong answer exits 1)"
	grep -q '^handled 20 right [0-9]* unknown [0-9]* wrong 0$' r.out || { show r.out; fail "$mode: $(cat r.out)"; }
done
exit 0
