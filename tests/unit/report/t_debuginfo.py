"""memlens report with separate debug files: a program stripped of its
debug sections with a .gnu_debuglink to PROG.debug beside it (libdw's
standard search); a program stripped of everything whose debug file is
found by its build-id under --debug-dir DIR (DIR/.build-id/xx/yyyy.debug);
a program rebuilt since the run (its build-id differs: a warning, its
frames not named from the wrong file, but named from the debug file of the
build-id that ran); a program deleted since the run."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

mk = markers()
MAKE_BUFFER = "at 0xADDR: make_buffer (prog.c:%d)" % mk["A"]


def sh(*cmd):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if r.returncode != 0:
        show(cmd[0], r.stdout + r.stderr)
        fail("%s exited with %d" % (" ".join(cmd), r.returncode))


def first_frame(text, what):
    r = parse_text(text)
    if not r.get("Peak") or not r["Peak"]["entries"]:
        show("report", text)
        fail("%s: no Peak entries" % what)
    return norm_addr(r["Peak"]["entries"][0]["frames"][0])


def profile_of(prog):
    prof = standard(os.path.realpath(prog))
    return write(prog + ".prof", prof.build()), prof


full = build_prog(os.path.join(T, "prog"), False)
em = [m for m in run_prog(full)[0] if m["path"] == os.path.realpath(full)][0]
bid = em["build_id"].hex()
if not bid:
    fail("the test program has no build-id")
dbg = os.path.join(T, "prog.debug")
sh("objcopy", "--only-keep-debug", full, dbg)

# ---- a debuglink ------------------------------------------------------------------------
d = os.path.join(T, "dl")
os.mkdir(d)
prog = os.path.join(d, "prog")
sh("objcopy", "--strip-debug", full, prog)
shutil.copy(dbg, os.path.join(d, "prog.debug"))
sh("objcopy", "--add-gnu-debuglink=" + os.path.join(d, "prog.debug"), prog)
pf, prof = profile_of(prog)
out, _ = report(pf)
expect_eq(first_frame(out, "debuglink"), MAKE_BUFFER, "with a debuglink")
os.rename(os.path.join(d, "prog.debug"), os.path.join(d, "elsewhere"))
out, _ = report(pf)
expect_eq(first_frame(out, "debuglink, file gone"), "at 0xADDR: make_buffer (prog+0xADDR)",
          "with a debuglink to a file that is gone (the symbol table only)")

# ---- the build-id under --debug-dir ------------------------------------------------------------
d = os.path.join(T, "bid")
os.mkdir(d)
prog = os.path.join(d, "prog")
sh("strip", "--strip-all", "-o", prog, full)
ddir = os.path.join(T, "debugroot")
os.makedirs(os.path.join(ddir, ".build-id", bid[:2]))
shutil.copy(dbg, os.path.join(ddir, ".build-id", bid[:2], bid[2:] + ".debug"))
pf, prof = profile_of(prog)
out, _ = report(pf)
expect_eq(first_frame(out, "stripped"), "at 0xADDR (prog+0xADDR)", "stripped, no debug file")
out, _ = report(pf, "--debug-dir", ddir)
expect_eq(first_frame(out, "stripped, --debug-dir"), MAKE_BUFFER, "stripped, debug file by build-id")
out, _ = report(pf, "--debug-dir=" + ddir, "--format", "folded")
if ";main;make_buffer 16384" not in out:
    show("folded", out)
    fail("--debug-dir= with --format folded: make_buffer not named")

# ---- rebuilt since the run -------------------------------------------------------------------------
d = os.path.join(T, "rebuilt")
os.mkdir(d)
prog = build_prog(os.path.join(d, "prog"), False)
pf, prof = profile_of(prog)
build_prog(prog, False, ["-Wl,--defsym=memlens_test_rebuilt=1"])
out, err = report(pf)
want = ("memlens report: warning: %s is not the file that ran (its build-id differs); its frames stay unsymbolized"
        % os.path.realpath(prog))
if want not in err.splitlines():
    show("stderr", err)
    fail("rebuilt: no warning about the build-id")
expect_eq(first_frame(out, "rebuilt"), "at 0xADDR (prog+0xADDR)", "rebuilt since the run (not named)")
# the debug file of the build-id that ran names them
os.makedirs(os.path.join(T, "debugroot2", ".build-id", bid[:2]))
shutil.copy(dbg, os.path.join(T, "debugroot2", ".build-id", bid[:2], bid[2:] + ".debug"))
pf2, _ = profile_of(full)  # its build-id is the one in debugroot2
build_prog(full, False, ["-Wl,--defsym=memlens_test_rebuilt=2"])
out, err = report(pf2, "--debug-dir", os.path.join(T, "debugroot2"))
expect_eq(first_frame(out, "rebuilt, --debug-dir"), MAKE_BUFFER, "rebuilt, named from the build-id's debug file")
if [l for l in err.splitlines() if "libgone" not in l]:
    show("stderr", err)
    fail("rebuilt but its debug file found: a warning")

# ---- deleted since the run -------------------------------------------------------------------------
os.unlink(full)
out, err = report(pf2)
if "memlens report: warning: cannot read %s: No such file or directory; its frames stay unsymbolized" \
        % os.path.realpath(full) not in err.splitlines():
    show("stderr", err)
    fail("deleted: no warning")
out, err = report(pf2, "--debug-dir", os.path.join(T, "debugroot2"))
expect_eq(first_frame(out, "deleted, --debug-dir"), MAKE_BUFFER, "deleted, named from the build-id's debug file")
print("ok")
