"""memlens report on files that are not valid profiles: foreign, empty,
another version, truncated (in the header, a section header, a section,
before the trailer), inconsistent (a bad trailer, bytes after it, a count
that does not match its bytes, a module running past its section, a node
whose parent is not there, a loop in the trie, a stack naming a missing
node, a section given twice), unreadable input or output.  Each gives
exit status 1 and exactly one line, "memlens report: FILE: PROBLEM", with
the byte offset where there is one, and nothing on standard output."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

prog = build_prog(os.path.join(T, "prog"), False)
prof = standard(os.path.realpath(prog), small=True)
layout = {}
good = prof.build(layout=layout)
gf = write(os.path.join(T, "good.prof"), good)
report(gf, what="the good file")
n = len(good)
hdr_len = len(prof.header_bytes())


def sec_payload(name):
    return layout[name] + 16


def expect_error(data, msg, what, name="bad.prof"):
    path = write(os.path.join(T, name), data) if data is not None else os.path.join(T, name)
    out, err = report(path, rc=1, what=what)
    want = "memlens report: %s: %s" % (path, msg)
    if err.splitlines() != [want] or out:
        show("stdout", out)
        show("stderr", err)
        fail("%s: expected exactly %r" % (what, want))


def patch(data, off, fmt, *vals):
    b = bytearray(data)
    struct.pack_into(fmt, b, off, *vals)
    return bytes(b)


# ---- foreign --------------------------------------------------------------------------
expect_error(open("/bin/true", "rb").read(),
             'not a memlens profile: an ELF file (magic "\\x7fELF\\x02\\x01\\x01\\x00", expected "MLPROF\\r\\n")',
             "an ELF file")
expect_error(b"hello, world\n", 'not a memlens profile (magic "hello, w", expected "MLPROF\\r\\n")', "text")
expect_error(b"desc: x\ncmd: y\n", 'not a memlens profile: a massif file (magic "desc: x\\n", expected '
             '"MLPROF\\r\\n")', "a massif file")
expect_error(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 'not a memlens profile: a gzip file (a pprof profile?) '
             '(magic "\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00", expected "MLPROF\\r\\n")', "gzip")
expect_error(b"", "empty file (not a memlens profile)", "an empty file")
expect_error(b"MLPROG\r\n" + good[8:], 'not a memlens profile (magic "MLPROG\\r\\n", expected "MLPROF\\r\\n")',
             "one byte off in the magic")
expect_error(patch(good, 8, "<I", 7), "unsupported version 7 (this memlens reads version 1)", "version 7")
expect_error(patch(good, 8, "<I", 0), "unsupported version 0 (this memlens reads version 1)", "version 0")

# ---- truncated --------------------------------------------------------------------------
expect_error(good[:5], "truncated at offset 5 (in the header)", "5 bytes of the magic")
expect_error(good[:30], "truncated at offset 30 (in the header)", "cut in the header")
expect_error(good[:hdr_len - 2], "truncated at offset %d (in the header: the executable's path)" % (hdr_len - 2),
             "cut in the exe path")
expect_error(good[:hdr_len], "truncated at offset %d (the END! trailer is missing)" % hdr_len,
             "cut after the header")
o = layout["NODE"] + 7
expect_error(good[:o], "truncated at offset %d (in a section header)" % o, "cut in NODE's section header")
o = sec_payload("STKS") + 20
expect_error(good[:o], "truncated at offset %d (in section STKS)" % o, "cut in STKS")
o = sec_payload("MODS") + 3
expect_error(good[:o], "truncated at offset %d (in section MODS)" % o, "cut in MODS")
o = layout["END"]
expect_error(good[:o], "truncated at offset %d (the END! trailer is missing)" % o, "cut before the trailer")
expect_error(good[:n - 1], "truncated at offset %d (in section END!)" % (n - 1), "cut in the trailer")

# ---- inconsistent ---------------------------------------------------------------------------
end = layout["END"]
expect_error(patch(good, end + 16, "<Q", end - 1),
             "the END! trailer at offset %d gives the file's length as %d bytes, but it starts at offset %d"
             % (end, end - 1, end), "a trailer with a wrong length")
expect_error(patch(good, end + 4, "<I", 1), "bad END! trailer at offset %d (count 1, 8 bytes; expected 0 and 8)"
             % end, "a trailer with a count")
expect_error(good + b"xyz", "3 bytes of garbage after the END! trailer, at offset %d" % n, "bytes after the trailer")
# a count that does not match the bytes
cnt = len(prof.nodes)
expect_error(patch(good, layout["NODE"] + 4, "<I", cnt + 1),
             "section NODE at offset %d: %d records of 12 bytes need %d bytes, the section holds %d"
             % (layout["NODE"], cnt + 1, 12 * (cnt + 1), 12 * cnt), "NODE's count one too many")
expect_error(patch(good, layout["STKS"] + 4, "<I", 0xffffffff),
             "section STKS at offset %d: 4294967295 records of 100 bytes need %d bytes, the section holds %d"
             % (layout["STKS"], STKS_REC * 0xffffffff, STKS_REC * 5), "STKS's count huge")
expect_error(patch(good, layout["MODS"] + 4, "<I", 0xffffffff),
             "section MODS at offset %d: 4294967295 modules cannot fit in %d bytes"
             % (layout["MODS"], layout["NODE"] - layout["MODS"] - 16), "MODS's count huge")
# a module's path longer than its section
m0 = sec_payload("MODS")
expect_error(patch(good, m0 + 24, "<H", 0xffff),
             "section MODS at offset %d: module 0 (at offset %d) runs past the section's end (offset %d)"
             % (layout["MODS"], m0, layout["NODE"]), "a module path running past MODS")
expect_error(patch(good, m0, "<Q", 2**63),
             "section MODS at offset %d: module 0 (at offset %d) ends (0x%x) before it starts (0x8000000000000000)"
             % (layout["MODS"], m0, prof.mods[0]["hi"]), "a module ending before it starts")
# MODS holding more than its modules
extra_mods = prof.section_payloads()["MODS"][1] + b"\0\0\0"
bad = prof.build(order=("NODE", "STKS", "TIME", "PEAK", "TOTL"),
                 extra=[(0, b"MODS", len(prof.mods), extra_mods)])
expect_error(bad, "section MODS at offset %d: 3 bytes left over after its %d modules, at offset %d"
             % (hdr_len, len(prof.mods), hdr_len + 16 + len(extra_mods) - 3), "bytes left over in MODS")
# the trie
nd = sec_payload("NODE")
expect_error(patch(good, nd + 12, "<I", cnt + 1),
             "section NODE: node 2 (at offset %d) has parent %d, but the last node is %d" % (nd + 12, cnt + 1, cnt),
             "a parent out of range")
expect_error(patch(good, nd, "<I", 1), "section NODE: the stack of node 1 (at offset %d) loops" % nd,
             "node 1 its own parent")
# 2 -> 1 -> 2: node 1's parent 2, node 2's parent is 1 (prog's trie: node 2 is node 1's child)
expect_eq(prof.nodes[1][0], 1, "the generator's trie (node 2's parent)")
expect_error(patch(good, nd, "<I", 2), "section NODE: the stack of node 1 (at offset %d) loops" % nd,
             "a loop of two nodes")
st = sec_payload("STKS")
expect_eq(STKS_REC, 100, "the STKS record size (u32 node, 12 u64 figures)")
expect_error(patch(good, st + STKS_REC, "<I", cnt + 5),
             "section STKS: record 1 (at offset %d) names node %d, but the last node is %d" % (st + STKS_REC, cnt + 5, cnt),
             "a stack naming a missing node")
# a file of the older layout (10 figures, 84-byte STKS records)
old = b"".join(struct.pack("<I10Q", prof.node_of[k], *[prof.figs[k][x] for x in FIELDS[:10]])
               for k in sorted(prof.stacks))
bad = prof.build(order=("MODS", "NODE", "TIME", "PEAK", "TOTL"), extra=[(2, b"STKS", len(prof.stacks), old)])
lay_old = {}
prof.build(order=("MODS", "NODE", "TIME", "PEAK", "TOTL"), extra=[(2, b"STKS", len(prof.stacks), old)],
           layout=lay_old)
expect_error(bad, "section STKS at offset %d: 5 records of 100 bytes need 500 bytes, the section holds 420"
             % lay_old["STKS"], "84-byte STKS records (the layout before max_live_blocks/bytes)")
expect_error(patch(good, layout["PEAK"] + 4, "<I", 2),
             "section PEAK at offset %d holds 2 records, expected 1" % layout["PEAK"], "two PEAK records")
bad = prof.build(extra=[(6, b"TIME", 0, b"")])
expect_error(bad, "a second TIME section at offset %d" % layout["END"], "TIME twice")
# what a forked child inherited (FRKT, then FRKS: u32 node, 5 u64)
frkt = struct.pack("<5Q", 1234, 3, 3, 300, 3)
frks_ok = struct.pack("<I5Q", cnt, 3, 300, 3, 300, 0)
lay_f = {}
okf = prof.build(extra=[(6, b"FRKT", 1, frkt), (7, b"FRKS", 1, frks_ok)], layout=lay_f)
report(write(os.path.join(T, "fork.prof"), okf), what="a forked child's file")
expect_error(prof.build(extra=[(6, b"FRKT", 1, frkt), (7, b"FRKS", 1, struct.pack("<I5Q", cnt + 3, 3, 300, 3, 300, 0))]),
             "section FRKS: record 0 (at offset %d) names node %d, but the last node is %d"
             % (lay_f["FRKS"] + 16, cnt + 3, cnt), "an inherited stack naming a missing node")
expect_error(prof.build(extra=[(6, b"FRKS", 1, frks_ok)]),
             "section FRKS without FRKT (what the process inherited at its fork)", "FRKS without FRKT")
lay_t = {}
prof.build(extra=[(6, b"FRKT", 1, frkt[:32])], layout=lay_t)
expect_error(prof.build(extra=[(6, b"FRKT", 1, frkt[:32])]),
             "section FRKT at offset %d: 1 records of 40 bytes need 40 bytes, the section holds 32" % lay_t["FRKT"],
             "a short FRKT")

# ---- files ----------------------------------------------------------------------------------
expect_error(None, "No such file or directory", "a missing file", name="nonexistent.prof")
os.mkdir(os.path.join(T, "dir.prof"))
# a directory is a process tree's profiles (report_tree.sh); one without any says so
expect_error(None, "no memlens profile in this directory", "a directory without profiles", name="dir.prof")
out, err = report(gf, "-o", os.path.join(T, "no/such/dir/out.txt"), rc=1, what="an unwritable output")
expect_eq(err.splitlines(), ["memlens report: %s: No such file or directory" % os.path.join(T, "no/such/dir/out.txt")],
          "an unwritable output")
if os.path.exists("/dev/full"):
    import subprocess
    r = subprocess.run([MEMLENS, "report", gf, "--format", "json", "-o", "/dev/full"], capture_output=True, text=True)
    expect_eq((r.returncode, r.stderr.splitlines()[-1:]),
              (1, ["memlens report: /dev/full: write error: No space left on device"]), "writing to /dev/full")
print("ok")
