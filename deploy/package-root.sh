#!/usr/bin/env bash
# Install packages into a fresh Debian 12 root, as an administrator would on a new machine:
# a minimal root (debootstrap --variant=minbase bookworm from Debian's mirror, built once and
# kept in ROOT.base), copied anew for each run, then `apt-get install ./PACKAGE.deb...` there,
# which takes their dependencies (and what they recommend) from Debian's mirror. The root stays
# for inspection: tests/deploy/test_packages.py checks it.
#
# usage: deploy/package-root.sh [--root DIR] [--base DIR] [--with PKG]... DEB...
#   --root DIR   default /var/tmp/kiosk-package-root
#   --base DIR   the minimal root to copy (built when missing), default ROOT.base: two roots
#                (tests/deploy/test_packages.py's and test_boot.py's) share one
#   --with PKG   a Debian package to install after the DEBs, without what it recommends
#                (repeatable): a test's tools, not the administrator's installation
# Runs as root (debootstrap, chroot, mount); mounts only in a mount namespace of its own, so
# nothing stays mounted when it ends. Debian's packages it downloads are kept in
# $KIOSK_PACKAGE_CACHE/apt (default /var/tmp/kiosk-packages.cache) for the next run: the root
# is fresh each time, its downloads need not be.
set -euo pipefail

ROOT=/var/tmp/kiosk-package-root
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
CACHE=${KIOSK_PACKAGE_CACHE:-/var/tmp/kiosk-packages.cache}

die() { echo "package-root: $*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
usage() {
  echo "usage: deploy/package-root.sh [--root DIR] [--base DIR] [--with PKG]... DEB..." >&2
  exit 2
}

args=("$@")
debs=()
extra=()
BASE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage; ROOT=$2; shift ;;
    --base) [ $# -ge 2 ] || usage; BASE=${2%/}; shift ;;
    --with) [ $# -ge 2 ] || usage; extra+=("$2"); shift ;;
    -*) usage ;;
    *) debs+=("$(realpath "$1")") ;;
  esac
  shift
done
[ ${#debs[@]} -gt 0 ] || usage
if [[ $ROOT != /* ]] || [ "$ROOT" = / ]; then
  die "--root needs an absolute directory other than /"
fi
ROOT=${ROOT%/}
BASE=${BASE:-$ROOT.base}
[[ $BASE == /* ]] && [ "$BASE" != "$ROOT" ] || die "--base needs an absolute directory other than the root"
[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap, chroot and mount need it"
for deb in "${debs[@]}"; do
  [ -f "$deb" ] || die "no such package: $deb"
done

# Everything below in a mount namespace of its own: its mounts go when it ends.
if [ -z "${KIOSK_PACKAGE_ROOT_NS:-}" ]; then
  exec unshare --mount --propagation private -- env KIOSK_PACKAGE_ROOT_NS=1 "$0" "${args[@]}"
fi

seconds() { echo "$((SECONDS - $1)) s"; }
mkdir -p "$(dirname "$ROOT")" "$CACHE/apt/partial"
exec 9>"$ROOT.lock"
flock -n 9 || die "another run uses $ROOT"

# The base is built once, by whichever run comes first; the other waits for it.
exec 8>"$BASE.lock"
flock 8
if [ ! -d "$BASE" ]; then
  start=$SECONDS
  say "building a minimal Debian 12 root in $BASE (debootstrap --variant=minbase bookworm)"
  rm -rf --one-file-system "$BASE.partial"
  debootstrap --variant=minbase bookworm "$BASE.partial" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 ||
    die "debootstrap failed: see $ROOT.debootstrap.log"
  mv "$BASE.partial" "$BASE"  # only a finished root is ever reused
  say "minimal root built in $(seconds "$start")"
fi
flock -u 8

start=$SECONDS
rm -rf --one-file-system "$ROOT"
cp -a "$BASE" "$ROOT"
# What a fresh Debian 12 machine has beyond the minimal root: the installer's sources, a hosts
# file and name service. No init system runs in a chroot: packages must not start services.
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
EOF
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

mount -t proc proc "$ROOT/proc"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"
mount --bind "$CACHE/apt" "$ROOT/var/cache/apt/archives"
mkdir -p "$ROOT/tmp/kiosk-packages"
in_root_debs=()
for deb in "${debs[@]}"; do
  cp "$deb" "$ROOT/tmp/kiosk-packages/"
  in_root_debs+=("/tmp/kiosk-packages/${deb##*/}")
done

in_root() {
  ${offline:+unshare --net --} chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
say "installing ${debs[*]##*/} ${extra[*]} in $ROOT (log: $ROOT.install.log)"
# Downloaded with the network, installed without it (a network namespace of its own), as on a
# machine of its own: what the packages set up must not see the host's services. PostgreSQL's
# new cluster takes the first free port, and a host's PostgreSQL on 5432 would push it to 5433,
# where the platform's settings do not look.
install_packages() {
  local offline=""
  in_root apt-get update -q &&
    in_root apt-get install -y -q --download-only "${in_root_debs[@]}" &&
    if [ ${#extra[@]} -gt 0 ]; then
      in_root apt-get install -y -q --download-only --no-install-recommends "${extra[@]}"
    fi &&
    offline=1 &&
    in_root apt-get install -y -q "${in_root_debs[@]}" &&
    if [ ${#extra[@]} -gt 0 ]; then
      in_root apt-get install -y -q --no-install-recommends "${extra[@]}"
    fi
}
# apt locks its archive: two roots sharing the cache install one after the other.
exec 7>"$CACHE/apt.lock"
flock 7
if ! install_packages >"$ROOT.install.log" 2>&1; then
  tail -n 20 "$ROOT.install.log" >&2
  die "the installation failed: see $ROOT.install.log"
fi
flock -u 7
rm -rf "$ROOT/tmp/kiosk-packages"
say "installed in $(seconds "$start")"
