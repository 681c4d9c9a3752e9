"""alloc_heavy.py: an allocation-heavy Python workload for bench/run.sh.

Run with PYTHONMALLOC=malloc so that every object goes through malloc.
Builds and discards dicts, lists, tuples and strings, keeps a bounded cache
of live objects (so the heap holds a few hundred thousand chunks) and
evicts from it at random.  Deterministic: the work depends only on ROUNDS.

    python3 alloc_heavy.py [ROUNDS]
"""
import random
import sys


def one_round(r, cache, rng):
    d = {}
    for i in range(1500):
        k = "key%d_%d" % (i, r)
        d[k] = [i, str(i * 7), (i, k), {"x": i}]
    words = [k.upper() + "-" + v[1] for k, v in d.items()]
    joined = ",".join(words)
    parts = joined.split(",")
    total = len(parts) + sum(len(v[1]) for v in d.values())
    for i in range(0, len(parts), 3):
        slot = rng.randrange(200000)
        cache[slot] = (parts[i], [i] * (i % 13), bytearray(i % 200))
    del d, words, joined, parts
    return total


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = random.Random(12345)
    cache = {}
    total = 0
    for r in range(rounds):
        total += one_round(r, cache, rng)
    print(total, len(cache))


main()
