"""The units' hardening, held at its level: ``systemd-analyze security --offline`` of each shipped
unit file stays at or under its exposure (README "Deploying": kiosk.service 1.7, kiosk-central
1.1), and the terminal's unit keeps the settings the watchdog and the device list rely on.
(``systemd-analyze verify`` runs against the installed root in test_packages.py.)"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEBIAN = Path(__file__).resolve().parents[2] / "deploy/debian"
UNITS = {
    DEBIAN / "terminal/lib/systemd/system/kiosk.service": 1.7,
    DEBIAN / "central/lib/systemd/system/kiosk-central.service": 1.1,
}

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)"
)


def exposure(unit: Path) -> float:
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    ).stdout  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", out)
    assert found, out[-2000:]
    return float(found.group(1))


@needs_analyze
@pytest.mark.parametrize("unit", sorted(UNITS), ids=lambda p: p.name)
def test_the_exposure_stays_where_it_is(unit: Path) -> None:
    assert exposure(unit) <= UNITS[unit]


@needs_analyze
def test_the_score_sees_hardening_taken_away(tmp_path: Path) -> None:
    """Given the terminal's unit without its capability, system call and device limits, the
    check above fails."""
    unit = next(iter(UNITS))
    weaker = "\n".join(
        line
        for line in unit.read_text().splitlines()
        if not line.startswith(("CapabilityBoundingSet", "SystemCallFilter", "DevicePolicy"))
    )
    (tmp_path / unit.name).write_text(weaker)
    assert exposure(tmp_path / unit.name) > UNITS[unit]


def _service(unit: Path) -> dict[str, list[str]]:
    """The [Service] settings of *unit*, each with every value it is given."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in unit.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith(("#", " ")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_the_terminal_unit_is_supervised_as_the_watchdog_expects() -> None:
    unit = DEBIAN / "terminal/lib/systemd/system/kiosk.service"
    service = _service(unit)
    for key, value in {
        "Type": "notify", "NotifyAccess": "main", "Restart": "always", "User": "kiosk",
        "ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
        "ProtectHome": "yes", "DevicePolicy": "closed", "CapabilityBoundingSet": "",
        "StateDirectory": "kiosk",
    }.items():  # fmt: skip
        assert service.get(key) == [value], key
    assert 5 <= int(service["WatchdogSec"][0]) <= 60
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(unit.read_text())
    assert int(parser["Unit"]["StartLimitBurst"]) > 1
    assert int(parser["Unit"]["StartLimitIntervalSec"]) >= 60
    assert set(service["DeviceAllow"]) == {
        "/dev/tty7 rw", "char-drm rw", "char-input rw", "char-ttyUSB rw", "char-ttyACM rw",
        "char-usb rw", "char-usb_device rw", "char-video4linux rw", "char-alsa rw",
    }  # fmt: skip
