#!/bin/bash
# sqlite: RELIABILITY #41 (smaller): sqlite3 with 5000 inserts in a
# transaction, an index, an update, a delete, a join, aggregate queries and
# VACUUM, once plain and once with PRAGMA mmap_size (mremap); plain vs
# memlens: same output and status, no memlens output; counts deterministic.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
command -v sqlite3 > /dev/null || fail "sqlite3 not installed"
gen() { # gen MMAP
	echo "PRAGMA mmap_size=$1;"
	echo "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL, blob BLOB);"
	echo "BEGIN;"
	for i in $(seq 5000); do
		echo "INSERT INTO t(name, v, blob) VALUES('name$i', $i.5, zeroblob($((i % 300))));"
	done
	echo "COMMIT;"
	cat <<'SQL'
CREATE INDEX ti ON t(name);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
  INSERT INTO t(name, v) SELECT 'cte' || x, x * 2 FROM c;
UPDATE t SET v = v * 3 WHERE id % 7 = 0;
DELETE FROM t WHERE id % 11 = 0;
CREATE TABLE u AS SELECT id, name FROM t WHERE id % 3 = 0;
SELECT count(*), sum(v), max(length(blob)) FROM t;
SELECT count(*) FROM t JOIN u USING(id);
SELECT name FROM t WHERE name LIKE 'name49%' ORDER BY name LIMIT 5;
SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY v DESC LIMIT 10);
VACUUM;
PRAGMA integrity_check;
SQL
}
gen 0 > plain.sql
gen 268435456 > mmap.sql
for s in plain mmap; do
	rm -f "$s.db" "$s.db-journal"
	run "$s.plain" "${CLEANENV[@]}" sqlite3 "$s.db" ".read $s.sql"
	prc=$rc
	rm -f "$s.db" "$s.db-journal"
	run "$s.ml" "${CLEANENV[@]}" MEMLENS_STATS="$T/$s.stats" "$MEMLENS" run -- sqlite3 "$s.db" ".read $s.sql"
	expect_rc "$s.ml" "$prc" "sqlite3 ($s) under memlens"
	[ "$prc" = 0 ] || { show "$s.plain.err"; fail "sqlite3 ($s) failed plain"; }
	same_files "$s.plain.out" "$s.ml.out" "sqlite3 ($s) output"
	grep -qx ok "$s.plain.out" || fail "sqlite3 ($s): no integrity_check ok"
	no_memlens_lines "$s.ml.err" "sqlite3 ($s)"
	stats_kv "$s.stats" > kv
	[ "$(sv kv n_allocs)" -ge 5000 ] || fail "sqlite3 ($s): n_allocs=$(sv kv n_allocs)"
	expect_stat kv n_bad_frees 0
done
# determinism (a fresh database each run)
for i in 1 2 3; do
	rm -f d.db
	run d "${CLEANENV[@]}" MEMLENS_STATS="$T/d$i.stats" "$MEMLENS" run -- sqlite3 d.db ".read plain.sql"
	counts "d$i.stats" > "d$i.counts"
	[ $i = 1 ] || cmp -s d1.counts "d$i.counts" || { diff d1.counts "d$i.counts" >&2; fail "sqlite3: counts differ between runs 1 and $i"; }
done
exit 0
