#!/bin/bash
# git: RELIABILITY #42 (smaller): git init, add 200 files, commit, a second
# commit, log, gc and fsck in a temporary repository, plain and under
# memlens, with fixed identities and dates: same commit hashes, same output
# and statuses, no memlens output.
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
genv=(GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=memlens GIT_AUTHOR_EMAIL=m@example.com
      GIT_COMMITTER_NAME=memlens GIT_COMMITTER_EMAIL=m@example.com
      GIT_AUTHOR_DATE='2024-01-01T00:00:00+0000' GIT_COMMITTER_DATE='2024-01-01T00:00:00+0000')
session() { # session DIR WRAPPER...: the git commands, output to DIR.log
	local d=$1; shift
	rm -rf "$d"; mkdir "$d"
	(
		cd "$d" || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git init -q -b main . || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git config user.name memlens || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git config user.email m@example.com || exit 1
		for i in $(seq 200); do printf 'file %d\n%s\n' "$i" "$(printf 'line %d\n' $(seq $((i % 30))))" > "f$i.txt"; done
		"${CLEANENV[@]}" "${genv[@]}" "$@" git add . || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git commit -q -m "first" || exit 1
		for i in $(seq 1 5 200); do echo change >> "f$i.txt"; done
		"${CLEANENV[@]}" "${genv[@]}" "$@" git commit -q -a -m "second" || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git log --format='%H %s' || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git diff --stat HEAD~1 || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git gc -q || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git fsck --no-progress || exit 1
		"${CLEANENV[@]}" "${genv[@]}" "$@" git rev-parse HEAD || exit 1
	) > "$d.out" 2> "$d.err"
	echo $?
}
prc=$(session plain)
[ "$prc" = 0 ] || { show plain.err; fail "git session failed plain"; }
mrc=$(session ml "$MEMLENS" run --)
[ "$mrc" = 0 ] || { show ml.err; fail "git session failed under memlens (status $mrc)"; }
same_files plain.out ml.out "git output (log hashes, diff, fsck)"
no_memlens_lines ml.err "git"
[ "$(wc -l < ml.out)" -ge 4 ] || fail "git printed too little"
exit 0
