/* run_state.h: the page `memlens run` shares with the process it starts
 * (MEMLENS_RUN_STATE names the parent's memfd, through /proc/PID/fd/N).
 * Its first word: the outputs that process still owes, set at start-up,
 * cleared once written; what is left when it has ended was never written
 * (a raw exit_group, a death by a signal) and the parent warns.  From
 * ML_RUN_IMAGE on: the program the process exec'd last, as it named it
 * (empty until an exec), for the parent's warning to name the image that
 * owed them. */
#ifndef MEMLENS_RUN_STATE_H
#define MEMLENS_RUN_STATE_H
#include <stdint.h>

#define ML_RUN_OWES_STATS 1u
#define ML_RUN_OWES_PROFILE 2u
#define ML_RUN_IMAGE 64     /* the offset of the image's name in the page */
#define ML_RUN_IMAGE_MAX 1024 /* its bytes, the terminating 0 included */

/* The runtime side (run_state.c): maps the page in the process memlens run
 * started and notes what it owes (ML_RUN_OWES_* bits); later, sets and
 * clears bits (only in that process). */
void memlens__run_state_init(uint32_t owes);
uint32_t memlens__run_owes(uint32_t set, uint32_t clear); /* the bits before */
/* Before an exec of path: notes it as the image's name, the one before
 * copied to was (ML_RUN_IMAGE_MAX bytes), which a failed exec puts back
 * (path NULL). */
void memlens__run_image(const char *path, char *was);
#endif
