/* diag.c: allocation-free formatting and diagnostics. */
#include "diag.h"
#include "options.h"
#include "prim.h"
#include <string.h>

void memlens__bputc(struct mlbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len] = c;
	b->len++;
}

void memlens__bputs(struct mlbuf *b, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		memlens__bputc(b, *s++);
}

static void put_unsigned(struct mlbuf *b, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		memlens__bputc(b, tmp[--n]);
}

void memlens__bdec(struct mlbuf *b, uint64_t v) { put_unsigned(b, v, 10); }

void memlens__bsdec(struct mlbuf *b, int64_t v)
{
	if (v < 0) {
		memlens__bputc(b, '-');
		put_unsigned(b, (uint64_t)0 - (uint64_t)v, 10);
	} else
		put_unsigned(b, (uint64_t)v, 10);
}

void memlens__bhex(struct mlbuf *b, uint64_t v)
{
	memlens__bputs(b, "0x");
	put_unsigned(b, v, 16);
}

void memlens__bvfmt(struct mlbuf *b, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			memlens__bputc(b, *fmt);
			continue;
		}
		fmt++;
		int longs = 0, size_t_ = 0;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		if (*fmt == 'z') {
			size_t_ = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': memlens__bputs(b, va_arg(ap, const char *)); break;
		case 'c': memlens__bputc(b, (char)va_arg(ap, int)); break;
		case 'd':
			memlens__bsdec(b, longs ? va_arg(ap, long) : size_t_ ? (long)va_arg(ap, size_t) : va_arg(ap, int));
			break;
		case 'u':
			memlens__bdec(b, longs || size_t_ ? va_arg(ap, unsigned long) : va_arg(ap, unsigned));
			break;
		case 'x':
			put_unsigned(b, longs || size_t_ ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16);
			break;
		case 'p': memlens__bhex(b, (uintptr_t)va_arg(ap, void *)); break;
		case '%': memlens__bputc(b, '%'); break;
		case '\0': return;
		default: memlens__bputc(b, '?'); break;
		}
	}
}

void memlens__bfmt(struct mlbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	memlens__bvfmt(b, fmt, ap);
	va_end(ap);
}

size_t memlens__bend(struct mlbuf *b)
{
	if (b->cap)
		b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
	return b->len;
}

/* To memlens's log descriptor, or to fd 2 should the program have closed
 * ours (some close every descriptor above 2). */
void memlens__log_write(const char *buf, size_t len)
{
	if (memlens__write_all(memlens__opt.log_fd, buf, len) < 0 && memlens__opt.log_fd != 2)
		memlens__write_all(2, buf, len);
}

static void vdiag(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	struct mlbuf b = MLBUF(buf);
	memlens__bputs(&b, prefix);
	memlens__bvfmt(&b, fmt, ap);
	if (b.len >= b.cap - 1)
		b.len = b.cap - 2;
	memlens__bputc(&b, '\n');
	memlens__log_write(buf, b.len < b.cap ? b.len : b.cap);
}

void memlens__diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag("memlens: ", fmt, ap);
	va_end(ap);
}

void memlens__warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag("memlens: warning: ", fmt, ap);
	va_end(ap);
}
