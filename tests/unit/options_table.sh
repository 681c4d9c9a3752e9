#!/bin/bash
# options_table: every MEMLENS_* variable is declared once.  A MEMLENS_ name
# used anywhere in src/ (runtime, CLI, memlens-cc), or in README.md, must be
# a row of src/base/options_table.h (the runtime's and memlens run's) or of
# src/cc/cc_options.h (memlens-cc's); names of C macros and enumerators
# (MEMLENS_TYPE_STRUCT, header guards, ...) are not variables.  A row shown
# to users must be in `memlens run --help` with its options, and in
# README.md's option table on a line that also names its options; an
# internal row must not be in --help; a row of memlens-cc's must be in
# `memlens-cc --memlens-help`.
. "$ROOT/tests/lib.sh"
need_lib
MLCC=$BUILD/bin/memlens-cc
[ -x "$MLCC" ] || fail "$MLCC missing (make failed?)"
cd "$ROOT" || exit 1

# The tables as lines: TABLE<TAB>NAME<TAB>SHOWN<TAB>OPTIONS (shown 1 or 0).
cat > "$T/dump.c" <<'C'
#include <stdio.h>
#include "base/options_table.h"
#include "cc/cc_options.h"
#define ROW(name, field, kind, lo, hi, dflt, shown, option, value, help, bad) \
	printf("main\t%s\t%d\t%s\n", #name, shown, option);
#define CC_ROW(name, kind, value, dflt, help) printf("cc\t%s\t1\t\n", #name);
int main(void)
{
	MEMLENS_OPTIONS(ROW)
	MEMLENS_RUN_OPTIONS(ROW)
	MEMLENS_CC_OPTIONS(CC_ROW)
	return 0;
}
C
${CC:-gcc} -I src -o "$T/dump" "$T/dump.c" 2> "$T/dump.err" || { show "$T/dump.err"; fail "the tables do not compile"; }
"$T/dump" > "$T/rows" || fail "dump failed"
cut -f2 "$T/rows" | sort -u > "$T/declared"
[ "$(cut -f2 "$T/rows" | grep -c .)" -gt 15 ] || fail "the tables look empty"
dups=$(grep -v '^cc' "$T/rows" | cut -f2 | sort | uniq -d)
[ -z "$dups" ] || fail "declared twice in options_table.h: $dups"

# C identifiers spelt MEMLENS_*: macros (header guards too) and enumerators.
{
	grep -rhoE '^\s*#\s*(define|ifndef)\s+MEMLENS_[A-Z0-9_]+' src include | grep -oE 'MEMLENS_[A-Z0-9_]+'
	find src include -name '*.[ch]' -exec awk '/(^|[^a-z_])enum[^;]*\{/ { e = 1 } e { print } /\}/ { e = 0 }' {} + |
		grep -oE 'MEMLENS_[A-Z0-9_]+'
} | sort -u > "$T/identifiers"

# Every MEMLENS_ name in src/ and README.md: declared.
problems=()
while IFS=: read -r file line name; do
	grep -qxF "$name" "$T/identifiers" && continue
	grep -qxF "$name" "$T/declared" || problems+=("$file:$line: $name is in no options table")
done < <(grep -rnoE 'MEMLENS_[A-Z0-9_]+' src README.md)

# Shown rows: in --help with their options, and on a line of README.md's table
# with them; internal rows: not in --help.
run "$T/h" "$MEMLENS" run --help
[ "$rc" = 0 ] || fail "memlens run --help: status $rc"
while IFS=$'\t' read -r table name shown options; do
	[ "$table" = main ] || continue
	line=$(grep -E "^ +.*$name=" "$T/h.out" | head -n 1)
	if [ "$shown" = 0 ]; then
		[ -z "$line" ] || problems+=("$name is internal but memlens run --help lists it")
		continue
	fi
	[ -n "$line" ] || { problems+=("$name is not in memlens run --help"); continue; }
	readme=$(grep -E "^\|.*\`${name}[=\`]" README.md | head -n 1)
	[ -n "$readme" ] || problems+=("$name is not in README.md's option table")
	IFS=',' read -ra opts <<< "$options"
	for o in "${opts[@]}"; do
		o=${o# }
		[ -n "$o" ] || continue
		[[ $line == *"$o"* ]] || problems+=("memlens run --help: $name's line lacks $o")
		[ -z "$readme" ] || [[ $readme == *"\`$o\`"* ]] || problems+=("README.md: $name's row lacks \`$o\`")
	done
done < "$T/rows"

run "$T/c" "$MLCC" --memlens-help
[ "$rc" = 0 ] || fail "memlens-cc --memlens-help: status $rc"
while IFS=$'\t' read -r table name _; do
	[ "$table" = cc ] || continue
	grep -qE "^  $name=" "$T/c.out" || problems+=("$name is not in memlens-cc --memlens-help")
done < "$T/rows"

if [ ${#problems[@]} -gt 0 ]; then
	printf '%s\n' "${problems[@]}" >&2
	fail "${#problems[@]} MEMLENS_* variable(s) not declared or not documented (see above)"
fi
exit 0
