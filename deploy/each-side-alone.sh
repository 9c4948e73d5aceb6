#!/usr/bin/env bash
# Each side installs and runs without the other's stack (README "Installing one side"):
# - the platform alone, `pip install '.[central,test]'`: kiosk-central and the platform's tests
#   run, and none of Qt, OpenCV or the device libraries can be imported;
# - the terminal alone, `pip install '.[terminal]'`: kiosk renders every screen, records a
#   transaction and prints a test receipt, and none of FastAPI, SQLAlchemy or psycopg can be
#   imported.
# `deploy/dev.sh test` runs this after the main suite.
#   deploy/each-side-alone.sh [pytest options for the platform's tests]
#   deploy/each-side-alone.sh --prepare    only make the two environments (needs the registries)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# A virtual environment with only the given extras, remade when pyproject.toml changes. Not
# editable: as a server or a terminal would get it. (The tests still read the source tree.)
fresh_env() {
  local venv=$1 extras=$2 stamp want
  stamp="$venv/.installed-from"
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "creating $venv with only .[$extras]"
  rm -rf "$venv"
  # The interpreter dev.sh chose for .venv (3.11 or newer), else the system's.
  local python=python3
  [ -x .venv/bin/python ] && python=.venv/bin/python
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q ".[$extras]"
  rm -rf build  # setuptools' staging folder from the non-editable build
  echo "$want" > "$stamp"
}

# Fails naming every module of the list that the environment can import.
none_importable() {
  local venv=$1
  shift
  "$venv/bin/python" - "$@" <<'PY'
import importlib.util
import sys

present = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is not None]
if present:
    sys.exit(f"{sys.executable}: can import {', '.join(present)}")
PY
}

fresh_env .venv-central central,test
fresh_env .venv-terminal terminal
[ "${1:-}" = "--prepare" ] && exit 0

say "the platform alone"
none_importable .venv-central PySide6 shiboken6 cv2 smartcard serial escpos usb segno PIL
.venv-central/bin/python -c "import central.api"  # the app module, with all it imports
.venv-central/bin/kiosk-central --help > /dev/null
# pytest-qt is not here, so its ini option is unknown to this pytest: that is expected.
.venv-central/bin/python -m pytest -q -p no:cacheprovider -W ignore::pytest.PytestConfigWarning \
  tests/central "$@"

say "the terminal alone"
none_importable .venv-terminal fastapi starlette uvicorn sqlalchemy psycopg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen KIOSK_DATA_DIR="$work/data"
.venv-terminal/bin/kiosk gallery --out "$work/gallery"
.venv-terminal/bin/kiosk queue enqueue --service feedback --payload '{"alone": true}' > /dev/null
# Read whole before grep: grep -q leaving early would break the pipe under pipefail.
status=$(.venv-terminal/bin/kiosk queue status)
grep -q '^transactions: 1$' <<< "$status"
.venv-terminal/bin/kiosk diag print-test --driver escpos-file --path "$work/receipt.bin"
test -s "$work/receipt.bin"
echo "terminal alone: screens rendered, a transaction recorded, a receipt printed" >&2
