/* describe: alloc_describe gives one readable line naming "malloc" and the
 * size for base and interior heap addresses, truncates like snprintf
 * (NUL-terminated, returns the full length), and never crashes on
 * addresses it knows nothing about. */
#include "ut.h"

int main(void)
{
	char buf[512];
	char *p = malloc(168);
	CHECK(p != NULL);

	int n = alloc_describe(p, buf, sizeof buf);
	CHECKF(n > 0 && (size_t)n == strlen(buf), "n=%d buf=\"%s\"", n, buf);
	CHECKF(strstr(buf, "malloc"), "\"%s\" does not say malloc", buf);
	CHECKF(strstr(buf, "168"), "\"%s\" does not give the size 168", buf);
	CHECKF(!strchr(buf, '\n'), "\"%s\" is more than one line", buf);
	printf("%s\n", buf);

	n = alloc_describe(p + 8, buf, sizeof buf);
	CHECKF(n > 0 && strstr(buf, "malloc") && strstr(buf, "168"), "interior: \"%s\"", buf);
	printf("%s\n", buf);
	/* the interior line says how far in, the base line does not claim 8 */
	CHECKF(strstr(buf, "8 bytes into") || strstr(buf, " 8 "), "interior +8: \"%s\" gives no offset", buf);

	/* a big chunk */
	char *big = malloc(10u << 20);
	n = alloc_describe(big + (5u << 20), buf, sizeof buf);
	CHECKF(n > 0 && strstr(buf, "malloc") && strstr(buf, "10485760"), "big: \"%s\"", buf);
	printf("%s\n", buf);
	free(big);

	/* truncation: like snprintf */
	char full[512];
	int len = alloc_describe(p, full, sizeof full);
	CHECK(len > 10);
	for (size_t cap = 1; cap < (size_t)len + 3; cap++) {
		char small[600];
		memset(small, 'Z', sizeof small);
		int m = alloc_describe(p, small, cap);
		CHECK_EQ(m, len);
		size_t want = cap - 1 < (size_t)len ? cap - 1 : (size_t)len;
		CHECKF(small[want] == 0, "cap %zu: not terminated at %zu", cap, want);
		CHECKF(!memcmp(small, full, want), "cap %zu: prefix differs", cap);
		CHECKF(small[want + 1] == 'Z', "cap %zu: wrote past the buffer", cap);
	}
	char one = 'Z';
	CHECK_EQ(alloc_describe(p, &one, 0), len);
	CHECK_EQ(one, 'Z');
	CHECK_EQ(alloc_describe(p, NULL, 0), len);

	/* unknown addresses: -1 or some line, never "malloc chunk" claims */
	int local = 0;
	void *odd[] = { NULL, (void *)1, (void *)-1, &local, (void *)0x123456789abcULL };
	for (unsigned i = 0; i < sizeof odd / sizeof *odd; i++) {
		memset(buf, 'Z', sizeof buf);
		n = alloc_describe(odd[i], buf, sizeof buf);
		CHECK(n >= -1);
		if (n >= 0) {
			CHECK((size_t)n == strlen(buf) || (size_t)n >= sizeof buf);
			CHECKF(!strstr(buf, "malloc chunk"), "%p: \"%s\"", odd[i], buf);
			printf("%p: %s\n", odd[i], buf);
		}
	}
	/* freed */
	free(p);
	n = alloc_describe(p, buf, sizeof buf);
	if (n >= 0)
		CHECKF(!strstr(buf, "168-byte"), "freed chunk still described: \"%s\"", buf);
	return 0;
}
