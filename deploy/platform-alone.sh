#!/usr/bin/env bash
# The platform installs and runs without the terminal's stack: a virtual environment with only
# `pip install '.[central,test]'` runs kiosk-central and the platform's tests, and can import none
# of Qt, OpenCV or the device libraries. `deploy/dev.sh test` runs this after the main suite.
#   deploy/platform-alone.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-central
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

stamp="$VENV/.installed-from"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating the platform-only environment in $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # Not editable: the platform as a server would get it. The tests still read the source tree.
  "$VENV/bin/python" -m pip install -q '.[central,test]'
  echo "$want" > "$stamp"
fi

say "platform alone: nothing of the terminal's stack is importable"
"$VENV/bin/python" - <<'PY'
import importlib.util
import sys

present = [m for m in ("PySide6", "shiboken6", "cv2", "smartcard", "serial", "escpos", "usb",
                       "segno", "PIL") if importlib.util.find_spec(m) is not None]
if present:
    sys.exit(f"the platform-only environment can import {', '.join(present)}")
import central.api  # noqa: F401  the app module itself, with everything it imports
print("no Qt, OpenCV or device library; central.api imports")
PY
"$VENV/bin/kiosk-central" --help > /dev/null
echo "kiosk-central --help: ok" >&2

say "platform alone: the platform's tests"
# pytest-qt is not here, so its ini option is unknown to this pytest: that is expected.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -W ignore::pytest.PytestConfigWarning \
  tests/central "$@"
