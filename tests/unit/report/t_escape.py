"""memlens report on a profile whose strings carry terminal escapes
(OSC, CSI, BEL, the C1 CSI U+009B), a newline, ';', a backslash and a
byte that is not UTF-8: in the executable's path, in module paths (one
that exists, one that does not: its warning), in the DWARF file name (prog.c
compiled under such a name) and in a function name (prog stripped of its
DWARF, make_buffer renamed in its symbol table).  In every format no
control character is written: text, massif and folded show \\xNN, \\n, \\\\
(folded also ';' as \\x3b, one stack per line), json and DHAT parse and
give the strings back (json exactly, bytes not UTF-8 as U+FFFD), pprof's
string table holds the escaped strings."""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

EVIL = "e\x1b]0;owned\x07v\x1b[2Ji\nl;\\x\u009bz"


def esc(s, folded=False):
    """what memlens's text_esc makes of s"""
    out = ""
    for ch in s:
        b = ch.encode("utf-8", "surrogateescape")
        c = b[0]
        if ch == "\\":
            out += "\\\\"
        elif ch in "\n\r\t":
            out += {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
        elif c < 0x20 or c == 0x7f or 0x80 <= ord(ch) < 0xa0 or (0xdc80 <= ord(ch) <= 0xdcff) or (folded and ch == ";"):
            out += "".join("\\x%02x" % x for x in b)
        else:
            out += ch
    return out


def clean(data, what):
    """no control character but the line ends, no C1 control"""
    text = data.decode("utf-8", "replace")
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0]
    if bad:
        show(what, text)
        fail("%s: control characters written: %r" % (what, bad[:5]))
    return text


def run(*args):
    r = subprocess.run([MEMLENS, "report"] + list(args), capture_output=True)
    if r.returncode != 0:
        show("stderr", r.stderr.decode("utf-8", "replace"))
        fail("memlens report %s: exit status %d" % (" ".join(args[1:]), r.returncode))
    clean(r.stderr, "stderr of --format %s" % args[-1])
    return r.stdout, r.stderr.decode()


# prog.c compiled under an evil name (its DWARF file name), run at a plain path for its stacks
src = os.path.join(T, EVIL + ".c")
shutil.copy(PROG_SRC, src)
plain = os.path.join(T, "prog")
r = subprocess.run(["gcc", "-std=gnu11", "-g", "-O1", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls",
                    "-fno-pie", "-no-pie", "-o", plain, EVIL + ".c"], cwd=T, capture_output=True, text=True)
if r.returncode:
    show("gcc", r.stderr)
    fail("prog.c does not build under an evil name")
# the same code, its DWARF stripped and make_buffer renamed
stripped = os.path.join(T, "prog.stripped")
r = subprocess.run(["objcopy", "--strip-debug", "--redefine-sym", "make_buffer=" + EVIL, plain, stripped],
                   capture_output=True, text=True)
if r.returncode:
    show("objcopy", r.stderr)
    fail("objcopy failed")

for binary, kind in [(plain, "file"), (stripped, "function")]:
    prof = standard(plain, small=True)
    exe_path = os.path.join(T, "bin." + kind + EVIL)
    shutil.copy(binary, exe_path)
    for m in prof.mods:
        if m["path"] == plain:
            m["path"] = exe_path
        elif m["path"] == GONE["path"]:
            m["path"] = "/nonexistent/" + EVIL + ".so"
    prof.exe = EVIL + "\udcff"
    pf = write(os.path.join(T, kind + ".prof"), prof.build())
    name = EVIL if kind == "function" else EVIL + ".c"
    what = "profile with an evil %s name" % kind

    # text
    out, err = run(pf, "--format", "text")
    text = clean(out, what + ": text")
    for s in [esc(prof.exe), esc(name)]:
        if s not in text:
            show("text", text, 60)
            fail("%s: text: %r not shown" % (what, s))
    if esc(EVIL + ".so") not in err:
        fail("%s: the warning does not name %r: %r" % (what, esc(EVIL + ".so"), err))

    # massif: every line one of its own
    out, _ = run(pf, "--format", "massif")
    text = clean(out, what + ": massif")
    for l in text.splitlines():
        if not re.match(r"^(desc: |cmd: |time_unit: |#-+$|snapshot=|time=|mem_heap_B=|mem_heap_extra_B=|"
                        r"mem_stacks_B=|heap_tree=| *n\d+: \d+ )", l):
            fail("%s: massif: a line of no kind: %r" % (what, l))
    if esc(name) not in text or "cmd: " + esc(prof.exe) not in text:
        fail("%s: massif: %r or the command not shown" % (what, esc(name)))

    # folded: one stack per line, the frames those of the stack
    if kind == "function":
        out, _ = run(pf, "--format", "folded")
        lines = clean(out, what + ": folded").splitlines()
        expect_eq(len(lines), 5, "%s: folded lines" % what)
        if not all(re.fullmatch(r"[^ ].* \d+", l) for l in lines):
            fail("%s: folded: a line is not 'frames weight': %r" % (what, lines))
        hit = [l for l in lines if l.endswith(";main;" + esc(EVIL, True) + " " + str(FIG["A"]["peak_bytes"]))]
        if len(hit) != 1:
            show("folded", out)
            fail("%s: folded: no line ending in main;%s" % (what, esc(EVIL, True)))
        expect_eq(hit[0].count(";"), len(prof.stacks["A"]) - 1, "%s: folded: separators in the line of A" % what)

    # json: valid, the strings given back
    out, _ = run(pf, "--format", "json")
    j = json.loads(clean(out, what + ": json"))
    expect_eq(j["exe"], EVIL + "\ufffd", "%s: json exe" % what)
    paths = [m["path"] for m in j["modules"]]
    if exe_path not in paths or "/nonexistent/" + EVIL + ".so" not in paths:
        fail("%s: json module paths %r" % (what, paths))
    got = {os.path.basename(f["file"] or "") if kind == "file" else f["function"]
           for st in j["stacks"] for f in st["frames"]}
    if name not in got:
        fail("%s: json: %r not among the frames" % (what, name))

    # DHAT: valid JSON, the escaped label
    out, _ = run(pf, "--format", "dhat")
    d = json.loads(clean(out, what + ": dhat"))
    if not any(esc(name) in f for f in d["ftbl"]):
        fail("%s: dhat: no frame label with %r" % (what, esc(name)))

    # pprof: the string table
    data, _ = run(pf, "--format", "pprof")
    strings = [s.decode("utf-8", "replace") for s in msg(gzip.decompress(data)).get(6, [])]
    for s in strings:
        clean(s.encode(), what + ": pprof string")
    for s in [esc(name), esc(exe_path)]:
        if not any(s in x for x in strings):
            fail("%s: pprof: %r not in the string table" % (what, s))
