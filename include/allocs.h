/* allocs.h: liballocs-style entry point; programs written for liballocs
 * include this and compile unchanged. */
#ifndef MEMLENS_ALLOCS_H
#define MEMLENS_ALLOCS_H
#include <stdlib.h>
#include "memlens.h"
#endif
