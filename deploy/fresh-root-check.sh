#!/usr/bin/env bash
# Do the README's two commands work on a fresh Debian 12? Builds a minimal root (debootstrap
# --variant=minbase bookworm), puts this repository in it and runs there, as root:
#   (a) deploy/dev.sh test   set-up, lint, types and the whole suite; prints pytest's summary
#   (b) deploy/dev.sh run    command 1 with no display: waits until it says how to watch it,
#                            takes a screenshot with deploy/dev.sh screenshot, then stops it
# Exits non-zero when either fails. Runs on the host, as root (debootstrap, chroot, mount).
#
# usage: deploy/fresh-root-check.sh [--fresh] [--worktree] [--again] [--root DIR] [-- PYTEST_ARGS]
#   --fresh      rebuild the minimal root (kept in DIR.base and copied for each run)
#   --worktree   the working tree, uncommitted changes included (default: a git clone, i.e. what
#                is committed)
#   --again      reuse the last run's root, its packages and .venv: quicker, but not fresh
#   --root DIR   default /var/tmp/kiosk-fresh-root; logs and the screenshot go to DIR.logs/
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=/var/tmp/kiosk-fresh-root
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
fresh=0 worktree=0 again=0
pytest_args=()

usage() {
  echo "usage: deploy/fresh-root-check.sh [--fresh] [--worktree] [--again] [--root DIR]" \
    "[-- PYTEST_ARGS]" >&2
  exit 2
}
die() { echo "fresh-root-check: $*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) fresh=1 ;;
    --worktree) worktree=1 ;;
    --again) again=1 ;;
    --root)
      [ $# -ge 2 ] || usage
      ROOT=$2
      shift
      ;;
    --) shift; pytest_args=("$@"); break ;;
    *) usage ;;
  esac
  shift
