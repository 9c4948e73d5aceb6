"""The translation files: the screens read Qt's compiled .qm, code without Qt reads the .ts
sources; both must say the same for every key, and each .qm must be what lrelease makes of its
.ts today (run deploy/translations.sh after editing a .ts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.texts import LANGUAGES, Texts, _table
from screens.translation import QtTexts

LOCALES = Path(__file__).resolve().parents[2] / "kiosk" / "locales"


@pytest.mark.parametrize("language", LANGUAGES)
def test_qt_and_the_sources_agree_on_every_key(language: str) -> None:
    qt, plain = QtTexts(language), Texts(language)
    keys = sorted(_table(language))
    assert len(keys) > 200
    different = [k for k in keys if qt.lookup(k) != plain.lookup(k)]
    assert different == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_file_is_up_to_date(language: str, tmp_path: Path) -> None:
    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    fresh = tmp_path / f"kiosk_{language}.qm"
    subprocess.run([str(lrelease), "-silent", str(LOCALES / f"kiosk_{language}.ts"),
                    "-qm", str(fresh)], check=True, timeout=60)  # fmt: skip
    assert fresh.read_bytes() == (LOCALES / f"kiosk_{language}.qm").read_bytes()


def test_configuration_texts_win_over_the_files() -> None:
    t = QtTexts("en", {"service.x.name": "Pet licence"})
    assert t("service.x.name") == "Pet licence"
    assert t("catalogue.title") == "Please choose a service"
