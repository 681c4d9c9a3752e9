/* symbolizer.c: symbolization with libdw (symbolizer.h).  A pc is a return
 * address: what is looked up is the call before it.  Names are interned
 * (one copy each), demangled with libstdc++'s demangler when it is there,
 * and shortened (short_name) unless full names were asked for. */
#include "symbolizer.h"
#include "escape.h"
#include "cli/xalloc.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Interned strings: one copy each, compared by pointer. */
struct strpool {
	char **slots;
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static const char *intern(struct strpool *sp, const char *s)
{
	if (!s)
		return NULL;
	if (sp->n * 2 >= sp->cap) {
		size_t ncap = sp->cap ? sp->cap * 2 : 256;
		char **ns = xcalloc(ncap, sizeof *ns);
		for (size_t i = 0; i < sp->cap; i++)
			if (sp->slots[i]) {
				size_t j = hash_str(sp->slots[i]) & (ncap - 1);
				while (ns[j])
					j = (j + 1) & (ncap - 1);
				ns[j] = sp->slots[i];
			}
		free(sp->slots);
		sp->slots = ns;
		sp->cap = ncap;
	}
	size_t j = hash_str(s) & (sp->cap - 1);
	while (sp->slots[j]) {
		if (!strcmp(sp->slots[j], s))
			return sp->slots[j];
		j = (j + 1) & (sp->cap - 1);
	}
	sp->slots[j] = xstrdup(s);
	sp->n++;
	return sp->slots[j];
}

struct symmod {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	int state; /* 0 not tried, 1 ok, -1 unusable */
};

struct symbolizer {
	const struct profile *p;
	struct symmod *mods;
	uint32_t *order;        /* module indexes by lo */
	struct sym_pc **slots;  /* pc -> symbolization, open addressing */
	size_t cap, n;
	struct strpool strings;
	char *debuginfo_path;
	char **debug_dirs;      /* for build-id lookups of our own */
	Dwfl_Callbacks cb;
	char *(*demangle)(const char *, char *, size_t *, int *);
	void *libstdcxx;
	int quiet, full_names;
};

static int cmp_mod_lo(const void *a, const void *b, void *arg)
{
	const struct prof_module *m = arg;
	uint64_t x = m[*(const uint32_t *)a].lo, y = m[*(const uint32_t *)b].lo;
	return x < y ? -1 : x > y;
}

struct symbolizer *sym_new(const struct profile *p, const char *const *debug_dirs, int flags)
{
	struct symbolizer *s = xcalloc(1, sizeof *s);
	s->p = p;
	s->quiet = !!(flags & SYM_QUIET);
	s->full_names = !!(flags & SYM_FULL_NAMES);
	s->mods = xcalloc(p->nmods, sizeof *s->mods);
	s->order = xmalloc(p->nmods * sizeof *s->order);
	for (size_t i = 0; i < p->nmods; i++)
		s->order[i] = (uint32_t)i;
	qsort_r(s->order, p->nmods, sizeof *s->order, cmp_mod_lo, p->mods);

	/* libdw's standard search: the file's directory, its .debug/, then
	 * /usr/lib/debug (debuglinks and .build-id/xx/yyyy.debug); the user's
	 * directories come first. */
	size_t nd = 0, plen = 64;
	for (; debug_dirs && debug_dirs[nd]; nd++)
		plen += strlen(debug_dirs[nd]) + 1;
	s->debug_dirs = xcalloc(nd + 2, sizeof *s->debug_dirs);
	s->debuginfo_path = xmalloc(plen);
	strcpy(s->debuginfo_path, ":.debug");
	for (size_t i = 0; i < nd; i++) {
		strcat(s->debuginfo_path, ":");
		strcat(s->debuginfo_path, debug_dirs[i]);
		s->debug_dirs[i] = xstrdup(debug_dirs[i]);
	}
	strcat(s->debuginfo_path, ":/usr/lib/debug");
	s->debug_dirs[nd] = xstrdup("/usr/lib/debug");
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;

