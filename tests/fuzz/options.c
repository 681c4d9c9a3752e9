// OBJS: base/options base/prim base/diag base/outfile base/outfile_rules
/* options.c: libFuzzer target for the option readers.  The input is split
 * at newlines: the first piece goes to the number reader (src/base/number.h)
 * under every limit and with and without units, each answer checked
 * against a reference done in 128-bit arithmetic; then the pieces become
 * MEMLENS_ROOT_PID, MEMLENS_STATS, MEMLENS_VERBOSE, MEMLENS_ON_ERROR,
 * MEMLENS_SAMPLE and MEMLENS_PROFILE_DEPTH in an environment of their own
 * for memlens__options_init (src/base/options.c), whose settings must come
 * out in range.  (MEMLENS_LOG is left out: it opens files.)  Standalone:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc -Iinclude \
 *     tests/fuzz/options.c src/base/options.c src/base/prim.c src/base/diag.c src/base/outfile.c \
 *     -o build/fuzz-options
 *   build/fuzz-options -max_total_time=60 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/number.h"
#include "base/options.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

/* The grammar of number.h, with room to see any overflow. */
static int reference(const char *v, uint64_t max, int units, uint64_t *out)
{
	unsigned __int128 n = 0;
	unsigned shift = 0;
	if (*v < '0' || *v > '9')
		return 0;
	for (; *v >= '0' && *v <= '9'; v++) {
		n = n * 10 + (unsigned)(*v - '0');
		if (n > max)
			return 0;
	}
	if (units) {
		const char *u = strchr("kKmMgGtT", *v);
		if (*v && u) {
			shift = 10 * (unsigned)((u - "kKmMgGtT") / 2 + 1);
			v++;
		}
		if (*v == 'b' || *v == 'B')
			v++;
	}
	if (*v || (n << shift) > max)
		return 0;
	*out = (uint64_t)(n << shift);
	return 1;
}

static void numbers(const char *s)
{
	static const uint64_t maxes[] = { 0, 1, 9, 10, 256, INT_MAX, ML_SAMPLE_MAX, UINT64_MAX / 10,
		                          UINT64_MAX - 1, UINT64_MAX };
	for (unsigned i = 0; i < sizeof maxes / sizeof *maxes; i++)
		for (int units = 0; units < 2; units++) {
			uint64_t got = 12345, want = 12345;
			int ok = memlens__parse_number(s, maxes[i], units, &got);
			CHECK(ok == reference(s, maxes[i], units, &want));
			CHECK(got == want); /* the value, or untouched */
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	static const char *const names[] = { "MEMLENS_ROOT_PID=", "MEMLENS_STATS=", "MEMLENS_VERBOSE=",
		                             "MEMLENS_ON_ERROR=", "MEMLENS_SAMPLE=", "MEMLENS_PROFILE_DEPTH=" };
	enum { NV = sizeof names / sizeof *names };
	char *env[NV + 1] = { 0 }, *piece[NV] = { 0 };
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	/* the pieces, at newlines (a NUL ends the input) */
	char *p = buf;
	for (int i = 0; i < NV && p; i++) {
		piece[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = 0;
	}
	numbers(piece[0]);

	int n = 0;
	for (int i = 0; i < NV && piece[i]; i++) {
		env[n] = malloc(strlen(names[i]) + strlen(piece[i]) + 1);
		if (!env[n])
			break;
		strcpy(env[n], names[i]);
		strcat(env[n++], piece[i]);
	}
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	/* warnings out of the way: the log is the stderr the options find */
	int err = dup(2);
	if (devnull >= 0)
		dup2(devnull, 2);
	char **saved = __environ;
	__environ = env;
	memlens__options_init();
	__environ = saved;
	if (err >= 0) {
		dup2(err, 2);
		close(err);
	}
	CHECK(memlens__opt.on_error >= ML_ON_ERROR_WARN && memlens__opt.on_error <= ML_ON_ERROR_IGNORE);
	CHECK(memlens__opt.verbose == 0 || memlens__opt.verbose == 1);
	CHECK(memlens__opt.stats == 0 || memlens__opt.stats == 1);
	CHECK(memlens__opt.root_pid >= 0 && memlens__opt.root_pid <= INT_MAX);
	CHECK(memlens__opt.sample <= ML_SAMPLE_MAX);
	CHECK(memlens__opt.profile_depth >= 1 && memlens__opt.profile_depth <= ML_DEPTH_MAX);
	if (memlens__opt.root_pid) {
		uint64_t r;
		CHECK(memlens__parse_number(piece[0], INT_MAX, 0, &r) && (long)r == memlens__opt.root_pid);
	}
	for (int i = 0; i < n; i++)
		free(env[i]);
	free(buf);
	return 0;
}
