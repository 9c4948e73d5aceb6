#!/usr/bin/env bash
# Set up this checkout on Debian/Ubuntu and run the terminal or its test suite.
#   deploy/dev.sh run [kiosk run options]   the terminal on simulated devices, windowed
#   deploy/dev.sh test [pytest options]     lint, types and the whole test suite
# Idempotent: system packages and the virtual environment are installed only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc swig pkg-config libpcsclite-dev pcscd vsmartcard-vpcd socat
  libglib2.0-0 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 xvfb fonts-wqy-microhei fontconfig
  postgresql
  # spoken guidance: QtTextToSpeech needs libpulse; speech-dispatcher + espeak-ng speak zh and en
  libpulse0 speech-dispatcher speech-dispatcher-espeak-ng espeak-ng
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

python_for_venv() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "Python 3.11 or newer is needed" >&2; exit 1
}

setup_venv() {
  local stamp=.venv/.installed-from
  local want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "creating the virtual environment in .venv"
  [ -x .venv/bin/python ] || "$(python_for_venv)" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
}

setup() {
  install_system_packages
  setup_venv
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    setup
    exec .venv/bin/kiosk run --simulate --windowed "$@"
    ;;
  test)
    setup
    export QT_QPA_PLATFORM=offscreen
    say "ruff"
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    say "mypy"
    .venv/bin/mypy
    say "pytest"
    .venv/bin/pytest "$@"
    ;;
  setup)
    setup
    ;;
  *)
    echo "usage: deploy/dev.sh run|test|setup [options]" >&2
    exit 2
    ;;
esac
