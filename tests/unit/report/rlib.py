"""rlib.py: shared by the `memlens report` tests (tests/unit/report_*.sh).

Writes heap profiles per src/profile/profile_format.h with known stacks and figures.
The stacks are real: prog.c, built with -g, prints its module map and the
return addresses of the stacks of its "allocation sites"; the generator puts
them in a trie (NODE), gives each stack its figures (STKS) and adds a
timeline, the peak and the totals.  A fifth stack, E, has a pc in a module
whose file does not exist and a pc outside every module.

The figures (FIG) and what follows from them (TOTALS, PEAK) are what the
tests expect to read back.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
BUILD = os.environ.get("BUILD") or os.path.join(ROOT, "build")
MEMLENS = os.environ.get("MEMLENS") or os.path.join(BUILD, "bin/memlens")
T = os.environ.get("T") or tempfile.mkdtemp()
HERE = os.path.join(ROOT, "tests/unit/report")
PROG_SRC = os.path.join(HERE, "prog.c")

# The STKS figures in file order (ML_PROF_STKS_FIELDS, 12), named as in the
# json output.  lifetime_allocs: the sum over the freed blocks of the
# allocations made between each one's allocation and its free.
FIELDS = ["allocs", "bytes_total", "live_blocks", "live_bytes", "peak_blocks", "peak_bytes",
          "temp_allocs", "temp_bytes", "lifetime_allocs", "max_bytes", "max_live_blocks",
          "max_live_bytes"]
STKS_REC = 4 + 8 * len(FIELDS)  # 100 bytes


def F(allocs, bytes_total, live_blocks, live_bytes, peak_blocks, peak_bytes, temp_allocs,
      temp_bytes, lifetime_allocs, max_bytes, max_live_blocks, max_live_bytes):
    return dict(zip(FIELDS, [allocs, bytes_total, live_blocks, live_bytes, peak_blocks,
                             peak_bytes, temp_allocs, temp_bytes, lifetime_allocs, max_bytes,
                             max_live_blocks, max_live_bytes]))


# A: make_buffer, the top stack at the peak (its own maximum above it:
# 6 blocks, 24576 bytes); B: intern_string inlined into parse_input; C:
# temp_work, all temporary, the top churn; D: leaky, the top leak; E:
# unknown frames.  Mean lifetimes (lifetime / freed blocks): A 200, B 1.5,
# C 1 allocation(s).
FIG = {
    "A": F(10, 40960, 0, 0, 4, 16384, 0, 0, 2000, 4096, 6, 24576),
    "B": F(1000, 32000, 2, 64, 100, 3200, 0, 0, 1497, 32, 150, 4800),
    "C": F(5000, 500000, 0, 0, 1, 100, 5000, 500000, 5000, 100, 1, 100),
    "D": F(3, 3000, 3, 3000, 3, 3000, 0, 0, 0, 1000, 3, 3000),
    "E": F(1, 10, 1, 10, 1, 10, 0, 0, 0, 10, 1, 10),
}
ORDER = ["A", "B", "C", "D", "E"]


def total(field):
    return sum(FIG[k][field] for k in ORDER)


TOTALS = dict(allocs=total("allocs"), frees=total("allocs") - total("live_blocks"),
              bytes_total=total("bytes_total"), temp_allocs=total("temp_allocs"),
              live_blocks=total("live_blocks"), live_bytes=total("live_bytes"),
              samples=total("allocs"))
PEAK = dict(t_ns=750000000, live_bytes=total("peak_bytes"), live_blocks=total("peak_blocks"),
            total=300000)
TIMELINE = [(0, 0, 0, 0), (100000000, 8000, 20, 50000),
            (PEAK["t_ns"], PEAK["live_bytes"], PEAK["live_blocks"], PEAK["total"]),
            (1200000000, 5000, 30, 500000),
            (1500000000, TOTALS["live_bytes"], TOTALS["live_blocks"], TOTALS["bytes_total"])]
HEADER = dict(pid=4242, start_ns=1000000000, end_ns=2500000000, wall_start_s=1700000000,
              sample_bytes=0, max_depth=64, reason=0, flags=0)

GONE = dict(lo=0x7f0000000000, hi=0x7f0000100000, bias=0x7f0000000000,
            path="/nonexistent/libgone.so", build_id=bytes.fromhex("0123456789abcdef"))
GONE_PC = GONE["lo"] + 0x1234
NOMOD_PC = 0x123

TAGS = dict(MODS=b"MODS", NODE=b"NODE", STKS=b"STKS", TIME=b"TIME", PEAK=b"PEAK", TOTL=b"TOTL",
            END=b"END!")


def fail(msg):
    print("TESTFAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def skip(msg):
    print("TESTSKIP: " + msg, file=sys.stderr)
    sys.exit(77)


def note(msg):
    print("# " + msg, file=sys.stderr)


def show(name, text, n=30):
    lines = text.splitlines()
    print("--- %s (%d lines, last %d):" % (name, len(lines), min(n, len(lines))), file=sys.stderr)
    for l in lines[-n:]:
        print("  " + l, file=sys.stderr)


def expect_eq(got, want, what):
    if got != want:
        fail("%s: got %r, expected %r" % (what, got, want))


def markers():
    """@marker -> line number in prog.c"""
    m = {}
    with open(PROG_SRC) as f:
        for i, line in enumerate(f, 1):
            for k in re.findall(r"/\* @(\w+) \*/", line):
                m[k] = i
    return m


def build_prog(out, pie, extra=()):
    flags = ["-std=gnu11", "-g", "-O1", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls"]
    flags += ["-fPIE", "-pie"] if pie else ["-fno-pie", "-no-pie"]
    cmd = [os.environ.get("CC", "gcc")] + flags + list(extra) + ["-o", out, PROG_SRC]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        show("gcc", r.stdout + r.stderr)
        fail("cannot build %s: %s" % (out, " ".join(cmd)))
    return out


def run_prog(path):
    """(modules, stacks): modules as dicts, stacks name -> [pc, ...] innermost first"""
    r = subprocess.run([path], capture_output=True, text=True)
    if r.returncode != 0:
        fail("%s exited with %d: %s" % (path, r.returncode, r.stderr))
    mods, stacks = [], {}
    for line in r.stdout.splitlines():
        w = line.split(" ", 5)
        if w[0] == "mod":
            mods.append(dict(lo=int(w[1], 16), hi=int(w[2], 16), bias=int(w[3], 16),
                             build_id=b"" if w[4] == "-" else bytes.fromhex(w[4]), path=w[5]))
        elif w[0] == "stack":
            stacks[w[1]] = [int(x, 16) for x in line.split()[2:]]
    if sorted(stacks) != ["A", "B", "C", "D"]:
        fail("%s printed stacks %s" % (path, sorted(stacks)))
    return mods, stacks


class Profile:
    """A profile to write: header, modules, named stacks with figures,
    timeline, peak, totals.  build() lays it out (options for the tests of
    the reader: sections left out, reordered, unknown ones, split stack
    records)."""

    def __init__(self, exe, mods, stacks, figs=None):
        self.h = dict(HEADER)
        self.exe = exe
        self.mods = mods
        self.stacks = stacks  # name -> pcs innermost first
        self.figs = figs or FIG
        self.timeline = list(TIMELINE)
        self.peak = dict(PEAK)
        self.totals = dict(TOTALS)
        self.nodes = []  # (parent, pc); node i+1
        self.node_of = {}
        trie = {}
        for name in sorted(stacks):
            parent = 0
            for pc in reversed(stacks[name]):
                key = (parent, pc)
                if key not in trie:
                    self.nodes.append(key)
                    trie[key] = len(self.nodes)
                parent = trie[key]
            self.node_of[name] = parent

    def header_bytes(self):
        h = self.h
        exe = self.exe.encode("utf-8", "surrogateescape")
        return (b"MLPROF\r\n" + struct.pack("<IIQQQQQIIH", 1, h["flags"], h["pid"], h["start_ns"],
                                            h["end_ns"], h["wall_start_s"], h["sample_bytes"],
                                            h["max_depth"], h["reason"], len(exe)) + exe)

    def section_payloads(self, split=False):
        mods = b""
        for m in self.mods:
            p = m["path"].encode()
            mods += struct.pack("<QQQH", m["lo"], m["hi"], m["bias"], len(p)) + p
            mods += struct.pack("<B", len(m["build_id"])) + m["build_id"]
        nodes = b"".join(struct.pack("<IQ", par, pc) for par, pc in self.nodes)
        recs = []
        for name in sorted(self.stacks):
            f = self.figs[name]
            vals = [f[k] for k in FIELDS]
            fmt = "<I%dQ" % len(FIELDS)
            if split and name == "A":
                # the same node in two records: the reader sums them (max of
                # max_bytes; the maxima live are summed too)
                mb = FIELDS.index("max_bytes")
                half = [v // 2 for v in vals]
                half[mb] = vals[mb]
                rest = [v - h for v, h in zip(vals, half)]
                rest[mb] = vals[mb] // 2
                recs.append(struct.pack(fmt, self.node_of[name], *half))
                recs.append(struct.pack(fmt, self.node_of[name], *rest))
            else:
                recs.append(struct.pack(fmt, self.node_of[name], *vals))
        stks = b"".join(recs)
        time = b"".join(struct.pack("<4Q", *t) for t in self.timeline)
        p = self.peak
        peak = struct.pack("<4Q", p["t_ns"], p["live_bytes"], p["live_blocks"], p["total"])
        t = self.totals
        totl = struct.pack("<7Q", t["allocs"], t["frees"], t["bytes_total"], t["temp_allocs"],
                           t["live_blocks"], t["live_bytes"], t["samples"])
        return dict(MODS=(len(self.mods), mods), NODE=(len(self.nodes), nodes),
                    STKS=(len(recs), stks), TIME=(len(self.timeline), time), PEAK=(1, peak),
                    TOTL=(1, totl))

    def build(self, order=("MODS", "NODE", "STKS", "TIME", "PEAK", "TOTL"), extra=None,
              split=False, layout=None):
        """extra: [(position, tag bytes, count, payload)] unknown sections;
        layout: a dict filled with each section's header offset."""
        out = bytearray(self.header_bytes())
        pay = self.section_payloads(split)
        items = [(name, TAGS[name]) + pay[name] for name in order]
        for pos, tag, count, payload in (extra or []):
            items.insert(pos, (tag.decode("latin1"), tag, count, payload))
        for name, tag, count, payload in items:
            if layout is not None:
                layout[name] = len(out)
            out += tag + struct.pack("<IQ", count, len(payload)) + payload
        if layout is not None:
            layout["END"] = len(out)
        out += b"END!" + struct.pack("<IQQ", 0, 8, len(out))
        return bytes(out)


