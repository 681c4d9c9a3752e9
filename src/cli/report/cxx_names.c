/* cxx_names.c: C++ names as a report shows them by default: template
 * arguments shortened to <...>, a template function's return type left
 * out (symbolizer.h's short_name). */
#include "symbolizer.h"
#include "cli/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The operator after "operator" whose characters include < or >. */
static size_t angle_operator(const char *s)
{
	static const char *const ops[] = { "<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=", "->", "<", ">" };
	for (size_t i = 0; i < NELEMS(ops); i++)
		if (!strncmp(s, ops[i], strlen(ops[i])))
			return strlen(ops[i]);
	return 0;
}

static int is_operator_at(const char *name, size_t i)
{
	return !strncmp(name + i, "operator", 8) && (i == 0 || name[i - 1] == ':' || name[i - 1] == ' ')
	       && !(name[i + 8] == '_' || (name[i + 8] >= 'a' && name[i + 8] <= 'z')
	            || (name[i + 8] >= 'A' && name[i + 8] <= 'Z') || (name[i + 8] >= '0' && name[i + 8] <= '9'));
}

void short_name(const char *name, char *out, size_t len)
{
	/* template arguments -> <...>; an operator's own < and > are kept */
	size_t n = 0, i = 0;
	char *t = xmalloc(strlen(name) + 1);
	while (name[i]) {
		if (is_operator_at(name, i)) {
			size_t k = 8 + angle_operator(name + i + 8);
			memcpy(t + n, name + i, k);
			n += k;
			i += k;
		} else if (name[i] == '<') {
			int depth = 0, paren = 0;
			size_t j = i;
			for (; name[j]; j++) {
				if (name[j] == '(')
					paren++;
				else if (name[j] == ')' && paren > 0)
					paren--;
				else if (!paren && name[j] == '<')
					depth++;
				else if (!paren && name[j] == '>' && --depth == 0)
					break;
			}
			if (!name[j]) { /* unbalanced: keep the rest as it is */
				size_t k = strlen(name + i);
				memcpy(t + n, name + i, k);
				n += k;
				break;
			}
			memcpy(t + n, "<...>", 5);
			n += 5;
			i = j + 1;
		} else {
			t[n++] = name[i++];
		}
	}
	t[n] = '\0';
	/* a template function's return type: what comes before the last
	 * space at the top level that precedes its parameter list (and any
	 * "operator") */
	size_t params = n, depth = 0, space = 0;
	int has_space = 0;
	for (size_t k = 0; k < n; k++) {
		char c = t[k];
		if (c == '(' || c == '[' || c == '{') {
			if (depth++ == 0 && c == '(')
				params = k;
		} else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	depth = 0;
	for (size_t k = 0; k < params; k++) {
		char c = t[k];
		if (c == '(' || c == '[' || c == '{')
			depth++;
		else if ((c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (!depth && is_operator_at(t, k))
			break;
		else if (!depth && c == ' ')
			space = k, has_space = 1;
	}
	snprintf(out, len, "%s", has_space ? t + space + 1 : t);
	free(t);
}

