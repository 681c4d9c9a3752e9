/* help.h: the tools' help text, wrapped: memlens run --help and
 * memlens-cc --memlens-help print their option tables' help lines with it. */
#ifndef MEMLENS_HELP_H
#define MEMLENS_HELP_H
#include <stdio.h>
#include <string.h>

/* text from column indent, in lines up to 79 columns, broken at spaces. */
static inline void memlens__print_wrapped(FILE *f, const char *text, int indent)
{
	const int width = 79 - indent;
	while (*text) {
		int n = (int)strlen(text);
		if (n > width) {
			n = width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0) /* one word longer than the line */
				n = (int)strcspn(text, " ");
		}
		fprintf(f, "%*s%.*s\n", indent, "", n, text);
		text += n;
		text += strspn(text, " ");
	}
}
#endif
