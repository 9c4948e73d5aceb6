#!/usr/bin/env bash
# Compile the translation sources (kiosk/locales/kiosk_*.ts, edited with Qt Linguist or any XML
# editor) to the .qm files the screens load. Run after changing a .ts; tests/qt/test_translations.py
# fails while a .qm is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
for ts in kiosk/locales/kiosk_*.ts; do
  .venv/bin/pyside6-lrelease -silent "$ts" -qm "${ts%.ts}.qm"
done
