/* diag.h: messages that never allocate.  A struct mlbuf formats into a
 * caller's stack buffer; memlens__diag writes one line to stderr with the
 * "memlens: " prefix using write(2). */
#ifndef MEMLENS_DIAG_H
#define MEMLENS_DIAG_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

struct mlbuf {
	char *p;
	size_t cap, len; /* len counts what would have been written */
};
#define MLBUF(arr) ((struct mlbuf){ (arr), sizeof(arr), 0 })

void memlens__bputs(struct mlbuf *b, const char *s);
void memlens__bputc(struct mlbuf *b, char c);
void memlens__bdec(struct mlbuf *b, uint64_t v);
void memlens__bsdec(struct mlbuf *b, int64_t v);
void memlens__bhex(struct mlbuf *b, uint64_t v); /* 0x-prefixed */
/* A tiny printf: %s %d %u %lu %llu %zu %ld %x %p %c %%; no allocation. */
void memlens__bvfmt(struct mlbuf *b, const char *fmt, va_list ap);
void memlens__bfmt(struct mlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Terminates the buffer (truncating if full) and returns the length needed. */
size_t memlens__bend(struct mlbuf *b);

/* Where messages go (diag.c explains): MEMLENS_LOG's path, or NULL for
 * stderr; read at start-up, before any other option. */
void memlens__log_init(const char *path);
/* Statistics are due on stderr at exit: keep a private copy of it. */
void memlens__log_keep_stderr(void);
/* Writes to memlens's log (MEMLENS_LOG, or the original stderr). */
void memlens__log_write(const char *buf, size_t len);

/* "memlens: " + formatted text + "\n" to the log (memlens__log_write). */
void memlens__diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void memlens__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
