#!/bin/bash
# demo.sh: memlens in two minutes (run by `make demo`, with BUILD set).
#  1. a small C program linked with memlens asks what its heap pointers are;
#  2. an unmodified python3 runs under `memlens run --stats`.
set -eu
cd "$(dirname "$0")/.."
export PATH=/usr/bin:/bin:$PATH # the system python3, not a version manager's shim
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== 1. A program linked with memlens (pkg-config --cflags --libs memlens)"
cat > "$tmp/demo.c" <<'EOF'
#include <memlens.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show(const char *what, const void *p)
{
	char line[256];
	const struct allocator *a = alloc_get_allocator(p);
	alloc_describe(p, line, sizeof line);
	printf("%-22s allocator=%-7s base=%p size=%zu\n", what, a ? a->name : "(none)",
	       alloc_get_base(p), alloc_get_size(p));
	printf("%-22s %s\n", "", line);
}

int main(void)
{
	int *numbers = malloc(42 * sizeof(int));
	char *name = strdup("memlens");
	double *grid = calloc(100, sizeof(double));
	char *big = malloc(3 << 20);
	int on_stack = 0;

	show("numbers", numbers);
	show("&numbers[10]", &numbers[10]);
	show("name (strdup)", name);
	show("grid + 37", grid + 37);
	show("big + 1 MiB", big + (1 << 20));
	show("&on_stack", &on_stack);
	free(big);
	show("big, after free", big);

	struct memlens_stats st;
	memlens_get_stats(&st, sizeof st);
	printf("\nso far: %llu allocations, %llu frees, %llu bytes requested and live\n",
	       (unsigned long long)st.n_allocs, (unsigned long long)st.n_frees,
	       (unsigned long long)st.bytes_requested_live);
	return 0;
}
EOF
flags=$(PKG_CONFIG_PATH=$BUILD/lib/pkgconfig pkg-config --cflags --libs memlens)
echo "\$ cc -g -o demo demo.c $flags"
# shellcheck disable=SC2086
cc -g -o "$tmp/demo" "$tmp/demo.c" $flags
"$tmp/demo"

echo
echo "== 2. An unmodified python3 under memlens run --stats (PYTHONMALLOC=malloc)"
script='import json; d = {str(i): [i] * (i % 5) for i in range(20000)}; print(len(json.dumps(d)), "bytes of JSON")'
echo "\$ memlens run --stats -- python3 -c '$script'"
PYTHONMALLOC=malloc "$BUILD/bin/memlens" run --stats -- python3 -c "$script"

echo
echo "== 3. The liballocs demo program, unchanged (allocator and size of a function, a heap"
echo "      chunk, a local variable and argv; types come with the DWARF work)"
demo_src=$(dirname "$0")/../tests/preload/demo_liballocs.c # the seed's program, byte for byte
cat "$demo_src"
echo "\$ cc -O0 -o liballocs_demo demo_liballocs.c $flags && ./liballocs_demo"
# shellcheck disable=SC2086
cc -O0 -g -o "$tmp/liballocs_demo" "$demo_src" $flags
"$tmp/liballocs_demo"

echo
echo "== 4. A heap profile of an unmodified python3, read back"
echo "\$ memlens run --profile -o py.prof -- python3 -c '$script' && memlens report py.prof"
PYTHONMALLOC=malloc MEMLENS_QUIET_PROFILE=1 "$BUILD/bin/memlens" run --profile -o "$tmp/py.prof" -- python3 -c "$script" > /dev/null
"$BUILD/bin/memlens" report "$tmp/py.prof" --top 2 | head -n 30
