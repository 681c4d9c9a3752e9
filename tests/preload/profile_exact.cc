// profile_exact: a deterministic mix of every way to make a chunk, for
// tests/preload/profile_exact.sh (the profile's totals against the
// statistics').  libstdc++ allocates its exception pool in its constructor,
// before memlens's; realloc(NULL, n) and reallocarray(NULL, ...) are
// allocations; realloc(p, 0) frees.  The peak is a 1 MiB block made on top
// of everything else live (so the statistics publish it: their peak is
// batched), and 5 of its chunks are left live at exit.
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <vector>

static void *volatile nothing; // realloc(NULL, ...) that the compiler cannot turn into malloc

int main()
{
	static void *keep[1000];
	for (int i = 0; i < 1000; i++)
		keep[i] = realloc(nothing, 16 + i % 64);
	char *grow = NULL;
	for (int i = 1; i <= 200; i++)
		grow = (char *)realloc(grow, (size_t)i * 24);
	grow = (char *)realloc(grow, 10);
	void *gone = realloc(malloc(40), 0); // glibc: frees, returns NULL
	void *arr = reallocarray(nothing, 5, 20);
	void *c = calloc(10, 30), *m = memalign(64, 100), *a = aligned_alloc(64, 128), *pm = NULL;
	if (posix_memalign(&pm, 32, 200) != 0)
		return 1;
	void *v = valloc(300);
	char *s = strdup("profile_exact");
	int *n = new int[50];
	std::string str(100, 'x');
	std::vector<int> vec;
	for (int i = 0; i < 100; i++)
		vec.push_back(i);

	void *big = malloc(1 << 20);
	memset(big, 1, 1 << 20);
	free(big);

	for (int i = 0; i < 1000; i++)
		if (i % 200)
			free(keep[i]); // keep[0], [200], ... [800] stay: 5 leaks
	free(grow);
	free(gone);
	free(arr);
	free(c);
	free(m);
	free(a);
	free(pm);
	free(v);
	free(s);
	delete[] n;
	return (int)str.size() - 100 + (int)vec.size() - 100;
}
