# scripts/lib.sh - shared by scripts/test and scripts/demo (POSIX sh, sourced).
#
# Installs the Debian 12 packages the build and the tests need (as root or
# through sudo), regenerates the build system and builds out of tree.
# Callers set SRCDIR (the source tree) before sourcing.

PATH=/usr/sbin:/sbin:$PATH
export PATH

# Debian packages: build, libraries, unit tests, Postfix and clients for the
# end-to-end tests, miltertest for protocol tests, redis for the shared store,
# clang + compiler-rt for the fuzz build, valgrind for leak hunting,
# iproute2 (ss) for the tests' port checks; libunbound (+ libevent-dev, which
# its pkg-config file names) for egressctl diagnose, nsd and python3-spf
# (the SPF oracle) for its end-to-end test; libmicrohttpd for the daemon's
# /metrics endpoint, curl and prometheus (promtool) for the metrics test;
# libvectorscan-dev for the one-pass bounce pattern matcher (optional:
# --without-vectorscan).
# Sendmail conflicts with postfix, so tests/e2e/sendmail.sh unpacks
# sendmail-bin and sendmail-cf privately (apt-get download); listed here are
# m4 (to build sendmail.cf) and the libraries of sendmail-bin's Depends: line.
# python3 recomputes BATV tags in tests/e2e/batv.sh; systemd
# (systemd-analyze) for the unit checks, and the Debian packaging tools for
# the package test.
EGRESS_DEB_PACKAGES="build-essential autoconf automake libtool pkg-config
libmilter-dev libpcre2-dev libconfig-dev check liblmdb-dev libhiredis-dev
libpsl-dev libvectorscan-dev postfix swaks miltertest redis-server clang
libclang-rt-14-dev valgrind iproute2 libunbound-dev libevent-dev nsd
python3-spf libmicrohttpd-dev curl prometheus m4 libwrap0 liblockfile1
libdb5.3 libldap-2.5-0 libsasl2-2 libnsl2 python3 systemd debhelper devscripts
lintian fakeroot dpkg-dev"

# Only the benchmarks (bench/*.sh) use these: Sisimai, the bounce parser
# bench/dsn_bench.sh compares against. install_deps bench installs them too.
EGRESS_BENCH_PACKAGES="libsisimai-perl"

: "${JOBS:=2}"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# as_root CMD...: run CMD as root (directly, or with sudo when available).
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# missing_packages: print the Debian packages of the list not installed.
missing_packages() {
	for _pkg in $EGRESS_DEB_PACKAGES; do
		_st=$(dpkg-query -W -f='${Status}' "$_pkg" 2>/dev/null || true)
		case $_st in
		*" installed") ;;
		*) printf '%s\n' "$_pkg" ;;
		esac
	done
}

# install_deps: apt-get install whatever is missing. Postfix is installed
# without its configuration dialog and without configuring the system
# instance (tests run their own private instance).
install_deps() {
	[ "${1:-}" = bench ] && EGRESS_DEB_PACKAGES="$EGRESS_DEB_PACKAGES $EGRESS_BENCH_PACKAGES"
	if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
		echo "not a Debian system: install the build dependencies yourself"
		return 0
	fi
	_missing=$(missing_packages | tr '\n' ' ')
	if [ -z "$_missing" ]; then
		echo "all packages present"
		return 0
	fi
	echo "installing: $_missing"
	echo "postfix postfix/main_mailer_type select No configuration" |
		as_root debconf-set-selections
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die "apt-get update failed"
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $_missing || die "apt-get install failed"
}

# bootstrap: regenerate the build system in $SRCDIR (always, like a clean
# clone needs). Refuses a tree configured in place: out-of-tree builds
# cannot share a source directory that holds its own config.status.
bootstrap() {
	if [ -f "$SRCDIR/config.status" ]; then
		die "$SRCDIR is configured in place; run 'make distclean' there first (builds go to build*/ directories)"
	fi
	(cd "$SRCDIR" && autoreconf -fi) || die "autoreconf failed"
}

# configure_build DIR [CONFIGURE_ARGS...]: (re)configure a build directory
# under $SRCDIR. A variable assignment such as CC=clang may lead the args.
configure_build() {
	_dir=$SRCDIR/$1; shift
	mkdir -p "$_dir" || die "mkdir $_dir"
	(cd "$_dir" && "$SRCDIR/configure" "$@") >"$_dir/configure.out" 2>&1 || {
		tail -n 30 "$_dir/configure.out" >&2
		die "configure failed in $_dir (log: $_dir/configure.out)"
	}
}

# make_in DIR TARGET...: make in a build directory with $JOBS jobs.
make_in() {
	_dir=$SRCDIR/$1; shift
	make -C "$_dir" -j"$JOBS" "$@"
}

# build DIR [CONFIGURE_ARGS...]: configure and make.
build() {
	_b=$1
	configure_build "$@"
	make_in "$_b" || die "build failed in $SRCDIR/$_b"
}
