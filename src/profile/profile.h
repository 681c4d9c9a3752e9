/* profile.h: the heap profiler's recording side (start.c, record.c,
 * write.c).  While it is on (MEMLENS_PROFILE=FILE), the hooks take their
 * slow path (the hook gate), where each recorded allocation gets its stack:
 * a node of the trie of stacks (site/stacks.h), kept in the chunk's record
 * in place of its site (tagged: site/site_field.h). */
#ifndef MEMLENS_PROFILE_H
#define MEMLENS_PROFILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/compiler.h"

extern ML_HIDDEN int memlens__profiling;

/* Start-up: reads MEMLENS_PROFILE, MEMLENS_SAMPLE, MEMLENS_PROFILE_DEPTH and
 * starts recording (memlens__resolve, or else the constructor's init). */
void memlens__profile_start(void);
/* The constructor: diagnostics, signal handlers. */
void memlens__profile_init(void);
/* An allocation of n bytes is being made from the hook whose return
 * address is ra and CFA cfa: returns the site field to record (a tagged
 * node), or site unchanged when this allocation is not recorded (sampling). */
const void *memlens__profile_alloc(size_t n, const void *site, const void *ra, uintptr_t cfa);
/* The hooks' fast path: this thread's sampling countdown went below zero.
 * Returns the site field to record, or NULL when this allocation is not
 * recorded (the caller's site then: found only when wanted, since the
 * profiler's stack does without it). */
const void *memlens__profile_sampled(size_t n, const void *ra, uintptr_t cfa);
/* A chunk whose record carried a tagged node is freed (or realloc'd away). */
void memlens__profile_free(const void *site_field, size_t n, uint64_t seq, pid_t tid);
/* The same, for a header chunk whose check passed (tid_seq: its header's,
 * tid:24 | seq:40, not 0), by the one thread of a process (self: its
 * record), or by a thread (with a record) of a process that has threads. */
struct mlthread;
void memlens__profile_free_one(struct mlthread *self, const void *site_field, size_t n, uint64_t tid_seq);
void memlens__profile_free_threads(struct mlthread *self, const void *site_field, size_t n, uint64_t tid_seq);
/* "MEMLENS_PROFILE=" and the file the next image (after an exec) writes:
 * FILE.exec1, or FILE.execN+1 after FILE.execN. */
void memlens__profile_next_name(char *buf, size_t len);
/* The calling thread's start routine returned (or it was cancelled): the
 * figures it kept to itself go to the profile's table. */
void memlens__profile_thread_end(void);
/* fork: before (takes the profile's figures lock) and after it, in the
 * parent and in the child (lets it go). */
void memlens__prof_prefork(void);
void memlens__prof_postfork(void);
/* In the child: its figures at the fork kept as what it inherited, then as
 * memlens__prof_postfork. */
void memlens__prof_postfork_child(void);
/* Writes the profile file (exit, fatal signal, snapshot). */
void memlens__profile_write(int reason);

/* --profile-signals: bit sig is set once the profiler installed its
 * handler for signal sig (where the program had SIG_DFL).  Never cleared:
 * whether the handler is still sig's action is told by the action itself
 * (a vfork child's sigaction changes its own actions only, in memory its
 * parent shares). */
extern ML_HIDDEN uint64_t memlens__prof_signals_held;
/* The program's sigaction(sig, act, old) succeeded (interpose/signals.c):
 * an old action that is the profiler's handler is rewritten as SIG_DFL,
 * the action the program would have plain. */
struct sigaction;
void memlens__prof_signal_seen(int sig, struct sigaction *old);
/* The action to set for the program's sigaction(sig, act, ...): act, or,
 * when act is SIG_DFL for a signal the profiler took for its fatal handler
 * (all of them but SIGUSR2), that handler again in *buf (it writes the
 * profile, then the signal kills the program as SIG_DFL would): a program
 * that puts back the SIG_DFL it was told of (an action saved and
 * restored, a crash handler resetting before it raises again) keeps the
 * profile on that signal. */
const struct sigaction *memlens__prof_signal_set(int sig, const struct sigaction *act, struct sigaction *buf);
#endif
