#!/bin/bash
# java: the JVM (many threads, its own signal handlers, mmap'd heaps) runs a
# HashMap of 200 000 entries, a parallel stream over 4 worker threads, and
# a German-locale number format; System.exit(3).  Plain vs memlens run and
# vs memlens run --profile: the same stdout and status, no memlens output;
# the profile is complete.
# TIMEOUT: 300
. "$ROOT/tests/lib.sh"
need_lib
command -v java > /dev/null && command -v javac > /dev/null || skip "java/javac not installed"
mkdir cls
cat > W.java <<'JV'
import java.util.*;
import java.util.stream.*;
public class W {
	public static void main(String[] a) {
		Map<Integer, String> m = new HashMap<>();
		for (int i = 0; i < 200000; i++) m.put(i, "v" + i);
		long s = IntStream.range(0, 400000).parallel().mapToObj(Integer::toString).mapToLong(String::length).sum();
		System.out.println(m.size() + " " + s + " " + String.format(Locale.GERMANY, "%,.2f", 1234567.891));
		System.exit(3);
	}
}
JV
run jc "${CLEANENV[@]}" javac -d cls W.java
expect_rc jc 0 "javac"
compare jv java -Xshare:auto -cp cls W
[ "$rc" = 3 ] || { show jv.plain.err; fail "java: status $rc, expected 3"; }
grep -q '^200000 2288890 1\.234\.567,89$' jv.plain.out || fail "java printed: $(cat jv.plain.out)"
compare_profile jv 3 java -cp cls W
exit 0
