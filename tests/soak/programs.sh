#!/bin/bash
# programs: heavier real programs, plain against memlens (RELIABILITY #39,
# #44, #46, #47 and C++ exceptions): node with worker_threads, xz -T4 and
# sort --parallel=4 on ~40 MB (same output), make -j8 of 200 targets, a
# threaded python3 http.server answering 500 curl requests, a C++ program
# throwing in 4 threads, and 20 000 threads each leaking 17 bytes (exactly
# 20 000 chunks live, memlens's own memory bounded).
# TIMEOUT: 1800
. "$ROOT/tests/lib.sh"
need_lib
need_prog thread_churn

if command -v node > /dev/null; then
	cat > n.js <<'JS'
const { Worker, isMainThread, parentPort } = require('worker_threads');
if (isMainThread) {
  const bufs = []; for (let i = 0; i < 2000; i++) bufs.push(Buffer.alloc(1000 + i));
  const o = {}; for (let i = 0; i < 50000; i++) o['k' + i] = [i, 'v' + i];
  const back = JSON.parse(JSON.stringify(o));
  const w = new Worker(__filename);
  w.on('message', m => console.log('worker', m, Object.keys(back).length, bufs.length));
} else { let t = 0; for (let i = 0; i < 1e5; i++) t += JSON.stringify({ i }).length; parentPort.postMessage(t); }
JS
	compare node node n.js
else
	note "no node: #44 not checked"
fi

head -c 30000000 /dev/urandom | base64 > big.txt
compare xz xz -T4 -6 -c big.txt
compare sort sort --parallel=4 -S 50M big.txt

python3 -c "
t = ['all: ' + ' '.join('t%d' % i for i in range(200))]
for i in range(200):
    t.append('t%d:\n\t@echo %d > out%d.txt; cat out%d.txt' % (i, i, i, i))
open('Makefile', 'w').write('\n'.join(t) + '\n')"
run mk "${CLEANENV[@]}" "$MEMLENS" run -- make -s -j8
expect_rc mk 0 "make -j8"
[ "$(wc -l < mk.out)" = 200 ] || fail "make -j8 printed $(wc -l < mk.out) lines, expected 200"
no_memlens_lines mk.err "make -j8"

if command -v curl > /dev/null; then
	mkdir www && echo hello > www/index.html
	port=$((20000 + RANDOM % 20000))
	"${CLEANENV[@]}" "$MEMLENS" run -- python3 -m http.server "$port" --bind 127.0.0.1 --directory www > srv.out 2> srv.err &
	srv=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	ok=0
	for _ in $(seq 500); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/index.html")" = 200 ] && ok=$((ok + 1))
	done
	# (a background job of a script starts with SIGINT ignored, which
	# python keeps: stop it with SIGTERM, which memlens run passes on)
	kill -TERM "$srv"; wait "$srv"
	[ $ok = 500 ] || fail "http.server under memlens answered $ok of 500 requests"
	grep '^memlens:' srv.err && fail "http.server: memlens printed something"
else
	note "no curl: #39 not checked"
fi

cat > exc.cc <<'CC'
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
static int work() { int caught = 0; std::map<int, std::string> m;
  for (int i = 0; i < 20000; i++) {
    try { if (i % 3 == 0) throw std::runtime_error("e" + std::to_string(i)); m[i % 500] = std::string(i % 64, 'x'); }
    catch (const std::exception &e) { caught += e.what()[0] == 'e'; } }
  return caught + (int)m.size(); }
int main() { std::vector<std::thread> ts; int r[4];
  for (int t = 0; t < 4; t++) ts.emplace_back([t, &r] { r[t] = work(); });
  for (auto &t : ts) t.join();
  printf("%d %d %d %d\n", r[0], r[1], r[2], r[3]); }
CC
g++ -O2 -pthread exc.cc -o exc || fail "exc.cc does not build"
compare exc ./exc

run c "${CLEANENV[@]}" MEMLENS_STATS="$T/c.stats" "$MEMLENS" run -- "$TB/preload/thread_churn" 20000
expect_rc c 0 "thread_churn 20000"
stats_kv c.stats > kv
[ $(( $(sv kv n_allocs) - $(sv kv n_frees) )) -ge 20000 ] || fail "thread_churn: fewer than 20000 chunks live at exit"
expect_stat kv sc5 20000
# 20 000 threads' records are recycled, not kept: memlens's own memory
# stays far below one record per thread ever made (each is ~3 KiB).
[ "$(sv kv metadata)" -lt 16000000 ] || fail "thread_churn: memlens holds $(sv kv metadata) bytes after 20000 threads"
exit 0
