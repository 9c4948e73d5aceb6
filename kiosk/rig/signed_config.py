"""Signed configuration for a rig's ``take_config`` step: the rig's own test signers (trusted by
each scenario's terminal), the bundle a step describes, published to the scenario's embedded
platform as operators publish, and the terminal's report read back from the platform.

The terminal is not told anything directly: it finds the bundle when it asks its platform for
configuration, verifies it against its trusted keys, applies it and takes it up between visits,
exactly as in a fleet (README "Signed configuration").
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.payload import SCHEMA_VERSION, SchemaError, validate_payload
from contracts.signing import generate, load_private, sign
from kiosk.config.updater import WAITING
from kiosk.rig import scenario as sc

RIG_GROUP = "rig"  # the platform group a rig's terminal is in: bundles are published to it
SIGNERS = ("rig-operator-1", "rig-operator-2")


class ConfigStepError(Exception):
    """What a take_config step describes cannot be made; the message says why."""


def expected(args: sc.ConfigArgs) -> str:
    if args.expect is not None:
        return args.expect
    return "taken_up" if args.signatures == "valid" or args.bundle else "refused"


def payload_of(args: sc.ConfigArgs) -> dict[str, Any]:
    """The payload a step describes: its own fields, the shipped catalogue without the services
    it drops, the terminal's schema version unless it names one."""
    payload = {"schema_version": SCHEMA_VERSION, **args.payload}
    if args.drop_services:
        if "catalogue" in args.payload:
            raise ConfigStepError("give drop_services or payload.catalogue, not both")
        from importlib import resources

        text = resources.files("kiosk.config").joinpath("catalogue.json").read_text("utf-8")
        catalogue = json.loads(text)
        codes = [s["code"] for s in catalogue["services"]]
        unknown = [c for c in args.drop_services if c not in codes]
        if unknown:
            raise ConfigStepError(
                f"no service {', '.join(map(repr, unknown))} in the shipped catalogue; its "
                f"services: {', '.join(codes)}"
            )
        catalogue["services"] = [
            s for s in catalogue["services"] if s["code"] not in args.drop_services
        ]
        payload["catalogue"] = catalogue
    return payload


def check_step(args: sc.ConfigArgs, scenario_file: Path) -> tuple[list[object], str] | None:
    """What a scenario file gets wrong in a take_config step: (where, what), or None."""
    if args.bundle is not None:
        if args.payload or args.drop_services or args.signatures != "valid" or args.version:
            return [], "a bundle file is published as it is: no payload, drop_services, " \
                "signatures or version with it"  # fmt: skip
        if not (scenario_file.parent / args.bundle).is_file():
            return ["bundle"], f"no file {args.bundle} beside {scenario_file.name}"
        return None
    try:
        payload = payload_of(args)
    except ConfigStepError as exc:
        return ["drop_services"], str(exc)
    if expected(args) in ("taken_up", "waiting", "rolled_back"):
        try:
            validate_payload(payload)
        except SchemaError as exc:  # at the field's line: payload.timeouts.identify
            return list[object](exc.path.split(".")), f"terminals would refuse it: {exc}"
    return None


class RigSigners:
    """Two test key pairs made once per rig run (threshold 2): every scenario's terminal
    trusts them unless its configuration names its own ``[central] config_trust``."""

    def __init__(self, work: Path) -> None:
        self.folder = work / "config-signers"
        self._made = False
        self._strangers = 0

    def _make(self) -> None:
        if not self._made:
            for name in SIGNERS:
                generate(self.folder, name)
            self._made = True

    def install_trust(self, trust: Path) -> None:
        self._make()
        trust.mkdir(parents=True, exist_ok=True)
        for name in SIGNERS:
            (trust / f"{name}.pub").write_text((self.folder / f"{name}.pub").read_text())
        (trust / "threshold").write_text(f"{len(SIGNERS)}\n")

    def bundle(
        self, payload: dict[str, Any], version: int, kiosk_id: str, signatures: str
    ) -> bytes:
        self._make()
        now = datetime.now().astimezone()
        signed = {
            "version": version,
            "issued_at": now.isoformat(timespec="seconds"),
            "expires_at": (now + timedelta(days=7)).isoformat(timespec="seconds"),
            "targets": {"kiosks": [kiosk_id], "groups": []},
            "payload": payload,
        }
        keys = [self.folder / f"{name}.key" for name in SIGNERS]
        if signatures == "untrusted":
            self._strangers += 1
            strangers = self.folder / f"untrusted-{self._strangers}"
            keys = [generate(strangers, name)[0] for name in SIGNERS]
        if signatures == "forged":
            # The trusted holders' signatures over a harmless bundle, copied onto another payload.
            vouched = {**signed, "payload": {"schema_version": payload["schema_version"]}}
            sigs = [sign(vouched, load_private(k)) for k in keys]
        elif signatures == "none":
            sigs = []
        else:
            sigs = [sign(signed, load_private(k)) for k in keys]
        return json.dumps({"signed": signed, "signatures": sigs}, ensure_ascii=False).encode()


def _central(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central", *args, "--db", f"sqlite:///{db}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def join_rig_group(platform: Path, kiosk_id: str) -> None:
    """Put the terminal in the rig's group on the platform (folder) made for it; its token is
    replaced in the same step, so the file the embedded platform hands over is rewritten."""
    done = _central("kiosk", "add", kiosk_id, "--group", RIG_GROUP, "--rotate",
                    db=platform / "central.db")  # fmt: skip
    if done.returncode != 0:
        raise ConfigStepError(done.stderr.strip() or "kiosk-central kiosk add failed")
    (platform / "kiosk-token").write_text(done.stdout.strip().splitlines()[-1] + "\n")


def publish(raw: bytes, platform: Path, name: str) -> None:
    """``kiosk-central config publish`` to the rig's group, as an operator does."""
    path = platform / "published" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    done = _central("config", "publish", str(path), "--group", RIG_GROUP,
                    db=platform / "central.db")  # fmt: skip
    if done.returncode != 0:
        raise ConfigStepError(f"publishing failed: {done.stderr.strip() or done.stdout.strip()}")


@dataclass(frozen=True)
class Report:
    """The terminal's last configuration report, as the platform keeps it (config status)."""

    running: int | None
    status: str
    about: int | None
    reason: str
    at: str

    def outcome(self) -> str:
        if self.status == "applied":
            return "waiting" if self.reason == WAITING else "taken_up"
        return "refused" if self.status == "rejected" else self.status

    def describe(self) -> str:
        about = f"v{self.about}" if self.about is not None else "a bundle"
        running = f"v{self.running}" if self.running is not None else "the local configuration"
        said = f" ({self.reason})" if self.reason else ""
        return f"{self.status} {about}{said}, running {running}"


def last_report(platform_db: Path, kiosk_id: str) -> Report | None:
    try:
        with sqlite3.connect(f"file:{platform_db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute(
                "SELECT version, status, reported_version, reason, reported_at "
                "FROM config_reports WHERE kiosk_id = ?",
                (kiosk_id,),
            ).fetchone()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    return Report(row[0], row[1], row[2], row[3] or "", row[4])
