/* leak_exact: leak_fn leaks 11, 22 and 33 bytes: 3 live chunks, 66 bytes;
 * with memlens present, each chunk's site is in leak_fn (RELIABILITY #3). */
#include "mlweak.h"
#include <dlfcn.h>

void *leaked[3];

__attribute__((noinline)) void leak_fn(void)
{
	leaked[0] = malloc(11);
	leaked[1] = calloc(2, 11);
	leaked[2] = malloc(33);
}

int main(void)
{
	leak_fn();
	if (ml_present()) {
		for (int i = 0; i < 3; i++) {
			Dl_info di;
			const void *site = alloc_get_site(leaked[i]);
			CHECK(site && dladdr(site, &di) && di.dli_sname);
			CHECKF(!strcmp(di.dli_sname, "leak_fn"), "chunk %d: site in %s", i, di.dli_sname);
			ML_CHECK_CHUNK(leaked[i], (size_t)11 * (i + 1));
		}
		say("sites ok\n");
	}
	return 0;
}
