"""memlens report on inputs that would make it read or write without bound.

Reading: /dev/zero and a 1 GiB (sparse) foreign file are rejected by their
magic after their first bytes (the big file under a 256 MiB address-space
limit, which reading it whole would exceed); through a pipe, a generator
of 1 GiB of foreign bytes, and a valid header followed by endless zeros
(which read as empty sections: at most 64 are read), see less than 1 MiB
consumed.  Writing: a 5000-deep chain of nodes, each a stack, in a file
whose header says max_depth 64, is refused with a message naming the first
node deeper than 64 and nothing written (json wrote 868 MB from 0.6 MB); a
header max_depth beyond 256 is refused; a chain exactly max_depth deep is
read and every stack has at most that many frames."""
import json
import os
import resource
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

ASAN = os.environ.get("MEMLENS_TEST_ASAN", "0") == "1"


def run(args, stdin=None, limit_as=None, timeout=20):
    def pre():
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    try:
        r = subprocess.run([MEMLENS, "report"] + args, stdin=stdin, capture_output=True, timeout=timeout,
                           preexec_fn=pre)
    except subprocess.TimeoutExpired:
        fail("memlens report %s: still reading after %d s" % (" ".join(args), timeout))
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


def expect_rejected(args, msg, what, **kw):
    rc, out, err = run(args, **kw)
    if rc != 1 or out or err.splitlines() != ["memlens report: %s: %s" % (args[0], msg)]:
        show("stderr", err)
        fail("%s: exit status %d, %d bytes of output; expected 1, none and %r" % (what, rc, len(out), msg))


ZERO_MAGIC = 'not a memlens profile (magic "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00", expected "MLPROF\\r\\n")'
expect_rejected(["/dev/zero"], ZERO_MAGIC, "/dev/zero")

big = os.path.join(T, "big.bin")
with open(big, "wb") as f:
    f.truncate(1 << 30)
# an ASan build reserves terabytes of address space: no limit there
expect_rejected([big], ZERO_MAGIC, "a 1 GiB foreign file", limit_as=None if ASAN else 256 << 20)


def through_pipe(first, chunk, total, msg, what):
    """feeds first, then chunk until total bytes or the reader hangs up"""
    p = subprocess.Popen([MEMLENS, "report", "/dev/stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    sent = 0
    try:
        p.stdin.write(first)
        sent = len(first)
        while sent < total:
            p.stdin.write(chunk)
            sent += len(chunk)
    except BrokenPipeError:
        pass
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    out, err = p.stdout.read(), p.stderr.read().decode("utf-8", "replace")
    p.wait(timeout=30)
    if p.returncode != 1 or out or err.splitlines() != ["memlens report: /dev/stdin: " + msg]:
        show("stderr", err)
        fail("%s: exit status %d; expected 1 and %r" % (what, p.returncode, msg))
    # the pipe holds 64 KiB: what was written beyond what was read is less
    if sent >= 1 << 20:
        fail("%s: the reader consumed %d bytes before giving up" % (what, sent))


through_pipe(b"GARBAGE!", b"GARBAGE!" * 512, 1 << 30,
             'not a memlens profile (magic "GARBAGE!", expected "MLPROF\\r\\n")', "1 GiB of a foreign file")
exe = "/x"
hdr = b"MLPROF\r\n" + struct.pack("<IIQQQQQIIH", 1, 0, 1, 0, 0, 0, 0, 64, 0, len(exe)) + exe.encode()
through_pipe(hdr, bytes(4096), 1 << 30,
             "more than 64 sections (section 0x00000000 at offset %d is the 65th)" % (len(hdr) + 64 * 16),
             "a header, then endless zeros")


# ---- a chain deeper than the header's max_depth -------------------------------------------
def chain_profile(depth, max_depth):
    """nodes 1..depth, each the parent of the next; every node a stack"""
    h = b"MLPROF\r\n" + struct.pack("<IIQQQQQIIH", 1, 0, 7, 0, 1000, 0, 0, max_depth, 0, len(exe)) + exe.encode()
    nodes = b"".join(struct.pack("<IQ", i, 0x1000 + i) for i in range(depth))
    stks = b"".join(struct.pack("<I12Q", i, 1, 8, 1, 8, 1, 8, 0, 0, 0, 8, 1, 8) for i in range(1, depth + 1))
    out = bytearray(h)
    node_off = len(out) + 16
    for tag, count, pay in [(b"NODE", depth, nodes), (b"STKS", depth, stks)]:
        out += tag + struct.pack("<IQ", count, len(pay)) + pay
    out += b"END!" + struct.pack("<IQQ", 0, 8, len(out))
    return bytes(out), node_off


data, node_off = chain_profile(5000, 64)
f = write(os.path.join(T, "deep.prof"), data)
for fmt in ["json", "folded", "text"]:
    expect_rejected([f, "--format", fmt], "section NODE: the stack of node 65 (at offset %d) is 65 frames deep, "
                    "more than the header's max_depth (64)" % (node_off + 64 * 12), "5000 deep, --format " + fmt)
data, _ = chain_profile(300, 300)
f = write(os.path.join(T, "deep300.prof"), data)
expect_rejected([f], "the header's max_depth (at offset 56) is 300, not a depth from 1 to 256", "max_depth 300")

data, _ = chain_profile(64, 64)
f = write(os.path.join(T, "deep64.prof"), data)
rc, out, err = run([f, "--format", "json"])
if rc != 0:
    show("stderr", err)
    fail("a chain exactly max_depth (64) deep: exit status %d" % rc)
j = json.loads(out)
expect_eq(len(j["stacks"]), 64, "stacks of the 64-deep chain")
expect_eq(max(len(s["frames"]) for s in j["stacks"]), 64, "the deepest stack's frames")
