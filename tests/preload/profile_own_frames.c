// profile_own_frames: allocations under memlens's own code, for
// tests/preload/profile_own_frames.sh: threads (memlens's pthread_create
// wrapper calls the real one, which allocates the thread's TLS; each thread
// starts in memlens's trampoline, which calls worker), one of which starts
// another, and mmap'd memory (interposed too) that main fills with pointers
// to chunks.
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

static void *worker(void *arg)
{
	void *volatile tmp = malloc(100);
	free(tmp);
	if (arg) { /* the first thread starts one of its own */
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
			return NULL;
	}
	return malloc(48);
}

int main(void)
{
	pthread_t t[3];
	void *ret[3];
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, worker, i ? NULL : (void *)1) != 0)
			return 1;
	for (int i = 0; i < 3; i++)
		if (pthread_join(t[i], &ret[i]) != 0 || !ret[i])
			return 1;
	void **map = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return 1;
	for (int i = 0; i < 100; i++)
		map[i] = malloc(32);
	for (int i = 0; i < 100; i++)
		free(map[i]);
	munmap(map, 1 << 16);
	for (int i = 0; i < 3; i++)
		free(ret[i]);
	return 0;
}
