/* exit_busy: main returns (or calls exit) while 8 threads keep allocating
 * and freeing (RELIABILITY #23). */
#include "mlweak.h"
#include <pthread.h>

static void *churn(void *arg)
{
	uint64_t s = 1 + (uintptr_t)arg;
	char *ring[32] = { 0 };
	for (;;) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		int i = s % 32;
		free(ring[i]);
		ring[i] = malloc(1 + s % 3000);
		if (s % 7 == 0)
			ring[i] = realloc(ring[i], 1 + s % 9000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[8];
	for (long i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, churn, (void *)i);
	struct timespec ts = { 0, 2000000 };
	nanosleep(&ts, NULL);
	if (argc > 1)
		exit(3);
	return 4;
}