	/* C++ names: libstdc++'s demangler when it is there. */
	s->libstdcxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	if (s->libstdcxx)
		*(void **)&s->demangle = dlsym(s->libstdcxx, "__cxa_demangle");
	return s;
}

void sym_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->p->nmods; i++)
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i]) {
			free(s->slots[i]->frames);
			free(s->slots[i]);
		}
	for (size_t i = 0; i < s->strings.cap; i++)
		free(s->strings.slots[i]);
	free(s->strings.slots);
	for (size_t i = 0; s->debug_dirs[i]; i++)
		free(s->debug_dirs[i]);
	free(s->debug_dirs);
	free(s->debuginfo_path);
	free(s->slots);
	free(s->order);
	free(s->mods);
	if (s->libstdcxx)
		dlclose(s->libstdcxx);
	free(s);
}

static void sym_warn(struct symbolizer *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sym_warn(struct symbolizer *s, const char *fmt, ...)
{
	if (s->quiet)
		return;
	va_list ap;
	fputs("memlens report: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void hex_id(const uint8_t *id, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
	out[2 * n] = '\0';
}

/* Reports FILE as module m at its bias; NULL if libdw cannot use it. */
static Dwfl_Module *report_file(struct symbolizer *s, struct symmod *sm, const struct prof_module *m,
                                const char *file)
{
	if (sm->dwfl)
		dwfl_end(sm->dwfl);
	sm->dwfl = dwfl_begin(&s->cb);
	if (!sm->dwfl)
		return NULL;
	dwfl_report_begin(sm->dwfl);
	/* ET_DYN with add_p_vaddr: BASE is the load bias; ET_EXEC ignores it */
	Dwfl_Module *mod = dwfl_report_elf(sm->dwfl, base_name(m->path), file, -1, m->bias, true);
	dwfl_report_end(sm->dwfl, NULL, NULL);
	return mod;
}

/* The separate debug file of a build-id in the debug directories. */
static char *find_by_build_id(struct symbolizer *s, const struct prof_module *m)
{
	if (m->build_id_len < 2)
		return NULL;
	char hex[2 * 255 + 1];
	hex_id(m->build_id, m->build_id_len, hex);
	for (size_t i = 0; s->debug_dirs[i]; i++) {
		size_t n = strlen(s->debug_dirs[i]) + strlen(hex) + 32;
		char *path = xmalloc(n);
		snprintf(path, n, "%s/.build-id/%.2s/%s.debug", s->debug_dirs[i], hex, hex + 2);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

static int open_module(struct symbolizer *s, int mi)
{
	struct symmod *sm = &s->mods[mi];
	if (sm->state)
		return sm->state > 0;
	sm->state = -1;
	const struct prof_module *m = &s->p->mods[mi];
	if (!m->path[0] || m->path[0] == '[' || !strcmp(m->path, "linux-vdso.so.1"))
		return 0; /* vdso and friends: no file */
	Dwfl_Module *mod = NULL;
	char why[1024] = "", path[512];
	text_esc(m->path, path, sizeof path, ESC_TEXT);
	struct stat st;
	if (access(m->path, R_OK) != 0 || stat(m->path, &st) != 0) {
		snprintf(why, sizeof why, "cannot read %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof why, "%s is not a regular file", path);
	} else {
		mod = report_file(s, sm, m, m->path);
		if (!mod) {
			snprintf(why, sizeof why, "cannot use %s: %s", path, dwfl_errmsg(-1));
		} else if (m->build_id_len) {
			const unsigned char *bits;
			GElf_Addr vaddr;
			int n = dwfl_module_build_id(mod, &bits, &vaddr);
			if (n != (int)m->build_id_len || memcmp(bits, m->build_id, m->build_id_len)) {
				snprintf(why, sizeof why, "%s is not the file that ran (its build-id differs)", path);
				mod = NULL;
			}
		}
	}
	if (!mod) {
		/* the file is gone or changed: the debug file of the build-id
		 * that ran has the same addresses and the symbols */
		char *dbg = find_by_build_id(s, m);
		if (dbg) {
			mod = report_file(s, sm, m, dbg);
			free(dbg);
		}
	}
	if (!mod) {
		if (sm->dwfl)
			dwfl_end(sm->dwfl);
		sm->dwfl = NULL;
		sym_warn(s, "%s; its frames stay unsymbolized", why[0] ? why : path);
		return 0;
	}
	sm->mod = mod;
	sm->state = 1;
	return 1;
}

int sym_module_ok(struct symbolizer *s, int m)
{
	return m >= 0 && (size_t)m < s->p->nmods && s->mods[m].state > 0;
}

static int module_of(struct symbolizer *s, uint64_t pc)
{
	size_t lo = 0, hi = s->p->nmods;
	while (lo < hi) { /* first module with lo > pc */
		size_t mid = (lo + hi) / 2;
		if (s->p->mods[s->order[mid]].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* modules should not overlap; if they do, look a little further */
	for (size_t k = lo, tries = 0; k > 0 && tries < 16; k--, tries++) {
		const struct prof_module *m = &s->p->mods[s->order[k - 1]];
		if (pc >= m->lo && pc < m->hi)
			return (int)s->order[k - 1];
	}
	return -1;
}

static const char *attr_str(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;
	return dwarf_formstring(dwarf_attr_integrate(die, name, &a));
}

/* A name for display: demangled when it is a C++ symbol and we can, and
 * shortened unless full names were asked for. */
static const char *nice_name(struct symbolizer *s, const char *name)
{
	if (!name)
		return NULL;
	char *d = NULL;
	if (s->demangle && name[0] == '_' && name[1] == 'Z') {
		int st = 0;
		d = s->demangle(name, NULL, NULL, &st);
		if (d && st != 0) {
			free(d);
			d = NULL;
		}
	}
	const char *r;
	if (s->full_names) {
		r = intern(&s->strings, d ? d : name);
	} else {
		const char *full = d ? d : name;
		size_t l = strlen(full) + 1;
		char *sh = xmalloc(l);
		short_name(full, sh, l);
		r = intern(&s->strings, sh);
		free(sh);
	}
	free(d);
	return r;
}

static void die_names(struct symbolizer *s, Dwarf_Die *die, struct sym_frame *f)
{
	const char *link = attr_str(die, DW_AT_linkage_name);
	if (!link)
		link = attr_str(die, DW_AT_MIPS_linkage_name);
	const char *name = attr_str(die, DW_AT_name);
	if (link && s->demangle && link[0] == '_' && link[1] == 'Z')
		f->func = nice_name(s, link);
	else
		f->func = nice_name(s, name ? name : link);
	f->sysname = link ? intern(&s->strings, link) : f->func;
	int dl = 0;
	if (dwarf_decl_line(die, &dl) == 0 && dl > 0)
		f->start_line = (unsigned)dl;
}

static void add_frame(struct sym_pc *sp, unsigned *cap, const struct sym_frame *f)
{
	if (sp->nframes == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		sp->frames = xrealloc(sp->frames, *cap * sizeof *sp->frames);
	}
	sp->frames[sp->nframes++] = *f;
}

/* Fills sp's frames from module mod: the DWARF scopes at the address give
 * the function and the functions inlined into it; the line table the
 * innermost file:line, and each inlined call its call site. */
static void symbolize_in(struct symbolizer *s, Dwfl_Module *mod, struct sym_pc *sp)
{
	unsigned cap = 0;
	/* A return address: its call is the instruction before it. */
	Dwarf_Addr a = sp->pc ? sp->pc - 1 : 0;
	const char *file = NULL;
	unsigned line = 0;
	Dwfl_Line *ln = dwfl_module_getsrc(mod, a);
	if (ln) {
		int l = 0;
		const char *f = dwfl_lineinfo(ln, NULL, &l, NULL, NULL, NULL);
		if (f && l > 0) {
			file = intern(&s->strings, f);
			line = (unsigned)l;
		}
	}
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, a, &bias);
	if (cu) {
		Dwarf_Die *scopes = NULL;
		int n = dwarf_getscopes(cu, a - bias, &scopes);
		/* Past the innermost inlined instance dwarf_getscopes continues
		 * with the scopes around its abstract definition (a class, a
		 * namespace), not with the function it was inlined into: the
		 * concrete chain is the scopes around the innermost DIE. */
		if (n > 0) {
			Dwarf_Die inner = scopes[0];
			free(scopes);
			scopes = NULL;
			n = dwarf_getscopes_die(&inner, &scopes);
		}
		Dwarf_Files *files = NULL;
		size_t nfiles = 0;
		if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
			files = NULL;
		for (int i = 0; i < n; i++) {
			int tag = dwarf_tag(&scopes[i]);
			if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
				continue;
			struct sym_frame f = { 0 };
			die_names(s, &scopes[i], &f);
			if (!f.func)
				f.func = intern(&s->strings, "???");
			f.file = file;
			f.line = line;
			f.inlined = tag == DW_TAG_inlined_subroutine;
			add_frame(sp, &cap, &f);
			if (tag == DW_TAG_subprogram)
				break;
			/* the next frame is where this one was inlined */
			Dwarf_Attribute at;
			Dwarf_Word v;
			file = NULL;
			line = 0;
			if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &at), &v) == 0
			    && v < nfiles) {
				const char *cf = dwarf_filesrc(files, v, NULL, NULL);
				file = intern(&s->strings, cf);
			}
			if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &at), &v) == 0)
				line = (unsigned)v;
		}
		free(scopes);
	}
	if (sp->nframes > 0 && sp->frames[sp->nframes - 1].inlined) {
		/* inlined scopes but no enclosing subprogram: name the rest from
		 * the symbol table */
		const char *sym = dwfl_module_addrname(mod, a);
		struct sym_frame f = { 0 };
		f.func = nice_name(s, sym ? sym : "???");
		f.sysname = intern(&s->strings, sym ? sym : "???");
		f.file = file;
		f.line = line;
		add_frame(sp, &cap, &f);
	}
	if (sp->nframes == 0) {
		const char *sym = dwfl_module_addrname(mod, a);
		if (sym) {
			struct sym_frame f = { 0 };
			f.func = nice_name(s, sym);
			f.sysname = intern(&s->strings, sym);
			f.file = file;
			f.line = line;
			add_frame(sp, &cap, &f);
		}
	}
}

