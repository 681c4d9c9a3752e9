/* compiler.h: the compiler attributes the runtime's files share. */
#ifndef MEMLENS_COMPILER_H
#define MEMLENS_COMPILER_H

/* Code that may run before a sanitizer runtime has set itself up (the
 * malloc entry points, finding the real malloc, the bootstrap arena) must
 * not be instrumented when memlens is built with ASan/UBSan. */
#define ML_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

#define ML_LIKELY(x) __builtin_expect(!!(x), 1)
#define ML_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A public API function (the library is built with -fvisibility=hidden). */
#define ML_API_EXPORT __attribute__((visibility("default")))
/* On the declaration of a variable another file defines: it is in this
 * library, so the hooks load it directly (one instruction, not two through
 * the GOT).  -fvisibility=hidden covers definitions only. */
#define ML_HIDDEN __attribute__((visibility("hidden")))
#endif
