#!/bin/bash
# go: a cgo program (Go's runtime on threads of its own, C strdup/free
# from 4 goroutines at once, os.Exit(2)).  Plain vs memlens run: the same
# stdout and status, no memlens output.  Under memlens run --profile the
# same stdout and status; Go ends with the exit_group system call, which
# runs no exit handler, so no profile is written and memlens run says so
# (one line naming the program and the reason).
# TIMEOUT: 300
. "$ROOT/tests/lib.sh"
need_lib
command -v go > /dev/null || skip "go is not installed (make deps: golang-go)"
mkdir src
cat > src/main.go <<'GO'
package main

/*
#include <stdlib.h>
#include <string.h>
static char *dup(const char *s) { return strdup(s); }
*/
import "C"
import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			n := 0
			for i := 0; i < 20000; i++ {
				cs := C.CString(fmt.Sprintf("x%d-%d", g, i))
				d := C.dup(cs)
				n += int(C.strlen(d))
				C.free(unsafe.Pointer(cs))
				C.free(unsafe.Pointer(d))
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	fmt.Println(total)
	os.Exit(2)
}
GO
printf 'module gocgo\ngo 1.19\n' > src/go.mod
run gob "${CLEANENV[@]}" GOCACHE="$T/gocache" GOPATH="$T/gopath" GOFLAGS=-mod=mod CGO_ENABLED=1 \
	sh -c 'cd src && go build -o ../gocgo .'
expect_rc gob 0 "go build"
compare go ./gocgo
[ "$rc" = 2 ] || { show go.plain.err; fail "go: status $rc, expected 2"; }
grep -qx 595560 go.plain.out || fail "go printed: $(cat go.plain.out)"
run gop "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o "$T/go.prof" -- ./gocgo
expect_rc gop 2 "go under memlens run --profile"
same_files go.plain.out gop.out "go: stdout plain vs --profile"
[ "$(grep -c '^memlens:' gop.err)" = 1 ] &&
	grep -q '^memlens: \./gocgo (pid [0-9]*) ended by the exit_group system call, without exit handlers (as Go programs do): its profile was not written$' gop.err ||
	{ show gop.err; fail "go --profile: expected one line saying why no profile was written"; }
[ ! -e "$T/go.prof" ] || fail "go --profile: a profile appeared although Go runs no exit handler"
ls "$T" | grep -q '\.tmp\.' && fail "go --profile: temporary files left: $(ls "$T" | grep '\.tmp\.')"
exit 0
