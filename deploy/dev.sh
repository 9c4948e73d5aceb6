#!/usr/bin/env bash
# Set up this checkout on Debian/Ubuntu and run the terminal or its test suite.
#   deploy/dev.sh run [kiosk run options]   the terminal on simulated devices, windowed; with no
#                                           display, on a virtual one to watch over VNC
#   deploy/dev.sh screenshot [FILE]         a PNG of that virtual display
#   deploy/dev.sh test [pytest options]     lint, types and the whole test suite
#   deploy/dev.sh setup                     only the set-up
# Idempotent: system packages and the virtual environment are installed only when missing.
# APT_PACKAGES is what a fresh Debian 12 (a debootstrap minbase) lacks: the suite's
# tests/unit/test_fresh_machine.py fails when the code, the tests or these scripts run a program
# that no package here (or one every Debian root has) ships. deploy/fresh-root-check.sh tries both
# commands on such a root.
set -euo pipefail
caller_dir=$PWD  # a screenshot's FILE is relative to where the command was typed
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc swig pkg-config libpcsclite-dev pcscd vsmartcard-vpcd socat
  libglib2.0-0 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 xvfb fonts-wqy-microhei fontconfig
  postgresql
  # the operators' console in a real browser (tests/central/test_console_browser.py, Playwright)
  chromium
  # pgrep (tests/integration/test_sync.py): procps is "important", not in a minimal root
  procps
  # HTTPS (pip's cert setting, a platform over TLS) needs the system's CA bundle
  ca-certificates
  # command 1 without a display: xvfb-run needs xauth (xvfb only recommends it); the virtual
  # display is watched over VNC (x11vnc) and photographed with ImageMagick's import
  xauth x11vnc imagemagick
  # spoken guidance: QtTextToSpeech needs libpulse; speech-dispatcher + espeak-ng speak zh and en
  libpulse0 speech-dispatcher speech-dispatcher-espeak-ng espeak-ng
  # the Debian packages (tests/deploy): built from what git sees, installed in a fresh Debian 12
  # root (debootstrap), their units verified (systemd-analyze), the root booted under systemd
  # (systemd-nspawn), the kiosk session's screen set-up (xset, xrandr, xinput)
  git debootstrap systemd systemd-container x11-xserver-utils xinput
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

# Command 1 without a display: a virtual one (Xvfb) and a VNC server on loopback to watch it. The
# display number goes to this file so that "deploy/dev.sh screenshot" finds the display.
DISPLAY_STATE=.venv/virtual-display
xvfb_pid="" vnc_pid="" kiosk_pid="" display_dir="" stop_requests=0

die() { echo "deploy/dev.sh: $*" >&2; exit 1; }

