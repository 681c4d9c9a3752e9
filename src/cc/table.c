/* table.c: writes the sites table (src/types/sites_format.h) and puts it
 * into objects: into a compiled object with objcopy, or into a small object
 * of its own (assembled by the real compiler) added to a link. */
#include "cc.h"
#include "sites_format.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void cc_table_block(const struct sitelist *l, struct str *b)
{
	str_add(b, ML_SITES_MAGIC "\n");
	const char *file = NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct site *s = &l->v[i];
		if (!file || strcmp(file, s->file)) {
			file = s->file;
			str_addf(b, "F %s\n", file);
		}
		str_addf(b, "%u %u %c %lu %s %s\n", s->line, s->col, s->shape, s->count, s->fn, s->type);
	}
}

static char *write_tmp(const struct str *table)
{
	char *path = cc_tmppath(".sites");
	if (!path)
		return NULL;
	FILE *f = fopen(path, "w");
	if (!f || fwrite(table->s, 1, table->len, f) != table->len || fclose(f)) {
		fprintf(stderr, "memlens-cc: cannot write %s: %s\n", path, strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

static int exited_ok(int st)
{
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int cc_table_add_to_object(const char *obj, const struct str *table)
{
	char *data = write_tmp(table);
	if (!data)
		return -1;
	size_t n = strlen(data) + 64;
	char *add = xmalloc(n);
	snprintf(add, n, "%s=%s", ML_SITES_SECTION, data);
	const char *objcopy = getenv("MEMLENS_OBJCOPY");
	/* in place: objcopy writes a temporary file next to obj and renames it */
	char *argv[] = { (char *)(objcopy && *objcopy ? objcopy : "objcopy"), "--add-section", add,
		         "--set-section-flags", ML_SITES_SECTION "=contents,readonly", (char *)obj, NULL };
	int ret = exited_ok(cc_run(argv)) ? 0 : -1;
	if (ret)
		fprintf(stderr, "memlens-cc: warning: %s keeps no table of typed allocation sites\n", obj);
	unlink(data);
	free(add);
	free(data);
	return ret;
}

int cc_table_make_object(char *const *cc, int ncc, const char *const *tflags, int ntflags, const struct str *table,
                         const char *out)
{
	char *data = write_tmp(table), *s = cc_tmppath(".s");
	if (!data || !s) {
		free(data);
		free(s);
		return -1;
	}
	int ret = -1;
	FILE *f = fopen(s, "w");
	if (f) {
		/* not allocated ("" flags), %progbits: an ordinary section kept and
		 * concatenated by the linker */
		fprintf(f, "\t.section %s,\"\",%%progbits\n\t.incbin \"%s\"\n", ML_SITES_SECTION, data);
		/* and no executable stack */
		fprintf(f, "\t.section .note.GNU-stack,\"\",%%progbits\n");
		if (fclose(f) == 0) {
			char **argv = xmalloc((size_t)(ncc + ntflags + 8) * sizeof *argv);
			int k = 0;
			for (int i = 0; i < ncc; i++)
				argv[k++] = cc[i];
			for (int i = 0; i < ntflags; i++)
				argv[k++] = (char *)tflags[i];
			argv[k++] = "-c";
			argv[k++] = "-x";
			argv[k++] = "assembler";
			argv[k++] = s;
			argv[k++] = "-o";
			argv[k++] = (char *)out;
			argv[k] = NULL;
			if (exited_ok(cc_run(argv)))
				ret = 0;
			free(argv);
		}
	}
	if (ret)
		fprintf(stderr, "memlens-cc: warning: could not make the object for the table of typed allocation sites\n");
	unlink(data);
	unlink(s);
	free(data);
	free(s);
	return ret;
}
