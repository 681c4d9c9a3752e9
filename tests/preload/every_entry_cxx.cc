// every_entry_cxx: operator new/new[]/aligned new/nothrow new and the
// matching deletes (sized, aligned) go through the malloc family: each
// counts exactly one allocation and one free, with the right size.
#include "mlweak.h"
#include <new>
#include <string>
#include <vector>
#include <map>

struct alignas(128) Big { char x[300]; };

int main()
{
	struct memlens_stats s0 = ml_stats();
	int *a = new int(5);                     ML_CHECK_CHUNK(a, sizeof(int));
	int *b = new int[100];                   ML_CHECK_CHUNK(b, 100 * sizeof(int));
	Big *g = new Big;                        ML_CHECK_CHUNK(g, sizeof(Big));
	CHECK(((uintptr_t)g & 127) == 0);
	Big *ga = new Big[3];                    CHECK(((uintptr_t)ga & 127) == 0);
	int *n = new (std::nothrow) int[10];     ML_CHECK_CHUNK(n, 10 * sizeof(int));
	struct memlens_stats s1 = ml_stats();
	if (ml_present())
		CHECK_EQ(s1.n_allocs - s0.n_allocs, 5);
	delete a;
	delete[] b;
	delete g;
	delete[] ga;
	delete[] n;
	struct memlens_stats s2 = ml_stats();
	if (ml_present()) {
		CHECK_EQ(s2.n_frees - s1.n_frees, 5);
		CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	}
	{
		std::vector<std::string> v;
		std::map<int, std::string> mp;
		for (int i = 0; i < 1000; i++) {
			v.push_back(std::string(40 + i % 50, 'x'));
			mp[i] = v.back();
		}
	}
	struct memlens_stats s3 = ml_stats();
	if (ml_present()) {
		CHECK_EQ(s3.n_allocs - s3.n_frees, s0.n_allocs - s0.n_frees);
		CHECK_EQ(s3.n_bad_frees, 0);
		CHECK_EQ(s3.n_untracked, 0);
		say("c++ ok\n");
	}
	return 0;
}
