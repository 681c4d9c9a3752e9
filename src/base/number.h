/* number.h: the one reader of the numbers in options (MEMLENS_SAMPLE,
 * MEMLENS_PROFILE_DEPTH, MEMLENS_ROOT_PID, and `memlens run`'s --sample and
 * --depth), shared by the runtime and the CLI.  Allocation-free; a value
 * too big is refused, never wrapped. */
#ifndef MEMLENS_NUMBER_H
#define MEMLENS_NUMBER_H
#include <stdint.h>

/* MEMLENS_SAMPLE / --sample: 1T, beyond any use (-ln(u) times it stays
 * well inside an int64); MEMLENS_PROFILE_DEPTH / --depth: frames. */
#define ML_SAMPLE_MAX ((uint64_t)1 << 40)
#define ML_DEPTH_MAX 256
#define ML_CACHE_LIMIT_MAX ((uint64_t)64 << 20) /* MEMLENS_CACHE */

/* Decimal digits, then, with units, an optional k, m, g or t (binary
 * multiples) and an optional b.  1 and *out set if v is one, at most max;
 * else 0 and *out untouched. */
static inline int memlens__parse_number(const char *v, uint64_t max, int units, uint64_t *out)
{
	uint64_t n = 0;
	unsigned shift = 0;
	if (!v || *v < '0' || *v > '9')
		return 0;
	for (; *v >= '0' && *v <= '9'; v++) {
		unsigned d = (unsigned)(*v - '0');
		if (d > max || n > (max - d) / 10)
			return 0;
		n = n * 10 + d;
	}
	if (units) {
		switch (*v) {
		case 'k': case 'K': shift = 10; v++; break;
		case 'm': case 'M': shift = 20; v++; break;
		case 'g': case 'G': shift = 30; v++; break;
		case 't': case 'T': shift = 40; v++; break;
		}
		if (*v == 'b' || *v == 'B')
			v++;
	}
	if (*v || n > max >> shift)
		return 0;
	*out = n << shift;
	return 1;
}
#endif
