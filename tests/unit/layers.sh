#!/bin/bash
# layers: the runtime's folders link in layers.  No object may reference a
# symbol that only a higher layer defines (read with nm from the objects in
# $BUILD/obj/src/), so each layer, with those below it, links on its own:
# tests/internal/index_model.c links heap/ and base/ with no stubs.
#
# The order, lowest first, and why each sits where it does:
#   base        syscalls, memlens's own memory, messages, options, threads,
#               the shared state (runtime.c): uses nothing of memlens
#   heap        the chunk index (base only)
#   space       regions, ELF objects, symbols; print_maps counts chunks
#   site        allocation sites and wrappers: they look up ELF symbols;
#               the trie of stacks the profiler fills and queries read
#   profile     the profiler's recording: sites, frames, the trie of
#               stacks, regions
#   ext         observers and plugins: the chunk index (the plugins' replay
#               is handed the malloc allocator by init.c)
#   allocators  each allocator answers from the index, regions and objects;
#               custom allocators report to observers, malloc's records may
#               hold a node of the trie of stacks (site_field.h), bad frees
#               name sites
#   query       the public API over the allocators; statistics
#   interpose   the hooks: they track, profile, observe and report
#   init        the constructor starts every layer
# A libc function that interpose/ wraps (mmap, dlclose, ...) called from a
# lower layer is a call to libc, not to the layer above, and is not counted.
. "$ROOT/tests/lib.sh"

LAYERS="base heap space site profile ext allocators query interpose init"
OBJ=$BUILD/obj/src

rank_of() { # rank_of OBJECT: its layer's place in $LAYERS
	local rel=${1#"$OBJ"/} l i=0 want
	case $rel in */*) want=${rel%%/*} ;; *) want=${rel%.o} ;; esac
	for l in $LAYERS; do
		[ "$l" = "$want" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

# The runtime's objects whose source still exists (a stale object of a
# moved file would otherwise speak for code that is gone), as "rank path".
objects() {
	local o rel r
	for o in "$OBJ"/*.o "$OBJ"/*/*.o; do
		rel=${o#"$OBJ"/}
		[ -e "$ROOT/src/${rel%.o}.c" ] || continue
		r=$(rank_of "$o")
		[ "$r" -ge 0 ] && echo "$r $o"
	done
}

libc=$(ldd "$LIB" 2>/dev/null | awk '$1 == "libc.so.6" { print $3 }')
[ -e "$OBJ/base/runtime.o" ] || fail "no runtime objects in $OBJ (make failed?)"
[ -n "$libc" ] || fail "cannot find the libc $LIB links"
nm -D --defined-only "$libc" | awk '{ print $3 }' | sed 's/@.*//' | sort -u > libc.syms

# check LIST: prints "lower.o -> symbol (defined in higher.o)" for each
# reference from an object to a symbol defined only in higher layers.  (One
# nm for all objects: each start of nm costs more than reading them.)
check() {
	# shellcheck disable=SC2046
	nm -A $(awk '{ print $2 }' "$1") | awk -v obj="$OBJ/" '
		FILENAME == ARGV[1] { libc[$1] = 1; next }
		FILENAME == ARGV[2] { rank[$2] = $1; next }
		{
			i = index($0, ":"); o = substr($0, 1, i - 1); n = split(substr($0, i + 1), f, " ")
			type = f[n - 1]; s = f[n]; r = rank[o]
			if (type == "U") { ref[++nref] = r " " o " " s; next }
			if (type ~ /^[A-Z]$/ && (!(s in low) || r < low[s])) { low[s] = r; where[s] = o }
		}
		END {
			for (i = 1; i <= nref; i++) {
				split(ref[i], f, " ")
				s = f[3]
				if ((s in low) && low[s] > f[1] && !(s in libc)) {
					a = f[2]; b = where[s]; sub(obj, "", a); sub(obj, "", b)
					print a " -> " s " (defined in " b ")"
				}
			}
		}' libc.syms "$1" -
}

objects > objs
[ "$(wc -l < objs)" -gt 20 ] || fail "only $(wc -l < objs) runtime objects found"

# The check itself must see a violation: an object placed in base/ that
# calls up into interpose/.
printf 'int memlens__resolve(void);\nint probe(void) { return memlens__resolve(); }\n' > probe.c
${CC:-gcc} -c -o probe.o probe.c || fail "cannot compile the probe"
{ cat objs; echo "0 $T/probe.o"; } > objs.probe
check objs.probe > probe.out
grep -q "probe.o -> memlens__resolve (defined in interpose/real_malloc.o)" probe.out ||
	{ show probe.out; fail "the check misses a base object calling memlens__resolve"; }

check objs > violations
if [ -s violations ]; then
	show violations 50
	fail "$(wc -l < violations) reference(s) from a lower layer to a higher one (order: $LAYERS)"
fi
echo "layers: $(wc -l < objs) objects in order: $LAYERS"
