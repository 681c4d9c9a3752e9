// std::locale("C.UTF-8") made and dropped in a loop (issue 11 item 1).
#include <iostream>
#include <locale>
#include <sstream>

int main()
{
	long sum = 0;
	for (int i = 0; i < 300; i++) {
		std::locale loc("C.UTF-8");
		std::ostringstream os;
		os.imbue(loc);
		os << i;
		sum += (long)os.str().size();
	}
	std::cout << "cxx locales done " << sum << std::endl;
	return 0;
}