done
if [[ $ROOT != /* ]] || [ "$ROOT" = / ]; then
  die "--root needs an absolute directory other than /"
fi
ROOT=${ROOT%/}
BASE=$ROOT.base LOGS=$ROOT.logs
CHECKOUT=/root/kiosk  # where the repository lies inside the root

[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap, chroot and mount need it"
command -v git >/dev/null || die "git is needed on this host to copy the repository"
for tool in unshare nsenter ip; do
  command -v "$tool" >/dev/null || die "$tool is needed on this host (util-linux, iproute2)"
done

seconds() { local start=$1; echo "$((SECONDS - start)) s"; }

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock -n 9 || die "another run uses $ROOT"

# --- mounts and processes of the root ----------------------------------------------------------

mount_in_root() {  # mount_in_root TARGET MOUNT-ARGS...
  local target=$ROOT$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
}

mounts_under() {  # the mount points under $1, deepest first
  awk -v root="$1/" 'index($2, root) == 1 { print $2 }' /proc/self/mounts | sort -r
}

processes_in_root() {
  local proc
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ] && echo "${proc#/proc/}"
  done
  return 0
}

# shellcheck disable=SC2317  # also run from the EXIT trap
stop_processes_in_root() {
  local pids
  pids=$(processes_in_root)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086  # a list of process ids, started in the root by this script
  kill -TERM $pids 2>/dev/null || true
  sleep 2
  pids=$(processes_in_root)
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

unmount_all() {
  local target
  for target in $(mounts_under "$ROOT"); do
    umount "$target" 2>/dev/null || umount -l "$target" || true
  done
}

run_pid=""
# shellcheck disable=SC2317  # run from the EXIT trap
cleanup() {
  [ -z "$run_pid" ] || kill -TERM "$run_pid" 2>/dev/null || true
  [ -d "$ROOT" ] || return 0
  stop_processes_in_root
  unmount_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM

remove_root() {  # remove_root DIR: never through a mount (a bound /dev above all)
  local dir=$1
  [ -e "$dir" ] || return 0
  unmount_all
  [ -z "$(mounts_under "$dir")" ] || die "$dir still has mounts under it; not removing it"
  rm -rf --one-file-system "$dir"
}

# --- the minimal root ------------------------------------------------------------------------

build_base() {
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on this host"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
  fi
  local start=$SECONDS
  say "building a minimal Debian 12 root in $BASE (debootstrap --variant=minbase bookworm)"
  remove_root "$BASE.partial"
  debootstrap --variant=minbase bookworm "$BASE.partial" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 ||
    die "debootstrap failed: see $LOGS/debootstrap.log"
  mv "$BASE.partial" "$BASE"  # only a finished root is ever reused
  say "minimal root built in $(seconds "$start")"
}

# What a fresh Debian 12 machine has beyond the minimal root, and no more: the installer's
# sources (updates and security too), /etc/hosts, and name service.
configure_root() {
  cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
EOF
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # No init system runs in a chroot: packages must not start their services (a real machine
  # would). The tests start pcscd and PostgreSQL themselves.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"

  # From the host, only the workplace's registry access: its CA bundle and pip configuration.
  # The bundle also goes in as single certificates under /usr/local/share/ca-certificates, so
  # that installing ca-certificates in the root (update-ca-certificates) keeps them.
  mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/usr/local/share/ca-certificates/host"
  cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
  awk -v dir="$ROOT/usr/local/share/ca-certificates/host" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/%03d.crt", dir, n) }
    file { print > file }
    /-----END CERTIFICATE-----/ { close(file); file = "" }
  ' /etc/ssl/certs/ca-certificates.crt
  [ ! -e /etc/pip.conf ] || cp /etc/pip.conf "$ROOT/etc/pip.conf"
  if [ -d /etc/xdg/pip ]; then
    mkdir -p "$ROOT/etc/xdg"
    cp -r /etc/xdg/pip "$ROOT/etc/xdg/"
  fi
}

copy_repository() {
  local target=$ROOT$CHECKOUT venv_kept=$ROOT/root/.kiosk-venv-kept
  [ ! -d "$target/.venv" ] || mv "$target/.venv" "$venv_kept"
  rm -rf "$target"
  if [ "$worktree" = 1 ]; then
    say "copying the working tree of $REPO (uncommitted changes included)"
    mkdir -p "$target"
    # What git would see: tracked and untracked files, not the ignored (.venv, caches, builds).
    git -C "$REPO" ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' file; do
        if [ -e "$REPO/$file" ] || [ -L "$REPO/$file" ]; then printf '%s\0' "$file"; fi
      done |
      tar -C "$REPO" --null -T - -cf - | tar -C "$target" -xf -
  else
    say "cloning what is committed in $REPO ($(git -C "$REPO" rev-parse --short HEAD))"
    git clone -q --no-hardlinks "$REPO" "$target"
  fi
  [ ! -d "$venv_kept" ] || mv "$venv_kept" "$target/.venv"
}

# A command in the root, as root, with a login's clean environment (nothing of this host's):
#   in_root COMMAND...
# The same in a network of its own, with only loopback, so that the suite's fixed ports (vpcd's
# 35963, VNC's 5900) and X displays do not meet those of other work on this host:
#   "${ISOLATED[@]}" "${IN_ROOT[@]}" COMMAND...   (one simple command: with &, $! is its id)
IN_ROOT=(
  chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb
  LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  /bin/bash -c "cd $CHECKOUT && exec \"\$@\"" bash
)
# shellcheck disable=SC2016  # expanded by that sh
ISOLATED=(unshare --net -- /bin/sh -c 'ip link set lo up && exec "$@"' sh)
in_root() { "${IN_ROOT[@]}" "$@"; }

# A screenshot of (b)'s display, from inside its network: X clients try the display's abstract
# socket, which belongs to a network namespace, before its file. Prints its number of colours.
screenshot_colours() {
  nsenter --net="/proc/$run_pid/ns/net" -- chroot "$ROOT" /usr/bin/env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 /bin/bash -c "cd $CHECKOUT &&
      deploy/dev.sh screenshot /tmp/fresh-root-check.png >/dev/null &&
      identify -format %k /tmp/fresh-root-check.png"
}

pytest_summary() {  # pytest's last line ("=== 3 failed, 500 passed in 612.3s ===") in log $1
  grep -E '^=* ?([0-9].*\b(passed|failed|errors?|skipped)\b|no tests ran).* in [0-9.]+s' "$1" |
    tail -n 1 | grep . || echo "no pytest summary"
}

# --- the run ---------------------------------------------------------------------------------

mkdir -p "$LOGS"
rm -f "$LOGS"/{setup,test,pytest,run}.log "$LOGS/screenshot.png"
if [ "$fresh" = 1 ] || [ ! -d "$BASE" ]; then
  remove_root "$BASE"
  build_base
fi
if [ "$again" = 1 ] && [ -d "$ROOT" ]; then
  say "reusing the last run's root $ROOT (not fresh)"
else
  start=$SECONDS
  remove_root "$ROOT"
  cp -a "$BASE" "$ROOT"
  say "copied the minimal root to $ROOT in $(seconds "$start")"
fi
configure_root
copy_repository

mount_in_root /proc -t proc proc
mount_in_root /sys -t sysfs sysfs
mount_in_root /dev --bind /dev
mount_in_root /dev/pts --bind /dev/pts
mount_in_root /dev/shm -t tmpfs -o mode=1777,nosuid,nodev shm

failed=0

# The set-up needs the network (Debian's mirror, PyPI); the suite and the terminal do not. (It
# is also the first step of (a) and (b): there it finds everything in place.)
say "set-up: deploy/dev.sh setup, deploy/each-side-alone.sh --prepare (log: $LOGS/setup.log)"
start=$SECONDS
# Everything that needs the registries happens here: (a) and (b) run without a network.
if in_root deploy/dev.sh setup >"$LOGS/setup.log" 2>&1 &&
  in_root deploy/each-side-alone.sh --prepare >>"$LOGS/setup.log" 2>&1; then
  say "set-up passed in $(seconds "$start")"
else
  failed=1
  say "set-up FAILED after $(seconds "$start"); its last lines:"
  tail -n 15 "$LOGS/setup.log" >&2
fi

say "(a) deploy/dev.sh test ${pytest_args[*]} (log: $LOGS/test.log)"
start=$SECONDS
status=0
"${ISOLATED[@]}" "${IN_ROOT[@]}" deploy/dev.sh test "${pytest_args[@]}" >"$LOGS/test.log" 2>&1 ||
  status=$?
if [ "$status" -eq 0 ]; then
  say "(a) passed in $(seconds "$start"): $(pytest_summary "$LOGS/test.log")"
else
  failed=1
  say "(a) FAILED (exit $status) after $(seconds "$start"): $(pytest_summary "$LOGS/test.log")"
  grep -E '^(FAILED|ERROR) ' "$LOGS/test.log" >&2 || tail -n 15 "$LOGS/test.log" >&2
  if ! grep -q '^==> pytest' "$LOGS/test.log"; then
    # dev.sh test stops at the first failing step: the suite still says what a fresh machine lacks.
    say "(a) the suite alone, as dev.sh test would run it (log: $LOGS/pytest.log)"
    start=$SECONDS
    status=0
    "${ISOLATED[@]}" "${IN_ROOT[@]}" env QT_QPA_PLATFORM=offscreen .venv/bin/pytest \
      "${pytest_args[@]}" >"$LOGS/pytest.log" 2>&1 || status=$?
    say "(a) the suite alone: exit $status after $(seconds "$start"):" \
      "$(pytest_summary "$LOGS/pytest.log")"
    grep -E '^(FAILED|ERROR) ' "$LOGS/pytest.log" >&2 || true
  fi
fi

say "(b) deploy/dev.sh run without a display (log: $LOGS/run.log)"
start=$SECONDS
"${ISOLATED[@]}" "${IN_ROOT[@]}" deploy/dev.sh run >"$LOGS/run.log" 2>&1 &
run_pid=$!  # deploy/dev.sh's own: unshare, sh, chroot, env and bash each exec the next
run_failure=""
for ((i = 0; i < 300; i++)); do
  grep -q "screenshot:" "$LOGS/run.log" 2>/dev/null && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 1
done
if ! grep -q "screenshot:" "$LOGS/run.log"; then
  run_failure="it did not say how to watch the display"
else
  colours=0
  for ((i = 0; i < 60; i++)); do  # until the terminal has painted: more than a blank screen
    colours=$(screenshot_colours 2>>"$LOGS/run.log" || echo 0)
    [ "$colours" -gt 16 ] && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 2
  done
  if [ "$colours" -gt 16 ]; then
    # Then the whole of it: the first paint comes before the devices and the voice are up.
    sleep 20
    colours=$(screenshot_colours 2>>"$LOGS/run.log" || echo 0)
  fi
  cp "$ROOT/tmp/fresh-root-check.png" "$LOGS/screenshot.png" 2>/dev/null || true
  [ "$colours" -gt 16 ] || run_failure="the screenshot shows no terminal ($colours colours)"
fi
if kill -0 "$run_pid" 2>/dev/null; then
  kill -TERM "$run_pid"
  status=0
  for ((i = 0; i < 60; i++)); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$run_pid" 2>/dev/null; then
    run_failure=${run_failure:-"it did not stop within 30 s of SIGTERM"}
  else
    wait "$run_pid" || status=$?
    [ "$status" -eq 0 ] || run_failure=${run_failure:-"it exited $status after SIGTERM"}
  fi
else
  status=0
  wait "$run_pid" || status=$?
  run_failure=${run_failure:-"it stopped by itself (exit $status)"}
fi
run_pid=""
left="" others=""
for pid in $(processes_in_root); do
  name=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  case "$name" in
    Xvfb | x11vnc) left+=" $name" ;;
    ?*) others+=" $name($pid)" ;;
  esac
done
[ -z "$left" ] || run_failure=${run_failure:-"left running after it stopped:$left"}
[ -z "$others" ] || say "(b) note: still running in the root after it stopped:$others"
if [ -z "$run_failure" ]; then
  say "(b) passed in $(seconds "$start"): screenshot $LOGS/screenshot.png"
else
  failed=1
  say "(b) FAILED after $(seconds "$start"): $run_failure; the log's last lines:"
  tail -n 15 "$LOGS/run.log" >&2
fi

exit "$failed"
