/* runtime.c: the process-wide state shared across layers (runtime.h says who
 * writes and who reads each). */
#include "base/runtime.h"

struct ml_real memlens__real;
int memlens__real_is_glibc;
int memlens__hdr_on;
uint64_t memlens__hdr_secret;
int memlens__hook_gate = ML_GATE_UNRESOLVED;
static const char always_multi = 0;
const volatile char *memlens__single_threaded = &always_multi;
int memlens__index_incomplete;
uint64_t memlens__untracked_global;
int memlens__forked_child;
int memlens__forking;
