/* sites_table.c: reads the .memlens_sites table (format: sites_format.h).
 * Used by the types module at run time and by `memlens sites`. */
#include "sites_format.h"
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The next field of a record line, split at a space; NULL at the end. */
static char *field(char **s)
{
	char *f = *s;
	if (!f || !*f)
		return NULL;
	char *sp = strchr(f, ' ');
	if (sp) {
		*sp = 0;
		*s = sp + 1;
	} else
		*s = f + strlen(f);
	return f;
}

static int number(const char *f, unsigned long *out)
{
	char *end;
	if (!f || !*f)
		return -1;
	*out = strtoul(f, &end, 10);
	return *end ? -1 : 0;
}

int ml_sites_parse(const char *buf, size_t len, void (*fn)(void *ctx, const struct ml_site_rec *r), void *ctx,
                   const char **err, size_t *err_off)
{
	char *copy = malloc(len + 1);
	if (!copy) {
		*err = "out of memory";
		*err_off = 0;
		return -1;
	}
	memcpy(copy, buf, len);
	copy[len] = 0;
	int n = 0, in_block = 0;
	const char *file = NULL;
	size_t i = 0;
	while (i < len) {
		if (copy[i] == 0 || copy[i] == '\n') {
			i++;
			continue;
		}
		size_t start = i;
		char *nl = memchr(copy + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - copy) : len;
		/* A line is cut short by a NUL as well. */
		char *nul = memchr(copy + i, 0, end - i);
		if (nul)
			end = (size_t)(nul - copy);
		copy[end] = 0;
		char *line = copy + start;
		i = end + 1;
		if (!strcmp(line, ML_SITES_MAGIC)) {
			in_block = 1;
			file = NULL;
			continue;
		}
		if (!in_block) {
			*err = "table does not start with \"" ML_SITES_MAGIC "\"";
			*err_off = start;
			free(copy);
			return -1;
		}
		if (line[0] == 'F' && line[1] == ' ') {
			file = line + 2;
			continue;
		}
		struct ml_site_rec r;
		unsigned long ln, col, count;
		char *s = line, *shape;
		if (!file || number(field(&s), &ln) || number(field(&s), &col) || !(shape = field(&s)) ||
		    strlen(shape) != 1 || !strchr("SAUTC", shape[0]) || number(field(&s), &count) ||
		    !(r.fn = field(&s)) || !(r.type = field(&s)) || *s) {
			*err = file ? "malformed site record" : "site record before any F line";
			*err_off = start;
			free(copy);
			return -1;
		}
		r.file = file;
		r.line = (unsigned)ln;
		r.col = (unsigned)col;
		r.shape = shape[0];
		r.count = count;
		if (fn)
			fn(ctx, &r);
		n++;
	}
	free(copy);
	return n;
}

int ml_sites_read_file(const char *path, char **buf, size_t *len, const char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = "cannot open file";
		return -1;
	}
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t shstrndx;
	int ret = -1;
	*err = "not an ELF file";
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx) != 0)
		goto out;
	ret = 0;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)) ||
		    strcmp(name, ML_SITES_SECTION) || sh.sh_type == SHT_NOBITS)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		*buf = malloc(d && d->d_size ? d->d_size : 1);
		if (!*buf) {
			*err = "out of memory";
			ret = -1;
			goto out;
		}
		*len = d ? d->d_size : 0;
		if (*len)
			memcpy(*buf, d->d_buf, *len);
		ret = 1;
		break;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}
