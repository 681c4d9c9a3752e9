/* newlocale/freelocale in a loop: glibc's _nl_load_locale allocas on one
 * path only, which once made memlens's fast site walk read a stack canary
 * as a site and crash in free (issue 11 item 1). */
#include <locale.h>
#include <stdio.h>

int main(void)
{
	for (int i = 0; i < 300; i++) {
		locale_t l = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
		if (!l) {
			perror("newlocale");
			return 1;
		}
		freelocale(l);
	}
	puts("locales done");
	return 0;
}
