"""memlens report FILE (text): the summary and every section, numbers exact,
stacks symbolized with libdw (function, file:line, inlined frames, unknown
modules), for a non-PIE and a PIE build; the same report from files laid
out differently (sections reordered, unknown sections, PEAK/TOTL left out,
a stack split over two records); options and usage errors."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

mk = markers()
tot = TOTALS

SUMMARY = [
    "  allocations      6014 (575970 bytes requested, 562.5 KiB); 6008 frees",
    "  peak heap        22694 bytes (22.2 KiB) in 109 blocks at 750.000 ms (after 300000 bytes allocated)",
    "  leaked at exit   3074 bytes (3.0 KiB) in 6 blocks",
    "  temporary        5000 allocations (83.1% of all)",
]
# section -> [(stack, headline)], in order
SECTIONS = {
    "Peak": ("Peak: top stacks by bytes live at the peak (22694 bytes)", [
        ("A", "  #1  16384 bytes in 4 blocks at the peak (72.2%), at most 24576 bytes and 6 blocks live; "
              "10 allocations, 40960 bytes in all"),
        ("B", "  #2  3200 bytes in 100 blocks at the peak (14.1%), at most 4800 bytes and 150 blocks live; "
              "1000 allocations, 32000 bytes in all"),
        ("D", "  #3  3000 bytes in 3 blocks at the peak (13.2%), at most 3000 bytes and 3 blocks live; "
              "3 allocations, 3000 bytes in all"),
        ("C", "  #4  100 bytes in 1 block at the peak (0.4%), at most 100 bytes and 1 block live; "
              "5000 allocations, 500000 bytes in all"),
        ("E", "  #5  10 bytes in 1 block at the peak (0.0%), at most 10 bytes and 1 block live; "
              "1 allocation, 10 bytes in all"),
    ]),
    "Churn": ("Churn: top stacks by bytes allocated (575970 bytes in 6014 allocations)", [
        ("C", "  #1  500000 bytes in 5000 allocations (86.8%); largest 100 bytes, mean lifetime 1 allocation"),
        ("A", "  #2  40960 bytes in 10 allocations (7.1%); largest 4096 bytes, mean lifetime 200 allocations"),
        ("B", "  #3  32000 bytes in 1000 allocations (5.6%); largest 32 bytes, mean lifetime 1.5 allocations"),
        ("D", "  #4  3000 bytes in 3 allocations (0.5%); largest 1000 bytes"),
        ("E", "  #5  10 bytes in 1 allocation (0.0%); largest 10 bytes"),
    ]),
    "Temporary": ("Temporary: top stacks by temporary allocations (5000)", [
        ("C", "  #1  5000 temporary allocations (100.0% of its 5000), 500000 bytes"),
    ]),
    "Leaks": ("Leaks: stacks with blocks live at exit (3074 bytes in 6 blocks)", [
        ("D", "  #1  3000 bytes leaked in 3 blocks (97.6%); 3 allocations"),
        ("B", "  #2  64 bytes leaked in 2 blocks (2.1%); 1000 allocations"),
        ("E", "  #3  10 bytes leaked in 1 block (0.3%); 1 allocation"),
    ]),
}


def check_report(text, prof, what):
    r = parse_text(text)
    exe = prof.exe
    expect_eq(r["header"], ["memlens heap profile of %s (pid 4242)" % exe,
                            "  1.500 s recorded, written at exit",
                            "  every allocation recorded"], what + ": header")
    expect_eq(r["Summary"]["lines"], SUMMARY, what + ": summary")
    for sec, (title, entries) in SECTIONS.items():
        if sec not in r:
            show("report", text)
            fail("%s: no %s section" % (what, sec))
        expect_eq(r[sec]["title"], title, "%s: %s title" % (what, sec))
        got = [e["head"] for e in r[sec]["entries"]]
        expect_eq(got, [h for _, h in entries], "%s: %s entries" % (what, sec))
        for (name, _), e in zip(entries, r[sec]["entries"]):
            frames = e["frames"]
            want = expected_frames(mk, name)
            got = [norm_addr(f) for f in frames[:len(want)]]
            if got != want:
                show("report", text, 60)
                fail("%s: %s, stack %s: frames %r, expected %r" % (what, sec, name, got, want))
            if name == "E":
                expect_eq(frames[:2], ["at 0x7f0000001234 (libgone.so+0x1234)", "by 0x123 (no module)"],
                          "%s: %s: the unknown frames" % (what, sec))
            # every recorded pc is there, plus one frame for the inlined call
            n = len(prof.stacks[name]) + (1 if name == "B" else 0)
            expect_eq(len(frames), n, "%s: %s: number of frames of stack %s" % (what, sec, name))
            # the addresses are the recorded pcs
            pcs = prof.stacks[name]
            expect_eq(frames[0].split()[1].rstrip(":"), "0x%x" % pcs[0], "%s: %s: stack %s's first pc"
                      % (what, sec, name))
            expect_eq(frames[-1].split()[1].rstrip(":"), "0x%x" % pcs[-1], "%s: %s: stack %s's last pc"
                      % (what, sec, name))
        expect_eq(r[sec]["more"], None, "%s: %s: 'more' line" % (what, sec))


for pie in (False, True):
    kind = "PIE" if pie else "non-PIE"
    prog = build_prog(os.path.join(T, "prog_pie" if pie else "prog"), pie)
    prof = standard(os.path.realpath(prog))
    exe_mod = [m for m in prof.mods if m["path"] == prof.exe][0]
    if pie and exe_mod["bias"] == 0:
        fail("the PIE build was loaded with bias 0")
    if not pie and exe_mod["bias"] != 0:
        fail("the non-PIE build has bias %#x" % exe_mod["bias"])
    f = write(os.path.join(T, "p_%s.prof" % ("pie" if pie else "exec")), prof.build())
    out, err = report(f, what=kind)
    check_report(out, prof, kind)
    want_warn = ("memlens report: warning: cannot read /nonexistent/libgone.so: No such file or directory; "
                 "its frames stay unsymbolized")
    if want_warn not in err.splitlines():
        show("stderr", err)
        fail("%s: no warning about the missing module" % kind)
    if len(err.splitlines()) != 1:
        show("stderr", err)
        fail("%s: unexpected messages on stderr" % kind)

    if not pie:
        # -o and --format text give the same
        o = os.path.join(T, "out.txt")
        report(f, "-o", o, "--format", "text")
        expect_eq(open(o).read(), out, "-o OUT --format text vs standard output")
        report(f, "--output=" + o, "--format=text")
        expect_eq(open(o).read(), out, "--output=OUT vs standard output")

        # other layouts of the same profile read the same
        layouts = {
            "sections reordered": dict(order=("TOTL", "STKS", "TIME", "PEAK", "NODE", "MODS")),
            "unknown sections": dict(extra=[(0, b"XTRA", 3, b"abc" * 7), (4, b"\x01\x02\x03\x04", 0, b"")]),
            "a stack in two records": dict(split=True),
        }
        for name, kw in layouts.items():
            g = write(os.path.join(T, "layout.prof"), prof.build(**kw))
            o2, _ = report(g, what=name)
            if o2 != out:
                show("report", o2)
                fail("%s: the report differs from the standard layout's" % name)
        # without PEAK and TOTL the summary is derived from TIME and STKS
        g = write(os.path.join(T, "derived.prof"), prof.build(order=("MODS", "NODE", "STKS", "TIME")))
        o2, _ = report(g, what="derived")
        if o2 != out:
            show("report", o2)
            fail("without PEAK and TOTL: the report differs")

        # --top
        o2, _ = report(f, "--top", "2")
        r = parse_text(o2)
        expect_eq(len(r["Peak"]["entries"]), 2, "--top 2: Peak entries")
        expect_eq(r["Peak"]["more"], "  ... and 3 more stacks (3110 bytes)", "--top 2: Peak's last line")
        expect_eq(r["Churn"]["more"], "  ... and 3 more stacks (35010 bytes)", "--top 2: Churn's last line")
        expect_eq(r["Leaks"]["more"], "  ... and 1 more stack (10 bytes)", "--top 2: Leaks's last line")

        # sampled profile: the header says so
        prof.h["sample_bytes"] = 524288
        prof.h["reason"] = 1
        g = write(os.path.join(T, "sampled.prof"), prof.build())
        o2, _ = report(g)
        expect_eq(parse_text(o2)["header"][1:], [
            "  1.500 s recorded, written on a fatal signal",
            "  sampled: one sample per 524288 bytes on average, 6014 samples; the figures are scaled estimates"],
            "sampled profile's header")
        prof.h["sample_bytes"] = 0
        prof.h["reason"] = 0

        # a snapshot (SIGUSR2): what is live then is not leaked, nothing has exited
        prof.h["reason"] = 2
        g = write(os.path.join(T, "snapshot.prof"), prof.build())
        o2, _ = report(g)
        r = parse_text(o2)
        expect_eq(r["header"][1], "  1.500 s recorded, written as a snapshot", "snapshot's header")
        expect_eq(r["Summary"]["lines"][2], "  live at snapshot 3074 bytes (3.0 KiB) in 6 blocks", "snapshot's summary")
        expect_eq(r.get("Live", {}).get("title"), "Live: stacks with blocks live at the snapshot (3074 bytes in 6 blocks)",
                  "snapshot's live section")
        expect_eq([e["head"] for e in r.get("Live", {}).get("entries", [])],
                  [h.replace(" leaked in ", " live in ") for _, h in SECTIONS["Leaks"][1]], "snapshot's live stacks")
        if "Leaks" in r or "leaked" in o2:
            show("report", o2)
            fail("a snapshot's report speaks of leaks")
        prof.h["reason"] = 0

        # usage
        for args, msg in [([], "no profile given"), ([f, f], "`%s' given twice" % f),
                          ([f, "--format", "xml"], "--format xml: unknown format"),
                          ([f, "--weight=bytes"], "--weight bytes: unknown weight"),
                          ([f, "--top", "0"], "--top 0: expected a number"),
                          ([f, "--frobnicate"], "unknown option `--frobnicate'"),
                          ([f, "-o"], "-o needs a value")]:
            o2, e2 = report(*args, rc=2, what="usage")
            if not e2.startswith("memlens report: " + msg) or o2:
                show("stderr", e2)
                fail("usage error %r: expected a message starting %r" % (args, msg))
        o2, _ = report("--help")
        if not o2.startswith("Usage: memlens report FILE"):
            fail("memlens report --help: %r" % o2[:80])
        o2, _ = report("-h")
        import subprocess
        top = subprocess.run([MEMLENS, "--help"], capture_output=True, text=True).stdout
        if "memlens report FILE" not in top or "  report     " not in top:
            fail("memlens --help does not list report")
print("ok")