def standard(prog, small=False):
    """The test profile of the built program PROG: its stacks A-D and E.
    small: only the program's own module and frames (for fuzzing)."""
    mods, stacks = run_prog(prog)
    exe = [m for m in mods if os.path.realpath(m["path"]) == os.path.realpath(prog)]
    if len(exe) != 1:
        fail("%s is not in its own module map: %s" % (prog, [m["path"] for m in mods]))
    stacks["E"] = [GONE_PC, NOMOD_PC] + stacks["A"][1:]
    if small:
        e = exe[0]
        for k in stacks:
            stacks[k] = [pc for pc in stacks[k] if e["lo"] <= pc < e["hi"] or pc in (GONE_PC, NOMOD_PC)]
        mods = [e]
    mods = mods + [dict(GONE)]
    return Profile(prog, mods, stacks)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def report(*args, rc=0, what=None):
    """runs memlens report ARGS; returns (stdout, stderr); checks the exit status"""
    r = subprocess.run([MEMLENS, "report"] + [str(a) for a in args], capture_output=True)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    if rc is not None and r.returncode != rc:
        show("stdout", out)
        show("stderr", err)
        fail("%s: memlens report %s: exit status %d, expected %d"
             % (what or "report", " ".join(map(str, args)), r.returncode, rc))
    return out, err


