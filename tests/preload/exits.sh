#!/bin/bash
# exits: the exit status is kept for exit, return, _exit, _Exit, quick_exit,
# abort, SIGSEGV, SIGTERM and SIGKILL (memlens run dies of PROG's signal:
# the shell says 128+N for both), stdout identical to a plain run, and the statistics written
# for exit and return (RELIABILITY #22), and for the deaths by a signal,
# memlens run's warning that they were not, naming the image that died
# (after an exec, the exec'd one); 30 runs of main returning while 8
# threads allocate: no crash, no hang (#23); memlens run -- /nonexistent
# exits 127.
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
need_prog exit_variants exit_busy
declare -A signame=([6]=Aborted [9]=Killed [11]="Segmentation fault" [15]=Terminated)
declare -A want=([exit]=7 [return]=7 [_exit]=7 [_Exit]=7 [quick_exit]=7 [abort]=134 [segv]=139 [term]=143 [kill]=137)
ulimit -c 0
for m in exit return _exit _Exit quick_exit abort segv term kill; do
	# plain, through a shell for its 128+N convention
	run p "${CLEANENV[@]}" "$TB/preload/exit_variants" "$m"
	expect_rc p "${want[$m]}" "plain $m"
	for mode in preload linked; do
		rm -f st
		mlrun $mode r MEMLENS_STATS="$T/st" exit_variants "$m"
		expect_rc r "${want[$m]}" "$mode $m"
		same_files p.out r.out "stdout of $m, plain vs $mode"
		# a death by a signal leaves no statistics (memlens takes no
		# signal): memlens run says so, in one line
		sig=$((${want[$m]} - 128))
		if [ $mode = preload ] && [ $sig -gt 0 ]; then
			grep -qx "memlens: $TB/preload/exit_variants (pid [0-9]*) was killed by signal $sig (${signame[$sig]}): its statistics were not written (memlens takes no signal of the program)" r.err ||
				{ show r.err; fail "$mode $m: no warning that the statistics were not written"; }
			grep -v '^memlens: .* was killed by signal' r.err > r.err2; mv r.err2 r.err
		fi
		no_memlens_lines r.err "$mode $m"
		case $m in
		exit|return)
			stats_kv st > kv
			expect_stat kv n_allocs 101
			expect_stat kv n_frees 1
			expect_stat kv req_live 1600 ;;
		quick_exit|_exit|_Exit|abort|segv|term)
			# statistics are optional here, but if written they parse
			[ -e st ] && { stats_kv st > kv || fail "$mode $m: bad statistics file"; } ;;
		esac
	done
done

for i in $(seq 30); do
	arg=; [ $((i % 2)) = 0 ] && arg=x
	w=4; [ -n "$arg" ] && w=3
	mode=preload; [ $((i % 3)) = 0 ] && mode=linked
	mlrun $mode b MEMLENS_STATS="$T/b.stats" exit_busy $arg
	expect_rc b $w "$mode exit_busy run $i"
	no_memlens_lines b.err "$mode exit_busy run $i"
	[ -s b.stats ] && { stats_kv b.stats > kv || fail "exit_busy: bad statistics"; }
done

# the warning names the image that died: after an exec, the exec'd one
run x "${CLEANENV[@]}" MEMLENS_STATS="$T/x.stats" "$MEMLENS" run -- sh -c "exec $TB/preload/exit_variants segv"
expect_rc x 139 "sh -c 'exec exit_variants segv'"
grep -qx "memlens: $TB/preload/exit_variants (pid [0-9]*) was killed by signal 11 (Segmentation fault): its statistics were not written (memlens takes no signal of the program)" x.err ||
	{ show x.err; fail "after an exec: the warning does not name the exec'd image"; }

run n "${CLEANENV[@]}" "$MEMLENS" run -- /nonexistent/program
expect_rc n 127 "memlens run -- /nonexistent/program"
grep -q '^memlens: ' n.err || { show n.err; fail "memlens run of a missing program gave no message"; }
printf '\177ELF garbage' > notexec; chmod 644 notexec
run n "${CLEANENV[@]}" "$MEMLENS" run -- "$T/notexec"
expect_rc n 126 "memlens run of a file without execute permission"
run n "${CLEANENV[@]}" "$MEMLENS" run -- sh -c 'exit 42'
expect_rc n 42 "memlens run -- sh -c 'exit 42' (PATH lookup)"
exit 0