# Wait up to $2 seconds for the check $1 (a shell command) to succeed while process $3 lives.
wait_until() {
  local check=$1 seconds=$2 pid=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    eval "$check" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop_terminal() {
  # The terminal stops cleanly on SIGTERM; a second Ctrl-C does not wait for that any more.
  stop_requests=$((stop_requests + 1))
  [ -n "$kiosk_pid" ] || exit 130
  if [ "$stop_requests" -gt 1 ]; then
    kill -KILL "$kiosk_pid" 2>/dev/null || true
  else
    kill -TERM "$kiosk_pid" 2>/dev/null || true
  fi
}

remove_virtual_display() {
  local pid
  for pid in "$kiosk_pid" "$vnc_pid" "$xvfb_pid"; do
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # Only this run's record: another run may have started a display since.
  if [ -n "$xvfb_pid" ] && grep -qx "xvfb_pid=$xvfb_pid" "$DISPLAY_STATE" 2>/dev/null; then
    rm -f "$DISPLAY_STATE"
  fi
  [ -z "$display_dir" ] || rm -rf "$display_dir"
}

run_on_virtual_display() {
  local display port status again
  command -v Xvfb >/dev/null || die "Xvfb is missing: run deploy/dev.sh setup"
  command -v x11vnc >/dev/null || die "x11vnc is missing: run deploy/dev.sh setup"
  display_dir=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-display.XXXXXX")
  # Not "exec": the virtual display and the VNC server are stopped when the terminal stops.
  trap remove_virtual_display EXIT
  trap stop_terminal INT TERM HUP

  # Xvfb and x11vnc in a session of their own: a Ctrl-C reaches only the terminal (and this
  # script), so the display stays up until the terminal has stopped, and goes afterwards.
  # -displayfd: Xvfb takes the first free display number and writes it once it accepts clients.
  setsid Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp \
    3>"$display_dir/number" >"$display_dir/xvfb.log" 2>&1 &
  xvfb_pid=$!
  # shellcheck disable=SC2016  # expanded by wait_until's eval
  wait_until '[ -s "$display_dir/number" ]' 15 "$xvfb_pid" ||
    die "Xvfb did not start: $(tail -n 1 "$display_dir/xvfb.log")"
  display=":$(head -n 1 "$display_dir/number")"

  # Loopback only and no password: whoever can log in to this machine may watch and touch.
  # -autoport: the first free port from 5900; x11vnc prints PORT=<n> once it listens.
  setsid x11vnc -display "$display" -localhost -autoport 5900 -forever -shared -nopw -quiet \
    >"$display_dir/vnc.out" 2>"$display_dir/vnc.log" &
  vnc_pid=$!
  # shellcheck disable=SC2016  # expanded by wait_until's eval
  wait_until 'grep -qs "^PORT=" "$display_dir/vnc.out"' 15 "$vnc_pid" ||
    die "x11vnc did not start: $(tail -n 1 "$display_dir/vnc.log")"
  port=$(sed -n 's/^PORT=//p' "$display_dir/vnc.out" | head -n 1)
  printf 'display=%s\nvnc_port=%s\nxvfb_pid=%s\n' "$display" "$port" "$xvfb_pid" >"$DISPLAY_STATE"

  DISPLAY=$display .venv/bin/kiosk run --simulate --windowed "$@" &
  kiosk_pid=$!
  say "no display here: the terminal runs on a virtual one ($display, 1920x1080)"
  cat >&2 <<EOF
    watch it:    a VNC viewer on localhost:$port (this machine only, no password)
    from afar:   ssh -L $port:localhost:$port $(id -un)@$(uname -n), then view localhost:$port
    screenshot:  deploy/dev.sh screenshot /tmp/kiosk.png
    stop:        Ctrl-C
EOF
  # "wait" returns early (above 128) when a signal's trap has run: wait again until the terminal
  # is gone, and then for its own exit status, which bash keeps for a "wait" on its id.
  while :; do
    status=0
    wait "$kiosk_pid" || status=$?
    kill -0 "$kiosk_pid" 2>/dev/null && continue
    if [ "$status" -gt 128 ] && [ "$stop_requests" -gt 0 ]; then
      again=0
      wait "$kiosk_pid" 2>/dev/null || again=$?
      [ "$again" -eq 127 ] || status=$again  # 127: that status was the terminal's own
    fi
    break
  done
  kiosk_pid=""
  return "$status"
}

screenshot() {
  local file=${1:-/tmp/kiosk-screenshot.png} key value display="" xvfb=""
  [ $# -le 1 ] || die "usage: deploy/dev.sh screenshot [FILE]"
  [[ $file = /* ]] || file=$caller_dir/$file
  if [ -r "$DISPLAY_STATE" ]; then
    while IFS='=' read -r key value; do
      case "$key" in
        display) display=$value ;;
        xvfb_pid) xvfb=$value ;;
      esac
    done <"$DISPLAY_STATE"
  fi
  if [ -z "$display" ] || [ -z "$xvfb" ] || ! kill -0 "$xvfb" 2>/dev/null; then
    die "no virtual display is running: start one with deploy/dev.sh run (without DISPLAY)"
  fi
  command -v import >/dev/null || die "import (ImageMagick) is missing: run deploy/dev.sh setup"
  DISPLAY=$display import -window root "png:$file" || die "could not take a screenshot of $display"
  echo "$file"
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    setup
    # With a display (or a Qt platform chosen by hand), the terminal goes there as it always did.
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] ||
      { [ -n "${QT_QPA_PLATFORM:-}" ] && [ "$QT_QPA_PLATFORM" != xcb ]; }; then
      exec .venv/bin/kiosk run --simulate --windowed "$@"
    fi
    run_on_virtual_display "$@"
    ;;
  screenshot)
    screenshot "$@"
    ;;
  test)
    setup
    export QT_QPA_PLATFORM=offscreen
    say "ruff"
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    say "import contracts"  # README "Architecture": pyproject's [tool.importlinter]
    .venv/bin/lint-imports
    say "mypy"
    .venv/bin/mypy
    # README "Installing one side": each side in an environment of its own, without the other's
    # stack. Before the suite, so that its summary is the last line (CI reads it). Not given the
    # pytest options: those select from the whole suite.
    deploy/each-side-alone.sh
    say "pytest"
    .venv/bin/pytest "$@"
    ;;
  setup)
    setup
    ;;
  *)
    echo "usage: deploy/dev.sh run|screenshot|test|setup [options]" >&2
    exit 2
    ;;
esac
