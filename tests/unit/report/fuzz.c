/* fuzz.c FILE [FLIPS [SEED]]: the reader of `memlens report` against
 * damaged copies of a valid profile, in one process (built with ASan and
 * UBSan by tests/unit/report_fuzz.sh, with src/cli/report/*.c):
 *
 *  - FILE cut at every offset: each is rejected with "truncated at offset
 *    N (...)", N the cut (or, in the first 8 bytes, "empty file");
 *  - FLIPS copies with 1 to 4 random bytes changed (a bit flipped, or a
 *    random value): each is rejected with a message or read, and then
 *    every format is written from it (to /dev/null);
 *  - FILE itself: read, every format written.
 * Exit status 0 when all went as expected; the sanitizers abort on any
 * memory error or undefined behaviour. */
#include "report/exporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *devnull;
static unsigned long formats_run;

static void all_formats(struct profile *p)
{
	struct report_opts o = { RW_PEAK, 10, "fuzz" };
	struct report r = { p, sym_new(p, NULL, 1), &o, NULL, 0 };
	for (size_t i = 0; report_exporters[i].name; i++) {
		o.weight = (enum report_weight)(i % 4);
		report_exporters[i].write(&r, devnull);
		formats_run++;
	}
	free(r.buf);
	sym_free(r.sym);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fuzz FILE [FLIPS [SEED]]\n");
		return 2;
	}
	long flips = argc > 2 ? atol(argv[2]) : 1000;
	unsigned seed = argc > 3 ? (unsigned)atol(argv[3]) : 1;
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	devnull = fopen("/dev/null", "w");
	char err[512];
	int bad = 0;

	struct profile *p = prof_parse(buf, n, err, sizeof err);
	if (!p) {
		fprintf(stderr, "the intact file is rejected: %s\n", err);
		return 1;
	}
	all_formats(p);
	prof_free(p);

	/* every truncation */
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any overread */
		memcpy(copy, buf, len);
		err[0] = '\0';
		p = prof_parse(copy, len, err, sizeof err);
		char want[64];
		snprintf(want, sizeof want, "truncated at offset %zu (", len);
		if (p) {
			fprintf(stderr, "cut at %zu: read as a valid profile\n", len);
			prof_free(p);
			bad++;
		} else if (len == 0 ? strcmp(err, "empty file (not a memlens profile)") != 0
		                    : strncmp(err, want, strlen(want)) != 0) {
			fprintf(stderr, "cut at %zu: \"%s\"\n", len, err);
			bad++;
		}
		free(copy);
	}

	/* random damage */
	srand(seed);
	unsigned long parsed = 0, rejected = 0;
	for (long k = 0; k < flips; k++) {
		uint8_t *copy = malloc(n);
		memcpy(copy, buf, n);
		int changes = 1 + rand() % 4;
		for (int c = 0; c < changes; c++) {
			size_t at = (size_t)rand() % n;
			if (rand() % 2)
				copy[at] ^= (uint8_t)(1u << (rand() % 8));
			else
				copy[at] = (uint8_t)rand();
		}
		err[0] = '\0';
		p = prof_parse(copy, n, err, sizeof err);
		if (p) {
			parsed++;
			all_formats(p);
			prof_free(p);
		} else {
			rejected++;
			if (!err[0]) {
				fprintf(stderr, "damaged copy %ld: rejected without a message\n", k);
				bad++;
			}
		}
		free(copy);
	}
	printf("%zu truncations, %ld damaged copies (%lu read, %lu rejected), %lu formats written\n", n, flips,
	       parsed, rejected, formats_run);
	fclose(devnull);
	return bad ? 1 : 0;
}
