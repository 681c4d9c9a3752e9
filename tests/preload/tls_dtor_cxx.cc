// tls_dtor_cxx: a C++ thread_local object whose destructor frees and
// mallocs (registered through __cxa_thread_atexit_impl, which itself
// callocs), in 64 threads one after another (RELIABILITY #16).
#include "mlweak.h"
#include <pthread.h>
#include <string>
#include <vector>

static char *handed[64];
static int current;

struct Tls {
	std::vector<std::string> v;
	char *raw;
	Tls() : raw((char *)malloc(77)) { v.push_back(std::string(100, 'x')); }
	~Tls()
	{
		free(raw);
		v.clear();
		v.shrink_to_fit();
		handed[current] = (char *)malloc(55);
		ML_CHECK_CHUNK(handed[current], 55);
	}
};
thread_local Tls tls;

static void *body(void *)
{
	tls.v.push_back(std::string(200, 'y'));
	return nullptr;
}

int main()
{
	pthread_t th;
	struct memlens_stats s0 = ml_stats();
	for (current = 0; current < 64; current++) {
		CHECK(pthread_create(&th, nullptr, body, nullptr) == 0);
		pthread_join(th, nullptr);
		CHECK(handed[current] != nullptr);
	}
	for (int i = 0; i < 64; i++)
		free(handed[i]);
	struct memlens_stats s1 = ml_stats();
	if (ml_present()) {
		CHECK_EQ(s1.n_bad_frees, 0);
		CHECK_EQ(s1.n_untracked, 0);
		CHECK(s1.n_allocs - s0.n_allocs >= 64 * 4);
	}
	say("c++ tls ok\n");
	return 0;
}
