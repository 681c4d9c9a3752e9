// cxxmap.cc: std::map::emplace inlined into the program's own function
// (flatten: the whole chain down to operator new), for report_cxx.sh.
#include <cstdio>
#include <map>
#include <string>

static std::map<int, std::string> table;

__attribute__((noinline, flatten)) void fill(int n)
{
	for (int i = 0; i < n; i++)
		table.emplace(i, "value"); /* @emplace */
}

int main()
{
	fill(100); /* @fill */
	std::printf("%zu\n", table.size());
	return 0;
}
