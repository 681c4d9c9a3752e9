#!/bin/sh
# deps.sh check|install: the Debian packages memlens's build and tests need.
# check exits 1 when one is missing; install apt-gets them (sudo when not root).
# clang-14 and libclang-rt-14-dev: memlens-cc (libclang) and the libFuzzer targets (make fuzz).
# nodejs and npm: the npm packages of web/ (the libraries `memlens report
# --format html` inlines, and its test's browser driver), installed by
# `npm ci' from web/package-lock.json; chromium: that test's browser.
PKGS="gcc g++ make pkg-config libc6-dev binutils libglib2.0-dev python3 perl sqlite3 git
      libglib2.0-bin bash coreutils diffutils util-linux libjemalloc2 libtcmalloc-minimal4 procps
      libheaptrack libdw-dev libelf-dev zlib1g-dev valgrind golang-go
      libclang-14-dev clang-14 libclang-rt-14-dev libc6-dbg ruby strace
      chromium chromium-driver"
WEB="$(cd "$(dirname "$0")/.." && pwd)/web"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm from Debian unless some are on PATH already (nodesource, nvm)
command -v node > /dev/null || missing="$missing nodejs"
command -v npm > /dev/null || missing="$missing npm"
# web/node_modules installed since web/package-lock.json last changed (npm
# ci leaves its own copy of the lock file there)
web_ok() {
	[ -f "$WEB/node_modules/.package-lock.json" ] && ! [ "$WEB/node_modules/.package-lock.json" -ot "$WEB/package-lock.json" ]
}
case "$1" in
check)
	web=""
	web_ok || web=" (and web/node_modules: npm ci)"
	[ -z "$missing$web" ] && exit 0
	echo "memlens: missing packages:$missing$web" >&2
	exit 1 ;;
install)
	if [ -n "$missing" ]; then
		SUDO=""
		[ "$(id -u)" != 0 ] && SUDO=sudo
		export DEBIAN_FRONTEND=noninteractive
		$SUDO apt-get update -q || true
		$SUDO apt-get install -y -q --no-install-recommends $missing || exit 1
	else
		echo "memlens: all packages present"
	fi
	web_ok || (cd "$WEB" && npm ci --no-audit --no-fund) ;;
*)
	echo "usage: $0 check|install" >&2; exit 2 ;;
esac
