#!/bin/bash
# types_dwarf: `memlens types BIN` prints the layout the compiler chose,
# field by field: structs with nested structs and 2-D arrays, unions, enums
# with negative values, bit-fields (positions found by the program itself
# by setting each field to all ones in a zeroed object), function pointers
# (variadic, unprototyped), typedef chains, anonymous struct/union members,
# a flexible array member, a recursive list node, an anonymous struct named
# by its typedef; static variables and functions with their types.  Built
# with gcc -gdwarf-5, gcc -gdwarf-4 and clang -g (skipped without clang),
# and with the DWARF moved to a separate file found by .gnu_debuglink.
# Also: no DWARF, not ELF, missing file -> exit 1 with a message; no
# argument -> exit 2.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"

cat > layout.c <<'C'
#include <stddef.h>
#include <stdio.h>
#include <string.h>
struct inner { short s; double d[3]; };
struct outer { char c; struct inner in; int arr[2][5]; struct inner *pi; unsigned char uc; };
union u { int i; float f; char bytes[8]; long long ll; };
enum color { RED = -2, GREEN = 0, BLUE = 7, BIG = 100000 };
struct bits { unsigned a : 3; signed b : 5; unsigned c : 12; unsigned long long d : 40; _Bool e : 1; unsigned short f : 9; };
typedef int (*binop)(int, int);
typedef binop binop2;
typedef const binop2 binop3;
struct fp { binop3 op; void (*cb)(const char *, ...); int (*noproto)(); };
struct flex { int n; long data[]; };
struct node { int v; struct node *next; };
typedef unsigned long ulong_t;
typedef const volatile ulong_t ul2;
#line 500
struct anon { int k;
	union { int x; float y; };
	struct { char p, q; } named;
};
typedef struct {
	int x, y; } point_t;

struct outer g_outer; union u g_u; enum color g_color = RED; struct bits g_bits; struct fp g_fp;
struct anon g_anon; struct flex *g_flex; struct node g_node[4]; point_t g_pt; ul2 g_ul;
int add(int a, int b) { return a + b; }

#define HDR(name, kind, T) printf("%s  %s size %zu\n", name, kind, sizeof(T))
#define M(T, f, tn) printf("  +%zu %s : %s\n", offsetof(T, f), #f, tn)
static volatile long long ones = -1;
static void bitpos(const unsigned char *p, size_t n, const char *f, const char *tn)
{
	int first = -1, count = 0;
	for (size_t i = 0; i < n * 8; i++)
		if (p[i / 8] >> (i % 8) & 1) {
			if (first < 0)
				first = (int)i;
			count++;
		}
	printf("  +%d.%d:%d %s : %s\n", first / 8, first % 8, count, f, tn);
}
#define BF(T, f, tn) do { T o; memset(&o, 0, sizeof o); o.f = ones; bitpos((const unsigned char *)&o, sizeof o, #f, tn); } while (0)

int main(int argc, char **argv)
{
	static int counter;
	counter += argc;
	HDR("inner", "struct", struct inner);
	M(struct inner, s, "short_int$16"); M(struct inner, d, "__ARR3_double$64");
	HDR("outer", "struct", struct outer);
	M(struct outer, c, "signed_char$8"); M(struct outer, in, "inner"); M(struct outer, arr, "__ARR2___ARR5_int$32");
	M(struct outer, pi, "__PTR_inner"); M(struct outer, uc, "unsigned_char$8");
	HDR("u", "union", union u);
	M(union u, i, "int$32"); M(union u, f, "float$32"); M(union u, bytes, "__ARR8_signed_char$8");
	M(union u, ll, "long_long_int$64");
	HDR("color", "enum", enum color);
	printf("  RED = %d\n  GREEN = %d\n  BLUE = %d\n  BIG = %d\n", RED, GREEN, BLUE, BIG);
	HDR("bits", "struct", struct bits);
	BF(struct bits, a, "unsigned_int$32"); BF(struct bits, b, "int$32"); BF(struct bits, c, "unsigned_int$32");
	BF(struct bits, d, "unsigned_long_long_int$64"); BF(struct bits, e, "_Bool$8");
	BF(struct bits, f, "unsigned_short_int$16");
	HDR("fp", "struct", struct fp);
	M(struct fp, op, "__PTR___FUN_FROM___ARG0_int$32__ARG1_int$32__FUN_TO_int$32");
	M(struct fp, cb, "__PTR___FUN_FROM___ARG0___PTR_signed_char$8__VA___FUN_TO_void");
	M(struct fp, noproto, "__PTR___FUN_FROM___FUN_TO_int$32");
	HDR("flex", "struct", struct flex);
	M(struct flex, n, "int$32"); M(struct flex, data, "__ARR0_long_int$64");
	HDR("node", "struct", struct node);
	M(struct node, v, "int$32"); M(struct node, next, "__PTR_node");
	HDR("anon", "struct", struct anon);
	M(struct anon, k, "int$32");
	printf("  +%zu (anonymous) : __anon_union_layout_c_501\n", offsetof(struct anon, x));
	M(struct anon, named, "__anon_struct_layout_c_502");
	HDR("__anon_union_layout_c_501", "union", g_anon.x);
	printf("  +0 x : int$32\n  +0 y : float$32\n");
	HDR("__anon_struct_layout_c_502", "struct", g_anon.named);
	printf("  +0 p : signed_char$8\n  +1 q : signed_char$8\n");
	HDR("point_t", "struct", point_t);
	M(point_t, x, "int$32"); M(point_t, y, "int$32");
	return add(counter, 0) == 1 ? 0 : 1;
}
C

