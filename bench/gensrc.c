/* gensrc.c: write a deterministic, varied C translation unit for the
 * "gcc -O2" real-program benchmark.
 *
 *   gensrc LINES > file.c
 *
 * Emits structs, loops over arrays, switch-based state machines, floating
 * point kernels, string scanners, small inline helpers and a final function
 * that calls everything, until about LINES lines have been written.  The
 * output depends only on LINES.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long long state = 88172645463325252ull;
static int lines;

static unsigned rnd(unsigned n)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (unsigned)(state % n);
}

/* printf that counts the lines it writes. */
__attribute__((format(printf, 1, 2)))
static void OUT(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (const char *c = buf; *c; c++)
		lines += *c == '\n';
	fputs(buf, stdout);
}

static const char *ctypes[] = {"int", "long", "unsigned", "short", "double", "float"};
static const char *ops[] = {"+", "-", "*", "^", "|", "&"};

static void gen_struct(int k)
{
	int nf = 3 + (int)rnd(6);
	OUT("struct rec%d {\n", k);
	for (int f = 0; f < nf; f++)
		OUT("\t%s f%d;\n", ctypes[rnd(4)], f);
	OUT("\tchar name[%u];\n", 8 + rnd(24));
	OUT("};\n\n");
	OUT("long rec%d_sum(const struct rec%d *r, int n)\n{\n", k, k);
	OUT("\tlong s = 0;\n");
	OUT("\tfor (int i = 0; i < n; i++) {\n");
	for (int f = 0; f < nf; f++)
		OUT("\t\tif (r[i].f%d %s %u) s %s= (long)r[i].f%d;\n", f,
		    rnd(2) ? ">" : "<", rnd(100), ops[rnd(3)], f);
	OUT("\t\tfor (int j = 0; r[i].name[j]; j++) s += r[i].name[j] * %u;\n", 1 + rnd(31));
	OUT("\t}\n\treturn s;\n}\n\n");
}

static void gen_switch(int k)
{
	int ncase = 6 + (int)rnd(14);
	OUT("int machine%d(const unsigned char *in, int len)\n{\n", k);
	OUT("\tint st = 0, acc = %u;\n", rnd(1000));
	OUT("\tfor (int i = 0; i < len; i++) {\n\t\tswitch (st) {\n");
	for (int c = 0; c < ncase; c++) {
		OUT("\t\tcase %d:\n", c);
		OUT("\t\t\tif (in[i] %s %u) { st = %u; acc += %u; }\n",
		    rnd(2) ? "==" : ">", rnd(256), rnd((unsigned)ncase), rnd(50));
		OUT("\t\t\telse { st = %u; acc %s= in[i] + %u; }\n", rnd((unsigned)ncase),
		    ops[rnd(6)], rnd(9));
		OUT("\t\t\tbreak;\n");
	}
	OUT("\t\tdefault:\n\t\t\tst = 0;\n\t\t}\n\t}\n\treturn acc + st;\n}\n\n");
}

static void gen_float(int k)
{
	int n = 4 + (int)rnd(12);
	OUT("double kernel%d(const double *a, const double *b, double *c, int n)\n{\n", k);
	OUT("\tdouble acc = 0.0;\n");
	OUT("\tfor (int i = 0; i < n; i++) {\n");
	OUT("\t\tdouble x = a[i], y = b[i];\n");
	for (int t = 0; t < n; t++)
		OUT("\t\tx = x * %u.%u %s y * %u.25;\n", rnd(9), rnd(99), rnd(2) ? "+" : "-", rnd(5));
	OUT("\t\tc[i] = x;\n\t\tacc += x * y;\n\t}\n");
	OUT("\tfor (int i = 1; i < n; i++)\n\t\tc[i] = c[i - 1] * %u.5 + c[i];\n", rnd(3));
	OUT("\treturn acc;\n}\n\n");
}

