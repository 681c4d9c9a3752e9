/* escape.h: how the strings a profile brings reach the output.
 *
 * Every string a profile brings (paths, and the names and files of the
 * modules it names) is escaped for its output: in text-like outputs
 * (text, massif, folded, pprof's names, messages) by text_esc, in JSON by
 * json_str.  No control character reaches a terminal, and a name cannot
 * break a line-based format. */
#ifndef MEMLENS_REPORT_ESCAPE_H
#define MEMLENS_REPORT_ESCAPE_H
#include <stddef.h>
#include <stdio.h>

/* s, escaped into out (at most len bytes, terminated, cut between whole
 * characters): control characters (C0, DEL, and C1 in UTF-8), backslashes
 * and bytes that are not UTF-8 become \n \r \t \\ or \xNN; with ESC_FOLDED
 * also ';' (the frame separator of folded stacks).  Returns out. */
enum { ESC_TEXT = 0, ESC_FOLDED = 1 };
const char *text_esc(const char *s, char *out, size_t len, int flags);

/* JSON string with its quotes; bytes that are not UTF-8 become U+FFFD,
 * control characters (C1 too) \u00XX. */
void json_str(FILE *f, const char *s);
/* The same for JSON inside an HTML <script> element: '<', '>' and '&' too
 * become \u003c..., so no string can close the element ("</script>") or
 * open a comment there. */
void json_str_script(FILE *f, const char *s);

/* The last component of path (path itself when it ends in '/'). */
const char *base_name(const char *path);
#endif