def report_bytes(*args):
    r = subprocess.run([MEMLENS, "report"] + [str(a) for a in args], capture_output=True)
    if r.returncode != 0:
        show("stderr", r.stderr.decode("utf-8", "replace"))
        fail("memlens report %s: exit status %d" % (" ".join(map(str, args)), r.returncode))
    return r.stdout


def norm_addr(s):
    return re.sub(r"0x[0-9a-fA-F]+", "0xADDR", s)


# ---- the text report, parsed -------------------------------------------------

def parse_text(text):
    """{'header': [lines], 'Summary': [lines], 'Peak': {'title':..., 'entries': [...],
    'more': line}, ...}; an entry is {'head': line, 'frames': [lines]}"""
    res = {"header": []}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^(Summary|Peak|Churn|Temporary|Leaks|Live)\b", line)
        if m:
            cur = m.group(1)
            res[cur] = {"title": line, "entries": [], "more": None, "lines": []}
            continue
        if cur is None:
            if line:
                res["header"].append(line)
            continue
        sec = res[cur]
        if not line:
            continue
        sec["lines"].append(line)
        if re.match(r"^  #\d+  ", line):
            sec["entries"].append({"head": line, "frames": []})
        elif line.startswith("      ") and sec["entries"]:
            sec["entries"][-1]["frames"].append(line.strip())
        elif line.startswith("  ... and "):
            sec["more"] = line
    return res


