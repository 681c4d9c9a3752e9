/* typed_lib.c: a library built with memlens-cc and dlopen'ed by
 * typed_prog.c: its struct point is the program's. */
#include <stdlib.h>
struct point { int x, y; };
struct point lib_point = { 5, 6 };
struct point *lib_make_points(void)
{
	return malloc(3 * sizeof(struct point));
}
