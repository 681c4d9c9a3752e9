/* dwarf_load.c: finds and opens the DWARF of one loaded object, once per
 * (path, load bias).  libdwfl does the finding: dwfl_standard_find_debuginfo
 * looks for the build-id file under /usr/lib/debug/.build-id/xx/yyyy.debug,
 * for a .gnu_debuglink next to the file, in its .debug/ and under
 * /usr/lib/debug/<dir>/ (and dwz alternate files behind them).  The module
 * is reported at bias 0, so DWARF addresses are file addresses; this file's
 * callers add the run-time load bias themselves.  An object without DWARF
 * is remembered as such, so later queries answer NULL at once. */
#include "module_internal.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static struct ml_t_obj *objs;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static void load(struct ml_t_obj *o)
{
	o->state = -1;
	o->why = "has no DWARF debugging information (built without -g? no debug file found)";
	o->dwfl = dwfl_begin(&callbacks);
	if (!o->dwfl) {
		o->why = "cannot start libdwfl";
		return;
	}
	dwfl_report_begin(o->dwfl);
	const char *base = strrchr(o->path, '/');
	o->mod = dwfl_report_elf(o->dwfl, base ? base + 1 : o->path, o->path, -1, 0, true);
	dwfl_report_end(o->dwfl, NULL, NULL);
	if (!o->mod) {
		o->why = "cannot be read as an ELF file";
		return;
	}
	o->dw = dwfl_module_getdwarf(o->mod, &o->dwbias);
	if (!o->dw)
		return;
	/* A debug file with no compilation units is as good as none. */
	Dwarf_Off next;
	size_t hsize;
	if (dwarf_nextcu(o->dw, 0, &next, &hsize, NULL, NULL, NULL) != 0) {
		o->dw = NULL;
		return;
	}
	o->state = 1;
	o->why = NULL;
}

struct ml_t_obj *ml_t_obj_get(const char *path, uintptr_t bias)
{
	char self[PATH_MAX];
	if (!path || !*path) {
		/* The loader names the executable "": read it from /proc. */
		if (!realpath("/proc/self/exe", self))
			return NULL;
		path = self;
	}
	for (struct ml_t_obj *o = objs; o; o = o->next)
		if (o->bias == bias && !strcmp(o->path, path))
			return o;
	struct ml_t_obj *o = calloc(1, sizeof *o);
	if (!o || !(o->path = strdup(path))) {
		free(o);
		return NULL;
	}
	o->bias = bias;
	load(o);
	o->next = objs;
	objs = o;
	return o;
}

uint64_t ml_t_die_key(const struct ml_t_obj *o, Dwarf_Die *die)
{
	uint64_t k = dwarf_dieoffset(die);
	if (die->cu && dwarf_cu_getdwarf(die->cu) != o->dw)
		k |= 1ULL << 62; /* a DIE in the dwz alternate file */
	return k;
}

int ml_t_next_cu(struct ml_t_obj *o, Dwarf_Off *off, Dwarf_Die *cu)
{
	Dwarf_Off next;
	size_t hsize;
	while (*off != (Dwarf_Off)-1 && dwarf_nextcu(o->dw, *off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Off die = *off + hsize;
		*off = next;
		if (dwarf_offdie(o->dw, die, cu))
			return 1;
	}
	*off = (Dwarf_Off)-1;
	return 0;
}

int ml_t_cu_at(struct ml_t_obj *o, Dwarf_Addr a, Dwarf_Die *cu)
{
	if (dwarf_addrdie(o->dw, a, cu))
		return 1;
	for (Dwarf_Off off = 0; ml_t_next_cu(o, &off, cu);)
		if (dwarf_haspc(cu, a) == 1)
			return 1;
	return 0;
}