def top_stacks(text, title="Allocations: top stacks by allocations"):
    """The entries of one "top stacks" section of a text report (--merge's
    or a single file's): [(allocations, [frame lines, stripped])]."""
    parts = text.split("\n%s\n" % title)
    if len(parts) < 2:
        return []
    ent = []
    for l in parts[1].split("\n\n")[0].splitlines():
        m = re.match(r"^  #\d+  (\d+) allocations?;", l)
        if m:
            ent.append((int(m.group(1)), []))
        elif ent:
            ent[-1][1].append(l.strip())
    return ent


def expected_frames(mk, name):
    """the first frames (normalized) of stack NAME in the text report"""
    main = "by 0xADDR: main (prog.c:%d)"
    return {
        "A": ["at 0xADDR: make_buffer (prog.c:%d)" % mk["A"], main % mk["mainA"]],
        "B": ["at 0xADDR: intern_string (prog.c:%d) [inlined]" % mk["B"],
              "by 0xADDR: parse_input (prog.c:%d)" % mk["Bcall"], main % mk["mainB"]],
        "C": ["at 0xADDR: temp_work (prog.c:%d)" % mk["C"], main % mk["mainC"]],
        "D": ["at 0xADDR: leaky (prog.c:%d)" % mk["D"], main % mk["mainD"]],
        "E": ["at 0xADDR (libgone.so+0xADDR)", "by 0xADDR (no module)", main % mk["mainA"]],
    }[name]


def read_json(path):
    with open(path) as f:
        return json.load(f)


# ---- protobuf (pprof), decoded field by field ------------------------------

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        s += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """[(field, value)]: ints for varints, bytes for length-delimited"""
    out, i = [], 0
    while i < len(b):
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            if len(v) != n:
                fail("truncated protobuf")
            i += n
        else:
            fail("unexpected wire type %d (field %d)" % (wt, f))
        out.append((f, v))
    return out


def packed(v):
    if isinstance(v, int):
        return [v]
    r, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        r.append(x)
    return r


def msg(b):
    d = {}
    for f, v in fields(b):
        d.setdefault(f, []).append(v)
    return d


def one(d, f, default=0):
    return d.get(f, [default])[-1]
