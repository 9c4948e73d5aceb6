"""``kiosk devices --udev``: udev rules giving the devices attached now their stable names
(``/dev/kiosk-idreader``, ``/dev/kiosk-printer``, ``/dev/kiosk-camera``), keyed on USB vendor,
product and serial, read from sysfs directly.

A technician setting up a new model runs it with the devices plugged in and installs what it
prints as ``/etc/udev/rules.d/61-kiosk-devices.rules`` (README "Deploying").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# role: (the stable name, the group that owns the node, what the terminal calls the device)
ROLES = {
    "idreader": ("kiosk-idreader", "dialout", "ID card reader"),
    "printer": ("kiosk-printer", "lp", "receipt printer"),
    "camera": ("kiosk-camera", "video", "camera"),
}
# sysfs class, the nodes of it to look at, the udev subsystem, and the role they play.
_CLASSES = (
    ("tty", re.compile(r"tty(USB|ACM)\d+"), "tty", "idreader"),
    ("usbmisc", re.compile(r"lp\d+"), "usbmisc", "printer"),
    ("video4linux", re.compile(r"video\d+"), "video4linux", "camera"),
)
# What a udev rule's value may hold as it is; anything else (quotes, backslashes, glob
# characters, spaces) is matched by "?" instead.
_PLAIN = re.compile(r"[A-Za-z0-9._:+-]")


@dataclass(frozen=True)
class AttachedDevice:
    """A device node attached over USB, with what identifies its USB device."""

    role: str
    node: str  # kernel name: ttyUSB0, lp0, video0
    subsystem: str
    vendor: str  # 4 hex digits
    product: str
    serial: str | None
    description: str  # manufacturer and product strings, for the comment


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _usb_device_of(node_dir: Path, sysfs: Path) -> Path | None:
    """The USB device above a node's directory: the nearest parent with idVendor and idProduct."""
    for parent in (node_dir, *node_dir.parents):
        if parent == sysfs or not parent.is_relative_to(sysfs):
            return None
        if (parent / "idVendor").is_file() and (parent / "idProduct").is_file():
            return parent
    return None


def attached_devices(sysfs: Path = Path("/sys")) -> list[AttachedDevice]:
    """The USB serial ports, usblp printers and cameras under *sysfs*, in a stable order."""
    sysfs = sysfs.resolve()
    found: list[AttachedDevice] = []
    for class_name, pattern, subsystem, role in _CLASSES:
        class_dir = sysfs / "class" / class_name
        if not class_dir.is_dir():
            continue
        names = [p.name for p in class_dir.iterdir() if pattern.fullmatch(p.name)]
        for name in sorted(names, key=lambda n: (len(n), n)):
            node_dir = (class_dir / name).resolve()
            if role == "camera" and _read(node_dir / "index") not in (None, "0"):
                continue  # a UVC camera's second node carries metadata, not the picture
            usb = _usb_device_of(node_dir, sysfs)
            if usb is None:
                continue  # not on USB (a built-in UART): no vendor or product to key on
            vendor, product = _read(usb / "idVendor"), _read(usb / "idProduct")
            if not vendor or not product:
                continue
            words = [_read(usb / "manufacturer"), _read(usb / "product")]
            found.append(
                AttachedDevice(
                    role=role,
                    node=name,
                    subsystem=subsystem,
                    vendor=vendor.lower(),
                    product=product.lower(),
                    serial=_read(usb / "serial") or None,
                    description=" ".join(w for w in words if w) or "unnamed USB device",
                )
            )
    return found


def _value(text: str) -> str:
    return "".join(c if _PLAIN.fullmatch(c) else "?" for c in text)


def rule_lines(device: AttachedDevice) -> list[str]:
    """The rule lines for one device: its node's stable name, and for a printer its USB device
    too (escpos-usb opens that through libusb)."""
    name, group, _ = ROLES[device.role]
    keys = [
        f'SUBSYSTEM=="{device.subsystem}"',
        *(['ATTR{index}=="0"'] if device.role == "camera" else []),
        f'ATTRS{{idVendor}}=="{_value(device.vendor)}"',
        f'ATTRS{{idProduct}}=="{_value(device.product)}"',
    ]
    if device.serial:
        keys.append(f'ATTRS{{serial}}=="{_value(device.serial)}"')
    lines = [", ".join([*keys, f'SYMLINK+="{name}"', f'GROUP="{group}"', 'MODE="0660"'])]
    if device.role == "printer":
        usb = [
            'SUBSYSTEM=="usb"',
            'ENV{DEVTYPE}=="usb_device"',
            f'ATTR{{idVendor}}=="{_value(device.vendor)}"',
            f'ATTR{{idProduct}}=="{_value(device.product)}"',
        ]
        if device.serial:
            usb.append(f'ATTR{{serial}}=="{_value(device.serial)}"')
        lines.append(", ".join([*usb, f'GROUP="{group}"', 'MODE="0660"']))
    return lines


def udev_rules(sysfs: Path = Path("/sys")) -> str:
    """The rules file for the devices attached now. A second device for one role is written
    commented out: one stable name, one device; the technician picks."""
    out = [
        "# Kiosk terminal devices attached when `kiosk devices --udev` ran; install as",
        "# /etc/udev/rules.d/61-kiosk-devices.rules, then: udevadm control --reload &&",
        "# udevadm trigger",
    ]
    taken: set[str] = set()
    devices = attached_devices(sysfs)
    for device in devices:
        name, _, what = ROLES[device.role]
        serial = f"serial {device.serial}" if device.serial else "no serial: any unit of it"
        out += [
            "",
            f"# {what}: {device.description} ({device.vendor}:{device.product}, {serial}), "
            f"now {device.node}",
        ]
        lines = rule_lines(device)
        if device.role in taken:
            out.append(
                f"# another candidate for /dev/{name}: uncomment it instead of the one above"
            )
            lines = [f"# {line}" for line in lines]
        taken.add(device.role)
        out += lines
    if not devices:
        out += ["", "# no USB serial port, usblp printer or camera is attached"]
    return "\n".join(out) + "\n"