const struct sym_pc *sym_lookup(struct symbolizer *s, uint64_t pc)
{
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		struct sym_pc **ns = xcalloc(ncap, sizeof *ns);
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i]) {
				size_t j = (s->slots[i]->pc * 0x9E3779B97F4A7C15ULL >> 20) & (ncap - 1);
				while (ns[j])
					j = (j + 1) & (ncap - 1);
				ns[j] = s->slots[i];
			}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	size_t j = (pc * 0x9E3779B97F4A7C15ULL >> 20) & (s->cap - 1);
	while (s->slots[j]) {
		if (s->slots[j]->pc == pc)
			return s->slots[j];
		j = (j + 1) & (s->cap - 1);
	}
	struct sym_pc *sp = xcalloc(1, sizeof *sp);
	sp->pc = pc;
	sp->mod = module_of(s, pc);
	sp->off = pc;
	if (sp->mod >= 0) {
		sp->off = pc - s->p->mods[sp->mod].bias;
		if (open_module(s, sp->mod))
			symbolize_in(s, s->mods[sp->mod].mod, sp);
	}
	if (sp->nframes == 0) {
		sp->frames = xcalloc(1, sizeof *sp->frames);
		sp->nframes = 1;
	}
	s->slots[j] = sp;
	s->n++;
	return sp;
}

