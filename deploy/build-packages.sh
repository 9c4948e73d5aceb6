#!/usr/bin/env bash
# Build the Debian 12 packages of both sides into dist/:
#   dist/kiosk-terminal_VERSION_amd64.deb   the terminal (kiosk), its kiosk session, udev rules
#   dist/kiosk-central_VERSION_amd64.deb    the platform (kiosk-central serve) beside PostgreSQL
# Each ships a wheelhouse (this project's wheel and every dependency's, for CPython 3.11 on
# x86_64, as Debian 12's python3 is) in /opt/<package>/wheels; its postinst makes the virtual
# environment /opt/<package>/venv from it with Debian's python3 -m venv and pip --no-index: the
# target machine needs Debian's mirror and nothing else. See README "Deploying".
#
# usage: deploy/build-packages.sh [--version V] [--out DIR]
#   --version V   the packages' version (default: pyproject's, +g<commit count>.<short hash>)
#   --out DIR     default dist/
# Needs Debian 12's python3 (3.11) with python3-venv, and for pyscard (no wheel on PyPI) gcc,
# swig and libpcsclite-dev: what deploy/dev.sh setup installs. Downloads from PyPI once; the
# wheels are kept in $KIOSK_PACKAGE_CACHE (default /var/tmp/kiosk-packages.cache) for the next
# build, which then only asks the index.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=$REPO/dist
CACHE=${KIOSK_PACKAGE_CACHE:-/var/tmp/kiosk-packages.cache}
version=""

die() { echo "build-packages: $*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
    *) echo "usage: deploy/build-packages.sh [--version V] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

# The wheels must fit the target's interpreter: Debian 12's /usr/bin/python3, CPython 3.11.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || die "$PYTHON is missing: build on Debian 12 (deploy/dev.sh setup)"
fits='import sys, platform; sys.exit(sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64")'
"$PYTHON" -c "$fits" ||
  die "$PYTHON is not CPython 3.11 on x86_64 (Debian 12's): the wheels would not fit the target"

project_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
[ -n "$project_version" ] || die "no version in pyproject.toml"
if [ -z "$version" ]; then
  if git rev-parse --git-dir >/dev/null 2>&1; then
    version="$project_version+g$(git rev-list --count HEAD).$(git rev-parse --short HEAD)"
  else
    version=$project_version
  fi
fi

mkdir -p "$CACHE" "$OUT"
export PIP_CACHE_DIR=$CACHE/pip PIP_DISABLE_PIP_VERSION_CHECK=1
builder=$CACHE/build-venv
if [ ! -x "$builder/bin/pip" ]; then
  say "a build environment from $PYTHON in $builder"
  rm -rf "$builder"
  "$PYTHON" -m venv "$builder"
  "$builder/bin/python" -m pip install -q --upgrade pip wheel
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT

# This project's wheel, from what git would see (tracked and untracked, not the ignored), so
# that the build never writes into the working tree.
say "the project's wheel ($project_version)"
mkdir -p "$work/source" "$work/project"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
  tar --null -T - -cf - | tar -C "$work/source" -xf -
"$builder/bin/python" -m pip wheel -q --no-deps --wheel-dir "$work/project" "$work/source"
project_wheel=$(echo "$work"/project/kiosk_terminal-*.whl)
[ -f "$project_wheel" ] || die "no project wheel was built"

# package SIDE EXTRA DESCRIPTION: stage deploy/debian/SIDE with a wheelhouse, then dpkg-deb.
package() {
  local side=$1 extra=$2 name stage wheels size
  name=kiosk-$side
  stage=$work/$name
  say "$name $version: the wheelhouse for .[$extra]"
  cp -a "deploy/debian/$side" "$stage"
  wheels=$stage/opt/$name/wheels
  mkdir -p "$wheels"
  # pip wheel takes a wheel as it is and builds what PyPI has only as source (pyscard) here,
  # against Debian 12's headers and libraries.
  "$builder/bin/python" -m pip wheel -q --wheel-dir "$wheels" \
    "kiosk-terminal[$extra] @ file://$project_wheel"
  # What postinst installs, pinned to the wheelhouse's versions.
  (cd "$wheels" && find . -name '*.whl' | sed -E 's|^\./([^-]+)-([^-]+)-.*|\1==\2|' | sort) \
    >"$stage/opt/$name/requirements.txt"
  cp README.md CHANGELOG.md "$stage/opt/$name/"

  mkdir -p "$stage/DEBIAN"
  size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
  sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "deploy/debian/$side/DEBIAN/control" \
    >"$stage/DEBIAN/control"
  # Every file under /etc is a configuration file: dpkg keeps the administrator's changes.
  (cd "$stage" && find etc -type f | sed 's|^|/|' | sort) >"$stage/DEBIAN/conffiles"
  chmod 0755 "$stage"/DEBIAN/{postinst,prerm,postrm}
  find "$stage" -path "$stage/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
  rm -f "$OUT/${name}_"*_amd64.deb
  # Not compressed again: the wheels are zip files already, and xz over 300 MB of them would
  # take minutes for a few per cent.
  dpkg-deb --root-owner-group -Znone --build "$stage" "$OUT/${name}_${version}_amd64.deb" >/dev/null
  echo "$OUT/${name}_${version}_amd64.deb"
}

package terminal terminal
package central central
say "built in $OUT"
