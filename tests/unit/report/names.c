/* names.c: short_name (src/cli/report/cxx_names.c) on C++ names as the demangler spells
 * them; built and run by tests/unit/report_cxx.sh.  Prints each mismatch;
 * exit status 1 if any. */
#include "report/symbolizer.h"

#include <string.h>

int main(void)
{
	static const char *const cases[][2] = {
		{ "main", "main" },
		{ "fill(int)", "fill(int)" },
		{ "std::pair<std::_Rb_tree_iterator<std::pair<int const, int> >, bool> std::map<int, int, std::less<int>, "
		  "std::allocator<std::pair<int const, int> > >::emplace<int&, int>(int&, int&&)",
		  "std::map<...>::emplace<...>(int&, int&&)" },
		{ "std::vector<int, std::allocator<int> >::push_back(int const&)", "std::vector<...>::push_back(int const&)" },
		{ "operator new(unsigned long)", "operator new(unsigned long)" },
		{ "std::basic_ostream<char, std::char_traits<char> >& std::operator<< <std::char_traits<char> >"
		  "(std::basic_ostream<char, std::char_traits<char> >&, char const*)",
		  "std::operator<< <...>(std::basic_ostream<...>&, char const*)" },
		{ "bool operator< <int>(X<int> const&, X<int> const&)", "operator< <...>(X<...> const&, X<...> const&)" },
		{ "X<int>::operator->() const", "X<...>::operator->() const" },
		{ "X::operator>>=(int)", "X::operator>>=(int)" },
		{ "std::function<void (int)>::operator()(int) const", "std::function<...>::operator()(int) const" },
		{ "X::operator bool() const", "X::operator bool() const" },
		{ "(anonymous namespace)::f<((1)>(2))>(int)", "(anonymous namespace)::f<...>(int)" },
		{ "void g<int>(int) [clone .cold]", "g<...>(int) [clone .cold]" },
		{ "h<int", "h<int" },
	};
	int bad = 0;
	char out[512];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		short_name(cases[i][0], out, sizeof out);
		if (strcmp(out, cases[i][1])) {
			printf("short_name(\"%s\"):\n  got      \"%s\"\n  expected \"%s\"\n", cases[i][0], out, cases[i][1]);
			bad = 1;
		}
	}
	short_name("std::map<int, int>::find(int const&)", out, 8);
	if (strcmp(out, "std::ma")) {
		printf("short_name into 8 bytes: \"%s\"\n", out);
		bad = 1;
	}
	return bad;
}
