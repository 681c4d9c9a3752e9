/* pad.h: with -DPAD, a function placed before the including program's own
 * code, so that every address of the NEW build differs from BASE's while
 * the program's source lines stay the same (memlens diff must match stacks
 * by their symbolized frames, not their addresses). */
#ifdef PAD
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) int pad(int x)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%d %d %d %d", x, x * 2, x * 3, x * 4);
	return (int)strlen(buf) + x * 7 - 3;
}
#endif
