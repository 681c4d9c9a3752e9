// bench_map: a C++ workload for the profile section (bench/run.sh): an
// std::map<int, std::string> filled with N entries in rounds, each round's
// map cleared every other round: about 2 allocations per insertion (the
// node, and the string when longer than its small buffer), the live heap
// climbing to a new peak most of the time while a map grows (the profiler
// takes the peak's time at each one).  N from BENCH_MAP_OPS (1000000).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

int main()
{
	const char *e = std::getenv("BENCH_MAP_OPS");
	long n = e ? std::atol(e) : 1000000;
	std::map<int, std::string> m;
	unsigned long sum = 0;
	for (int round = 0; round < 4; round++) {
		for (long i = 0; i < n / 4; i++)
			m.emplace(static_cast<int>(i * 7 + round), std::string(24 + i % 16, 'x'));
		sum += m.size();
		if (round % 2)
			m.clear();
	}
	std::printf("%lu\n", sum);
	return 0;
}
