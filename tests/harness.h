/* harness.h: the tiny test harness for memlens's C tests.
 *
 * CHECK(cond) prints "TESTFAIL: file:line: cond" and exits 1 at once;
 * CHECK_EQ/CHECK_NE/CHECK_PTR also print both values; CHECKF adds a printf
 * message.  SKIP(msg) prints "TESTSKIP: msg" and exits 77, which
 * tests/run_tests.sh counts neither as passed nor as failed.
 *
 * Failure messages are formatted into a stack buffer and written with
 * write(2), then the process leaves with _exit(1): no malloc, no atexit
 * handlers, safe from any thread.  Do not call these from a signal handler;
 * set a flag there and CHECK it afterwards.
 */
#ifndef MEMLENS_TEST_HARNESS_H
#define MEMLENS_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noreturn, format(printf, 4, 5), unused))
static void th_fail(const char *tag, const char *file, int line, const char *fmt, ...)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%s: %s:%d: ", tag, file, line);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && n < (int)sizeof buf)
		n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	fflush(stdout);
	if (write(2, buf, n) < 0) { /* nothing more to do */ }
	_exit(strcmp(tag, "TESTSKIP") ? 1 : 77);
}

#define CHECK(cond) do { if (!(cond)) \
	th_fail("TESTFAIL", __FILE__, __LINE__, "CHECK(%s) failed", #cond); } while (0)

#define CHECKF(cond, ...) do { if (!(cond)) { char th_m_[512]; \
	snprintf(th_m_, sizeof th_m_, __VA_ARGS__); \
	th_fail("TESTFAIL", __FILE__, __LINE__, "CHECK(%s) failed: %s", #cond, th_m_); } } while (0)

/* Integer comparisons; both sides are shown as signed and hex. */
#define TH_CMP(a, op, b) do { long long th_a_ = (long long)(a), th_b_ = (long long)(b); \
	if (!(th_a_ op th_b_)) th_fail("TESTFAIL", __FILE__, __LINE__, \
		"CHECK(%s %s %s) failed: %lld (0x%llx) vs %lld (0x%llx)", #a, #op, #b, \
		th_a_, (unsigned long long)th_a_, th_b_, (unsigned long long)th_b_); } while (0)
#define CHECK_EQ(a, b) TH_CMP(a, ==, b)
#define CHECK_NE(a, b) TH_CMP(a, !=, b)
#define CHECK_LT(a, b) TH_CMP(a, <, b)
#define CHECK_LE(a, b) TH_CMP(a, <=, b)
#define CHECK_GE(a, b) TH_CMP(a, >=, b)
#define CHECK_GT(a, b) TH_CMP(a, >, b)

/* Pointer equality, shown as %p. */
#define CHECK_PTR(a, b) do { const void *th_a_ = (const void *)(a), *th_b_ = (const void *)(b); \
	if (th_a_ != th_b_) th_fail("TESTFAIL", __FILE__, __LINE__, \
		"CHECK(%s == %s) failed: %p vs %p", #a, #b, th_a_, th_b_); } while (0)

#define CHECK_STREQ(a, b) do { const char *th_a_ = (a), *th_b_ = (b); \
	if (!th_a_ || !th_b_ || strcmp(th_a_, th_b_)) th_fail("TESTFAIL", __FILE__, __LINE__, \
		"CHECK(%s == %s) failed: \"%s\" vs \"%s\"", #a, #b, \
		th_a_ ? th_a_ : "(null)", th_b_ ? th_b_ : "(null)"); } while (0)

#define SKIP(...) do { char th_m_[512]; snprintf(th_m_, sizeof th_m_, __VA_ARGS__); \
	th_fail("TESTSKIP", __FILE__, __LINE__, "%s", th_m_); } while (0)

/* Non-zero when the suite runs against the ASan build (make asan-check):
 * glibc-specific constants do not hold there and loops run shorter. */
static inline int th_asan(void)
{
	const char *v = getenv("MEMLENS_TEST_ASAN");
	return v && *v && strcmp(v, "0");
}

#endif
