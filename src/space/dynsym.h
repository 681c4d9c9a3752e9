/* dynsym.h: the loaded objects' dynamic symbols, read through the tables
 * the loader already has in memory (DT_GNU_HASH, DT_SYMTAB, DT_STRTAB): a
 * name's symbols in a few probes, where dladdr walks a whole table and a
 * failing dlsym allocates its error message.  Start-up uses them to skip
 * work; every answer errs on the side of "ask the loader". */
#ifndef MEMLENS_DYNSYM_H
#define MEMLENS_DYNSYM_H
#include <elf.h>
#include <link.h>

/* For each of names[0..n) (n <= 64): can some loaded object define it?
 * absent[k] is set to 1 only when every object's GNU hash table says it
 * has no symbol of that name, so dlsym would fail; 0 means "maybe". */
void memlens__dynsym_absent(const char *const *names, int n, unsigned char *absent);

/* The dynamic symbol named name whose address is addr, in the loaded
 * object holding addr: what dladdr1(RTLD_DL_SYMENT) finds for the address
 * dlsym gave for name.  1 and *sym set; 0 when it cannot tell (no GNU hash
 * table, or no such symbol: an IFUNC's chosen implementation, say). */
int memlens__dynsym_at(const void *addr, const char *name, const ElfW(Sym) **sym);
#endif
