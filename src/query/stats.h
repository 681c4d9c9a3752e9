/* stats.h: the statistics written at exit (stats.c; memlens_get_stats and
 * memlens_print_stats are the public side). */
#ifndef MEMLENS_STATS_H
#define MEMLENS_STATS_H

/* MEMLENS_STATS: writes them, once per process (interpose/exit.c). */
void memlens__stats_at_exit(void);
#endif
