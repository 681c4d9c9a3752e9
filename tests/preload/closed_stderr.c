/* closed_stderr: a program that closes stderr in an atexit handler, as
 * coreutils' close_stdout does; memlens's statistics and reports at exit
 * must still come out on the original stderr. */
#include <stdlib.h>
#include <unistd.h>

static void close_std(void) { close(1); close(2); }

int main(void)
{
	atexit(close_std);
	for (int i = 0; i < 5; i++)
		free(malloc(100 + i));
	return 0;
}
