"""The udev rules: the shipped ones and those ``kiosk devices --udev`` writes, read and matched
against recorded devices (tests/deploy/devices/: udevadm info output)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.cli.common import cli
from kiosk.cli.udev_rules import attached_devices
from tests.deploy.udev import apply_rules, parse_rules, problems, read_device

HERE = Path(__file__).parent
SHIPPED = HERE.parents[1] / "deploy/debian/terminal/lib/udev/rules.d/60-kiosk-devices.rules"

# recorded device -> (its stable name or None, group, mode)
EXPECTED = {
    "ftdi-idreader": (["kiosk-idreader"], "dialout", "0660"),
    "epson-printer-lp": (["kiosk-printer"], "lp", "0660"),
    "epson-printer-usb": ([], "lp", "0660"),
    "c270-video0": (["kiosk-camera"], "video", "0660"),
    "c270-video1": (None, None, None),
    "ch340-other-serial": (None, None, None),
}


def _outcome(assigned: dict[str, list[str]]) -> tuple[list[str] | None, str | None, str | None]:
    if not assigned:
        return None, None, None
    return (
        assigned.get("SYMLINK", []),
        assigned.get("GROUP", [None])[-1],
        assigned.get("MODE", [None])[-1],
    )


def test_the_shipped_rules_read_and_keep_to_the_rules() -> None:
    rules = parse_rules(SHIPPED.read_text(encoding="utf-8"))
    assert len(rules) == 4
    assert problems(rules) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_shipped_rules_name_the_recorded_devices(name: str) -> None:
    rules = parse_rules(SHIPPED.read_text(encoding="utf-8"))
    device = read_device(HERE / "devices" / f"{name}.txt")
    assert _outcome(apply_rules(rules, device)) == EXPECTED[name]


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (
            'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", '
            'SYMLINK+="kiosk-idreader", GROUP="dialout", MODE="0666"',
            "MODE=0666 lets others open the device",
        ),
        (
            'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", '
            'SYMLINK+="kiosk-idreader", MODE="0660"',
            "no GROUP",
        ),
        ('SUBSYSTEM=="tty", SYMLINK+="kiosk-idreader", GROUP="dialout", MODE="0660"', "not keyed"),
        (
            'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", '
            'SYMLINK+="idreader", GROUP="dialout", MODE="0660"',
            "not a kiosk- name",
        ),
    ],
)
def test_the_check_catches_a_bad_rule(line: str, complaint: str) -> None:
    """Given a rule that makes the reader world-writable (0666), unowned, unkeyed or misnamed,
    the check that passes the shipped rules names it."""
    found = problems(parse_rules(line))
    assert any(complaint in p for p in found), found


def test_the_matcher_wants_the_parent_keys_on_one_device() -> None:
    """udev matches every ATTRS of a rule on a single parent: vendor of the bridge and product
    of the root hub do not add up to a match."""
    device = read_device(HERE / "devices" / "ftdi-idreader.txt")
    mixed = parse_rules(
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="0002", '
        'SYMLINK+="kiosk-idreader", GROUP="dialout", MODE="0660"'
    )
    assert apply_rules(mixed, device) == {}


# --- kiosk devices --udev on a fake sysfs ----------------------------------------------------


def _usb_device(sysfs: Path, port: str, **attrs: str) -> Path:
    usb = sysfs / "devices/pci0000:00/0000:00:14.0/usb1" / port
    usb.mkdir(parents=True)
    for name, value in attrs.items():
        (usb / name).write_text(value + "\n")
    return usb


def _node(sysfs: Path, class_name: str, name: str, device_dir: Path, **attrs: str) -> None:
    device_dir.mkdir(parents=True)
    for attr, value in attrs.items():
        (device_dir / attr).write_text(value + "\n")
    (sysfs / "class" / class_name).mkdir(parents=True, exist_ok=True)
    link = sysfs / "class" / class_name / name
    link.symlink_to(os.path.relpath(device_dir, link.parent))


@pytest.fixture
def fake_sysfs(tmp_path: Path) -> Path:
    """A terminal with the recorded reader, printer and camera plugged in, a second FTDI bridge,
    and a built-in UART."""
    sysfs = tmp_path / "sys"
    reader = _usb_device(
        sysfs, "1-2", idVendor="0403", idProduct="6001", serial="A10K2Z3Q",
        manufacturer="FTDI", product="FT232R USB UART",
    )  # fmt: skip
    _node(sysfs, "tty", "ttyUSB0", reader / "1-2:1.0/ttyUSB0/tty/ttyUSB0")
    spare = _usb_device(sysfs, "1-6", idVendor="0403", idProduct="6001", serial="B77X")
    _node(sysfs, "tty", "ttyUSB1", spare / "1-6:1.0/ttyUSB1/tty/ttyUSB1")
    printer = _usb_device(
        sysfs, "1-4", idVendor="04b8", idProduct="0202", serial="TGQF012345",
        manufacturer="EPSON", product="TM-T88V",
    )  # fmt: skip
    _node(sysfs, "usbmisc", "lp0", printer / "1-4:1.0/usbmisc/lp0")
    camera = _usb_device(sysfs, "1-5", idVendor="046d", idProduct="0825", product="C270")
    _node(sysfs, "video4linux", "video0", camera / "1-5:1.0/video4linux/video0", index="0")
    _node(sysfs, "video4linux", "video1", camera / "1-5:1.0/video4linux/video1", index="1")
    _node(sysfs, "tty", "ttyS0", sysfs / "devices/platform/serial8250/tty/ttyS0")
    return sysfs


def test_kiosk_devices_udev_writes_rules_for_what_is_attached(fake_sysfs: Path) -> None:
    result = CliRunner().invoke(cli, ["devices", "--udev", "--sysfs", str(fake_sysfs)])
    assert result.exit_code == 0, result.output
    text = result.output
    rules = parse_rules(text)
    assert problems(rules) == []
    # Keyed on the serial where the device has one: the reader and the printer recorded match,
    # and so does the camera (no serial: any unit of the model).
    for name in ("ftdi-idreader", "epson-printer-lp", "epson-printer-usb", "c270-video0"):
        device = read_device(HERE / "devices" / f"{name}.txt")
        assert _outcome(apply_rules(rules, device)) == EXPECTED[name], name
    assert 'ATTRS{serial}=="A10K2Z3Q"' in text
    # The second FTDI bridge is offered, commented out: one name, one device.
    assert "# another candidate for /dev/kiosk-idreader" in text
    assert '# SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ' in text
    assert "ttyS0" not in text and "video1" not in text


def test_another_unit_of_the_model_is_not_the_one_pinned(fake_sysfs: Path) -> None:
    result = CliRunner().invoke(cli, ["devices", "--udev", "--sysfs", str(fake_sysfs)])
    rules = parse_rules(result.output)
    other = (HERE / "devices" / "ftdi-idreader.txt").read_text().replace("A10K2Z3Q", "Z9")
    from tests.deploy.udev import parse_device

    assert apply_rules(rules, parse_device(other)) == {}


def test_odd_characters_in_a_serial_are_matched_not_spoken(tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    usb = _usb_device(sysfs, "1-2", idVendor="0403", idProduct="6001", serial='A"1*2 3')
    _node(sysfs, "tty", "ttyACM0", usb / "1-2:1.0/tty/ttyACM0")
    (device,) = attached_devices(sysfs)
    result = CliRunner().invoke(cli, ["devices", "--udev", "--sysfs", str(sysfs)])
    assert device.serial == 'A"1*2 3'
    assert 'ATTRS{serial}=="A?1?2?3"' in result.output
    assert problems(parse_rules(result.output)) == []


def test_nothing_attached_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["devices", "--udev", "--sysfs", str(tmp_path)])
    assert result.exit_code == 0
    assert parse_rules(result.output) == []
    assert "no USB serial port, usblp printer or camera is attached" in result.output