# check BIN EXPECTED: each block of EXPECTED (a header line and its
# indented lines) must be in BIN's `memlens types` output exactly.
check() {
	local bin=$1 what=$2
	run "$bin.types" "$MEMLENS" types "$bin"
	[ "$rc" = 0 ] || { show "$bin.types.err"; fail "$what: memlens types exit $rc"; }
	"./$bin" > "$bin.expected" || fail "$what: the program failed"
	local name got
	while read -r name _; do
		awk -v n="$name" 'index($0, n "  ") == 1 { on = 1; print; next } on && /^  / { print; next } { on = 0 }' \
			"$bin.expected" > exp.block
		awk -v n="$name" 'index($0, n "  ") == 1 { on = 1; print; next } on && /^  / { print; next } { on = 0 }' \
			"$bin.types.out" > got.block
		if ! cmp -s exp.block got.block; then
			echo "--- $what: type $name: expected" >&2; cat exp.block >&2
			echo "--- got" >&2; cat got.block >&2
			fail "$what: type $name differs"
		fi
	done < <(grep -v '^ ' "$bin.expected")
	for l in "g_outer outer size $(sed -n 's/^outer  struct size //p' "$bin.expected")" \
		"g_node __ARR4_node size 64" "g_ul unsigned_long_int\$64 size 8" "g_color color size 4" \
		"g_flex __PTR_flex size 8" "g_pt point_t size 8" "counter int\$32 size 4" \
		"add __FUN_FROM___ARG0_int\$32__ARG1_int\$32__FUN_TO_int\$32" \
		"main __FUN_FROM___ARG0_int\$32__ARG1___PTR___PTR_signed_char\$8__FUN_TO_int\$32"; do
		grep -qxF "$l" "$bin.types.out" || { show "$bin.types.out" 40; fail "$what: no line \"$l\""; }
	done
	# Every type once, sorted by name.
	got=$(sed -n '/^variables:/q; /^[^ ]/s/  .*//p' "$bin.types.out")
	[ "$got" = "$(printf '%s\n' "$got" | LC_ALL=C sort -u)" ] || fail "$what: types not sorted or not unique"
}

gcc -g -gdwarf-5 -O0 -o g5 layout.c || fail "gcc -gdwarf-5 failed"
check g5 "gcc -gdwarf-5"
gcc -g -gdwarf-4 -O0 -o g4 layout.c || fail "gcc -gdwarf-4 failed"
check g4 "gcc -gdwarf-4"
gcc -g -O2 -o g2 layout.c || fail "gcc -O2 failed"
check g2 "gcc -O2 -g"
clang_done=
if command -v clang > /dev/null; then
	clang -g -O0 -w -o c5 layout.c || fail "clang failed"
	check c5 "clang -g"
	clang -g -gdwarf-4 -O0 -w -o c4 layout.c || fail "clang -gdwarf-4 failed"
	check c4 "clang -gdwarf-4"
	clang_done=1
fi

# The DWARF in a separate file, found through .gnu_debuglink.
cp g5 split
objcopy --only-keep-debug split split.debug && strip -g split && objcopy --add-gnu-debuglink=split.debug split ||
	fail "objcopy failed"
check split "separate debug file"

# Errors.
gcc -O0 -o nodwarf layout.c && strip -g nodwarf
run nod "$MEMLENS" types nodwarf
[ "$rc" = 1 ] || fail "no DWARF: exit $rc, not 1"
grep -q "nodwarf has no DWARF debugging information" nod.err || { show nod.err; fail "no DWARF: no message"; }
echo "hello" > text.txt
run txt "$MEMLENS" types text.txt
[ "$rc" = 1 ] || fail "not ELF: exit $rc, not 1"
grep -q "text.txt is not an ELF file" txt.err || { show txt.err; fail "not ELF: no message"; }
run miss "$MEMLENS" types no/such/file
[ "$rc" = 1 ] || fail "missing file: exit $rc, not 1"
grep -q "no/such/file: No such file" miss.err || { show miss.err; fail "missing file: no message"; }
run noarg "$MEMLENS" types
[ "$rc" = 2 ] || fail "no argument: exit $rc, not 2"
run two "$MEMLENS" types g5 g4
[ "$rc" = 2 ] || fail "two files: exit $rc, not 2"
run help "$MEMLENS" types --help
[ "$rc" = 0 ] && grep -q "usage: memlens types FILE" help.out || fail "--help"
[ -n "$clang_done" ] || skip "clang missing: gcc variants passed, clang not tested"
exit 0
