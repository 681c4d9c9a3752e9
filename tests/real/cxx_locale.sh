#!/bin/bash
# cxx_locale: a C++ program with locales (std::locale("C.UTF-8") imbued in
# narrow and wide streams, a facet of its own, std::use_facet), an
# std::map<std::string, int> of 50 000 entries, exceptions thrown and caught
# in 4 threads, std::to_string / std::stod.  Plain vs memlens run and vs
# memlens run --profile: the same stdout and status, no memlens output; the
# profile is complete.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
command -v g++ > /dev/null || skip "g++ is not installed"
cat > loc.cc <<'CC'
#include <iostream>
#include <locale>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
struct comma : std::numpunct<char> {
	char do_thousands_sep() const override { return '\''; }
	std::string do_grouping() const override { return "\3"; }
};
int main()
{
	std::map<std::string, int> m;
	for (int i = 0; i < 50000; i++)
		m[std::to_string(i)] = i;
	std::ostringstream os;
	os.imbue(std::locale(std::locale("C.UTF-8"), new comma));
	os << 1234567 << ' ' << m.size() << ' ' << std::stod("2.5") * 2;
	std::vector<std::thread> ts;
	std::vector<int> caught(4);
	for (int t = 0; t < 4; t++)
		ts.emplace_back([t, &caught] {
			for (int i = 0; i < 2000; i++)
				try {
					throw std::runtime_error("e" + std::to_string(t * 10000 + i));
				} catch (const std::exception &e) {
					caught[t] += e.what()[0] == 'e';
				}
		});
	for (auto &t : ts)
		t.join();
	std::wostringstream ws;
	ws.imbue(std::locale("C.UTF-8"));
	ws << L"wide " << 42;
	const auto &np = std::use_facet<std::numpunct<char>>(os.getloc());
	std::cout << os.str() << ' ' << caught[0] + caught[1] + caught[2] + caught[3] << ' ' << ws.str().size()
	          << ' ' << np.thousands_sep() << std::endl;
	return 0;
}
CC
run cc "${CLEANENV[@]}" g++ -O2 -pthread -o loc loc.cc
expect_rc cc 0 "g++ loc.cc"
compare cx ./loc
[ "$rc" = 0 ] || { show cx.plain.err; fail "cxx_locale: status $rc"; }
grep -qx "1'234'567 50'000 5 8000 7 '" cx.plain.out || fail "cxx_locale printed: $(cat cx.plain.out)"
compare_profile cx 0 ./loc
exit 0
