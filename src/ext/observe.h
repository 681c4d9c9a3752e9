/* observe.h: observers of allocation events, and start-up plugins.  The
 * hooks test one global (memlens__observing) and call in here only while
 * some observer exists. */
#ifndef MEMLENS_OBSERVE_H
#define MEMLENS_OBSERVE_H
#include <stddef.h>
#include "memlens.h"

extern int memlens__observing; /* number of installed observers */

/* Report an event to every observer, on this thread.  No-ops inside a
 * callback (what a callback allocates is not reported again) and while this
 * thread is inside memlens. */
void memlens__notify_alloc(const struct allocator *a, void *base, size_t size, const void *site);
void memlens__notify_free(const struct allocator *a, void *base, size_t size);
void memlens__notify_resize(const struct allocator *a, void *old_base, size_t old_size, void *new_base,
                            size_t new_size, const void *site);

/* Start-up: loads MEMLENS_PLUGINS and calls their memlens_plugin_init; the
 * observers they made then hear of the live chunks, as heap's (the malloc
 * allocator, which sits above this layer: custom allocators report here). */
void memlens__plugins_load(const struct allocator *heap);
#endif
