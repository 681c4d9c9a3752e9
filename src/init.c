/* init.c: start-up and exit.  Hooks initialise lazily on the first call
 * (memlens__resolve); the constructor then does what needs a working
 * process: options, wrapper ranges for allocation sites, fork handlers, and
 * the check that memlens's malloc is the one the program calls.  No thread
 * is started and no signal handler installed. */
#include "internal.h"
#include "options.h"
#include "thread.h"
#include <dlfcn.h>
#include <unwind.h>

#include <stdlib.h>
extern __typeof(malloc) memlens__malloc_self;

static _Unwind_Reason_Code warm_cb(struct _Unwind_Context *ctx, void *arg)
{
	(void)ctx;
	return ++*(int *)arg > 2 ? _URC_END_OF_STACK : _URC_NO_REASON;
}

__attribute__((constructor(101))) static void memlens_init(void)
{
	int g, depth = 0;
	void *m;
	memlens__options_init();
	memlens__exit_set_owner();
	memlens__resolve();
	g = memlens__tls.guard;
	memlens__tls.guard = ML_GUARD_INTERNAL;
	memlens__site_init();
	memlens__thread_atfork_install();
	_Unwind_Backtrace(warm_cb, &depth); /* first use may load and cache */
	m = dlsym(RTLD_DEFAULT, "malloc");
	memlens__tls.guard = g;
	if (m && m != (void *)memlens__malloc_self) {
		char where[512];
		struct mlbuf b = MLBUF(where);
		if (!memlens__symbolize(m, &b))
			memlens__bputs(&b, "(unknown)");
		memlens__bend(&b);
		memlens__warn("interposition inactive: malloc resolves to %s, not memlens; heap allocations are not tracked", where);
	}
}

__attribute__((destructor)) static void memlens_fini(void)
{
	memlens__report_at_exit();
}
