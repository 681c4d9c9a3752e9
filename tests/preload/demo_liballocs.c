#include <allocs.h>
#include <stdio.h>
int main(int argc, char **argv)
{
  void *p = malloc(42 * sizeof(int));
  void *ptrs[] = { main, p, &p, argv, NULL };
  for (void **x = &ptrs[0]; *x; ++x)
  {
    printf("At %p is a %s-allocated object of size %u, type %s\n",
      *x,
      alloc_get_allocator(*x)->name,
      (unsigned) alloc_get_size(*x),
      UNIQTYPE_NAME(alloc_get_type(*x))
    );
  }
  return 0;
}