static void gen_string(int k)
{
	OUT("int scan%d(const char *s, char *out, int cap)\n{\n", k);
	OUT("\tint n = 0, words = 0, in_word = 0;\n");
	OUT("\tfor (; *s && n + 1 < cap; s++) {\n");
	OUT("\t\tchar ch = *s;\n");
	OUT("\t\tif (ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');\n");
	OUT("\t\telse if (ch == '%c') ch = '%c';\n", 'a' + rnd(26), 'a' + rnd(26));
	OUT("\t\tif (ch == ' ' || ch == '\\t') { if (in_word) words++; in_word = 0; }\n");
	OUT("\t\telse in_word = 1;\n");
	OUT("\t\tif (n %% %u != %u) out[n++] = ch;\n", 2 + rnd(5), rnd(2));
	OUT("\t}\n\tout[n] = 0;\n\treturn words * %u + n;\n}\n\n", 1 + rnd(7));
}

static void gen_matrix(int k)
{
	unsigned d = 4 + rnd(12);
	OUT("static inline %s helper%d(%s x, %s y)\n{\n\treturn x %s y %s %u;\n}\n\n",
	    ctypes[k % 3], k, ctypes[k % 3], ctypes[k % 3], ops[rnd(3)], ops[rnd(3)], rnd(17) + 1);
	OUT("void matrix%d(%s m[%u][%u], const %s v[%u], %s r[%u])\n{\n", k,
	    ctypes[k % 3], d, d, ctypes[k % 3], d, ctypes[k % 3], d);
	OUT("\tfor (int i = 0; i < %u; i++) {\n\t\t%s s = 0;\n", d, ctypes[k % 3]);
	OUT("\t\tfor (int j = 0; j < %u; j++)\n\t\t\ts = helper%d(s, m[i][j] * v[j]);\n", d, k);
	OUT("\t\tr[i] = s;\n\t}\n");
	OUT("\tfor (int i = 0; i < %u; i++)\n\t\tfor (int j = i + 1; j < %u; j++) {\n", d, d);
	OUT("\t\t\t%s t = m[i][j];\n\t\t\tm[i][j] = m[j][i];\n\t\t\tm[j][i] = t;\n\t\t}\n}\n\n",
	    ctypes[k % 3]);
}

static void gen_recursive(int k)
{
	OUT("static long rec_walk%d(const long *t, int lo, int hi, int depth)\n{\n", k);
	OUT("\tif (hi - lo < %u || depth > 20) {\n\t\tlong s = 0;\n", 2 + rnd(6));
	OUT("\t\tfor (int i = lo; i < hi; i++) s += t[i] %s %u;\n", ops[rnd(6)], rnd(99));
	OUT("\t\treturn s;\n\t}\n\tint mid = lo + (hi - lo) / %u;\n", 2 + rnd(2));
	OUT("\treturn rec_walk%d(t, lo, mid, depth + 1) %s rec_walk%d(t, mid, hi, depth + 1);\n}\n\n",
	    k, ops[rnd(3)], k);
	OUT("long walk%d(const long *t, int n) { return rec_walk%d(t, 0, n, 0); }\n\n", k, k);
}

int main(int argc, char **argv)
{
	int target = argc > 1 ? atoi(argv[1]) : 3000;
	int kinds[4096], nk = 0;
	OUT("/* generated by bench/gensrc.c: input for the gcc real-program benchmark */\n");
	OUT("#include <stddef.h>\n\n");
	while (lines < target - 40 && nk < 4096) {
		int kind = (int)rnd(6);
		switch (kind) {
		case 0: gen_struct(nk); break;
		case 1: gen_switch(nk); break;
		case 2: gen_float(nk); break;
		case 3: gen_string(nk); break;
		case 4: gen_matrix(nk); break;
		default: gen_recursive(nk); break;
		}
		kinds[nk++] = kind;
	}
	OUT("long run_all(void *buf, int n)\n{\n\tlong s = 0;\n");
	for (int k = 0; k < nk; k++) {
		switch (kinds[k]) {
		case 0: OUT("\ts += rec%d_sum(buf, n);\n", k); break;
		case 1: OUT("\ts += machine%d(buf, n);\n", k); break;
		case 2: OUT("\ts += (long)kernel%d(buf, buf, buf, n);\n", k); break;
		case 3: OUT("\ts += scan%d(buf, buf, n);\n", k); break;
		case 4: OUT("\tmatrix%d(buf, buf, buf);\n", k); break;
		default: OUT("\ts += walk%d(buf, n);\n", k); break;
		}
	}
	OUT("\treturn s;\n}\n");
	return 0;
}
