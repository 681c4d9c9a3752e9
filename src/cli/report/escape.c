/* escape.c: a profile's strings made safe for each output (escape.h). */
#include "escape.h"

#include <stdint.h>
#include <string.h>

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

/* The length of the well-formed UTF-8 sequence of 2 to 4 bytes at p, else 0. */
static int utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
	uint32_t cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A C1 control (U+0080-U+009F) in UTF-8. */
static int is_c1(const unsigned char *p)
{
	return p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0;
}

const char *text_esc(const char *s, char *out, size_t len, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	if (!len)
		return out;
	while (*p) {
		char e[8];
		size_t k;
		unsigned c = *p;
		int u = c >= 0x80 ? utf8_len(p) : 0;
		if (c == '\\')
			k = (size_t)snprintf(e, sizeof e, "\\\\");
		else if (c == '\n')
			k = (size_t)snprintf(e, sizeof e, "\\n");
		else if (c == '\r')
			k = (size_t)snprintf(e, sizeof e, "\\r");
		else if (c == '\t')
			k = (size_t)snprintf(e, sizeof e, "\\t");
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && (!u || is_c1(p))) || (c == ';' && (flags & ESC_FOLDED)))
			k = (size_t)snprintf(e, sizeof e, "\\x%02x", c); /* a C1 control: its bytes one by one */
		else
			k = 0;
		size_t m = k ? k : u ? (size_t)u : 1;
		if (n + m >= len)
			break;
		memcpy(out + n, k ? (const unsigned char *)e : p, m);
		n += m;
		p += k ? 1 : m;
	}
	out[n] = '\0';
	return out;
}

static void json_str_as(FILE *f, const char *s, int script)
{
	const unsigned char *p = (const unsigned char *)s;
	putc('"', f);
	while (*p) {
		unsigned c = *p;
		if (script && (c == '<' || c == '>' || c == '&')) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c == '"' || c == '\\') {
			putc('\\', f);
			putc((int)c, f);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			putc((int)c, f);
			p++;
		} else {
			/* a well-formed UTF-8 sequence is copied, a C1 control
			 * escaped, anything else is U+FFFD */
			int n = utf8_len(p);
			if (n && is_c1(p)) {
				fprintf(f, "\\u%04x", p[1]);
				p += 2;
			} else if (n) {
				fwrite(p, 1, (size_t)n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);
				p++;
			}
		}
	}
	putc('"', f);
}

void json_str(FILE *f, const char *s)
{
	json_str_as(f, s, 0);
}

void json_str_script(FILE *f, const char *s)
{
	json_str_as(f, s, 1);
}
