"""A small udev rules reader and matcher, enough for the kiosk's rules: match keys (``==``,
``!=``) on the device (KERNEL, SUBSYSTEM, DRIVER, ATTR, ENV) and on one device of its parent
chain (KERNELS, SUBSYSTEMS, DRIVERS, ATTRS: all of them on the same one, as udev has it), glob
values with ``|`` alternatives; assignments (SYMLINK, GROUP, MODE, OWNER) collected.

Devices are read from ``udevadm info --query=property`` (``E: KEY=value`` lines) followed by
``udevadm info --attribute-walk`` of one node: a technician records a new model with those two.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

_KEY = re.compile(
    r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]+)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*'
)
_PARENT_KEYS = {"KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS"}
_DEVICE_KEYS = {"KERNEL", "SUBSYSTEM", "DRIVER", "ATTR", "ENV"}
_ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "OWNER"}


@dataclass(frozen=True)
class Key:
    name: str
    attr: str | None
    op: str
    value: str


@dataclass
class Rule:
    line: int
    keys: list[Key]

    @property
    def matches(self) -> list[Key]:
        return [k for k in self.keys if k.op in ("==", "!=")]

    def assigned(self, name: str) -> list[str]:
        return [k.value for k in self.keys if k.name == name and k.op not in ("==", "!=")]


@dataclass
class Device:
    """One node (its own level) and its parents, nearest first."""

    env: dict[str, str] = field(default_factory=dict)
    levels: list[dict[str, str]] = field(default_factory=list)  # KERNEL/SUBSYSTEM/DRIVER, ATTR{x}


def parse_rules(text: str) -> list[Rule]:
    """Every rule of a rules file; ValueError naming the line for one that does not parse or
    uses a key this reader does not know."""
    rules = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keys = []
        for part in line.split(","):
            found = _KEY.fullmatch(part)
            if not found:
                raise ValueError(f"line {number}: cannot read {part.strip()!r}")
            key = Key(found["key"], found["attr"], found["op"], found["value"])
            if key.name not in _PARENT_KEYS | _DEVICE_KEYS | _ASSIGN_KEYS:
                raise ValueError(f"line {number}: unknown key {key.name}")
            keys.append(key)
        rules.append(Rule(number, keys))
    return rules


def parse_device(text: str) -> Device:
    device = Device()
    level: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("E: ") and "=" in line:
            name, _, value = line[3:].partition("=")
            device.env[name] = value
        elif line.startswith("looking at"):
            level = {}
            device.levels.append(level)
        elif level is not None and (found := _KEY.fullmatch(line)):
            name = found["key"].rstrip("S") if found["key"] != "SUBSYSTEMS" else "SUBSYSTEM"
            level[f"{name}{{{found['attr']}}}" if found["attr"] else name] = found["value"]
    return device


def _glob(pattern: str, value: str | None) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in pattern.split("|"))


def _key_holds(key: Key, level: dict[str, str], env: dict[str, str]) -> bool:
    if key.name == "ENV":
        value = env.get(key.attr or "")
    else:
        base = key.name.rstrip("S") if key.name != "SUBSYSTEMS" else "SUBSYSTEM"
        value = level.get(f"{base}{{{key.attr}}}" if key.attr else base)
    return _glob(key.value, value) == (key.op == "==")


def rule_matches(rule: Rule, device: Device) -> bool:
    own = [k for k in rule.matches if k.name in _DEVICE_KEYS]
    parent = [k for k in rule.matches if k.name in _PARENT_KEYS]
    if not device.levels or not all(_key_holds(k, device.levels[0], device.env) for k in own):
        return False
    return not parent or any(
        all(_key_holds(k, level, device.env) for k in parent) for level in device.levels
    )


def apply_rules(rules: list[Rule], device: Device) -> dict[str, list[str]]:
    """What the matching rules assign to the device: SYMLINK, GROUP, MODE, OWNER."""
    result: dict[str, list[str]] = {}
    for rule in rules:
        if rule_matches(rule, device):
            for key in rule.keys:
                if key.name in _ASSIGN_KEYS and key.op not in ("==", "!="):
                    result.setdefault(key.name, []).append(key.value)
    return result


def problems(rules: list[Rule]) -> list[str]:
    """What the kiosk's rules must never do: a node others can use (a mode with any bit for
    others, as 0666), a name outside /dev/kiosk-*, a named node without its group and mode, or
    a rule keyed on less than the USB vendor and product."""
    found = []
    for rule in rules:
        for mode in rule.assigned("MODE"):
            if not re.fullmatch(r"0?[0-7]{3}", mode) or int(mode, 8) & 0o007:
                found.append(f"line {rule.line}: MODE={mode} lets others open the device")
        names = rule.assigned("SYMLINK")
        for name in names:
            if not name.startswith("kiosk-"):
                found.append(f"line {rule.line}: SYMLINK {name} is not a kiosk- name")
        if names or rule.assigned("MODE"):
            if not rule.assigned("GROUP"):
                found.append(f"line {rule.line}: no GROUP")
            if not rule.assigned("MODE"):
                found.append(f"line {rule.line}: no MODE")
        keyed = {k.attr for k in rule.matches if k.name in ("ATTR", "ATTRS") and k.op == "=="}
        if not {"idVendor", "idProduct"} <= keyed:
            found.append(f"line {rule.line}: not keyed on idVendor and idProduct")
    return found


def read_device(path: Path) -> Device:
    return parse_device(path.read_text(encoding="utf-8"))
