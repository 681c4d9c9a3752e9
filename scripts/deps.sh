#!/bin/sh
# deps.sh check|install: the Debian packages memlens's build and tests need.
# check exits 1 when one is missing; install apt-gets them (sudo when not root).
# clang-14 and libclang-rt-14-dev: memlens-cc (libclang) and the libFuzzer targets (make fuzz).
PKGS="gcc g++ make pkg-config libc6-dev binutils libglib2.0-dev python3 perl sqlite3 git
      libglib2.0-bin bash coreutils diffutils util-linux libjemalloc2 libtcmalloc-minimal4 procps
      libheaptrack libdw-dev libelf-dev zlib1g-dev valgrind golang-go
      libclang-14-dev clang-14 libclang-rt-14-dev libc6-dbg ruby strace"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
case "$1" in
check)
	[ -z "$missing" ] && exit 0
	echo "memlens: missing packages:$missing" >&2
	exit 1 ;;
install)
	[ -z "$missing" ] && { echo "memlens: all packages present"; exit 0; }
	SUDO=""
	[ "$(id -u)" != 0 ] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q || true
	$SUDO apt-get install -y -q --no-install-recommends $missing ;;
*)
	echo "usage: $0 check|install" >&2; exit 2 ;;
esac
