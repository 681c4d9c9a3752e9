/* bench_meta.c: memory memlens uses for its metadata.
 *
 *   bench_meta               (built plain; run plain and preloaded)
 *
 * Allocates BENCH_META_CHUNKS (default 1000000) malloc chunks of random
 * sizes 16..256 and keeps them live, then prints:
 *   meta_rss_kb        VmRSS of the whole process, from /proc/self/status
 *   meta_heap_bytes    the heap: glibc's mallinfo2() arena + mmapped bytes
 *   meta_req_bytes     the sum of the requested sizes
 *   meta_chunks        the number of chunks allocated here
 *   meta_named_kb      resident kB of mappings whose name mentions memlens
 *                      (0 when the library does not name its mappings)
 * run.sh subtracts the plain run's RSS from the tracked run's: the
 * difference is memlens's metadata plus its fixed cost (code, tables).
 */
#include "bench_common.h"

#include <malloc.h>

static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	size_t len = strlen(field);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Resident kB of mappings named like memlens's own (e.g. [anon:memlens...]
 * set with PR_SET_VMA_ANON_NAME, or a memfd called memlens). */
static long named_kb(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	long kb = 0;
	int in_named = 0;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f)) {
		/* A mapping header starts with a hex range "lo-hi ". */
		char *dash = strchr(line, '-');
		char *sp = strchr(line, ' ');
		if (dash != NULL && sp != NULL && dash < sp && line[0] != ' ' &&
		    strchr("0123456789abcdef", line[0]) != NULL) {
			/* The library file itself does not count as metadata. */
			in_named = strstr(line, "memlens") != NULL &&
			           strstr(line, ".so") == NULL;
		} else if (in_named && strncmp(line, "Rss:", 4) == 0) {
			kb += strtol(line + 4, NULL, 10);
		}
	}
	fclose(f);
	return kb;
}

int main(void)
{
	long n = bench_env_long("BENCH_META_CHUNKS", 1000000);
	struct bench_rng rng;
	bench_rng_seed(&rng, 7);
	char **chunks = malloc((size_t)n * sizeof *chunks);
	uint64_t req = 0;
	for (long i = 0; i < n; i++) {
		size_t sz = (size_t)bench_rng_range(&rng, 16, 256);
		chunks[i] = malloc(sz);
		memset(chunks[i], 1, sz);
		req += sz;
	}
	struct mallinfo2 mi = mallinfo2();
	printf("meta_chunks %ld\n", n);
	printf("meta_req_bytes %llu\n", (unsigned long long)req);
	printf("meta_heap_bytes %llu\n",
	       (unsigned long long)(mi.arena + mi.hblkhd));
	printf("meta_rss_kb %ld\n", status_kb("VmRSS"));
	printf("meta_named_kb %ld\n", named_kb());
	bench_report_memlens();
	for (long i = 0; i < n; i++)
		free(chunks[i]);
	free(chunks);
	return 0;
}
