"""``kiosk-central config keygen | draft | sign``: an operator's side of signed configuration.

Each key holder keeps their private key to themselves and signs separately; a bundle is valid
on a terminal once a threshold of trusted holders have signed the same content.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.store import CentralStore

OpenStore = Callable[[str | None], AbstractContextManager["CentralStore"]]


class ConfigCliError(Exception):
    """One line for the operator; exit code 1."""


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    @cli.group()
    def config() -> None:
        """Signed configuration bundles for the fleet."""

    @config.command("keygen")
    @click.option(
        "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path)
    )
    @click.option("--name", required=True, help="The key holder, e.g. alice.")
    def keygen(out_dir: Path, name: str) -> None:
        """Make an Ed25519 key pair: NAME.key (private, 0600, keep it) and NAME.pub (install it
        on terminals, in <data dir>/keys/config-trust/ with a threshold file)."""
        from contracts.signing import generate, key_id, load_public

        try:
            key_path, pub_path = generate(out_dir, name)
        except FileExistsError as exc:
            raise ConfigCliError(str(exc)) from exc
        click.echo(f"{key_path}\n{pub_path}\nkey id {key_id(load_public(pub_path))}")

    @config.command("draft")
    @click.option("--version", "version", required=True, type=click.IntRange(1))
    @click.option("--payload", "payload_file", required=True,
                  type=click.Path(dir_okay=False, exists=True, path_type=Path))  # fmt: skip
    @click.option("--group", "groups", multiple=True, help="Target group (repeatable).")
    @click.option("--kiosk", "kiosks", multiple=True, help="Target terminal (repeatable).")
    @click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650),
                  help="Valid for this many days (terminals refuse it afterwards).")  # fmt: skip
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
    def draft(version: int, payload_file: Path, groups: tuple[str, ...],
              kiosks: tuple[str, ...], days: int, out: Path) -> None:  # fmt: skip
        """Write an unsigned bundle around a payload (JSON) for the key holders to sign."""
        from contracts.canonical import CanonicalError, strict_loads
        from contracts.payload import SchemaError, validate_payload

        if not groups and not kiosks:
            raise click.UsageError("give at least one --group or --kiosk")
        try:
            payload = strict_loads(payload_file.read_bytes())
            validate_payload(payload)  # an operator learns of a mistake now, not from the fleet
        except (CanonicalError, SchemaError, ValueError) as exc:
            raise ConfigCliError(f"{payload_file}: {exc}") from exc
        now = datetime.now().astimezone().replace(microsecond=0)
        signed = {
            "version": version,
            "issued_at": now.isoformat(),
            "expires_at": (now + timedelta(days=days)).isoformat(),
            "targets": {"kiosks": sorted(kiosks), "groups": sorted(groups)},
            "payload": payload,
        }
        body = json.dumps({"signed": signed, "signatures": []}, ensure_ascii=False, indent=1)
        write_atomically(out, body.encode())
        click.echo(f"{out}: version {version}, unsigned")

    @config.command("sign")
    @click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @click.option("--key", "key_file", required=True,
                  type=click.Path(dir_okay=False, exists=True, path_type=Path))  # fmt: skip
    def sign_bundle(bundle: Path, key_file: Path) -> None:
        """Add this key holder's signature to BUNDLE (in place)."""
        from contracts.canonical import CanonicalError, strict_loads
        from contracts.signing import TrustError, load_private, sign

        try:
            document = strict_loads(bundle.read_bytes())
            private = load_private(key_file)
        except (CanonicalError, TrustError) as exc:
            raise ConfigCliError(str(exc)) from exc
        if not isinstance(document, dict) or not isinstance(document.get("signed"), dict):
            raise ConfigCliError(f"{bundle}: not a bundle (no signed object)")
        entry = sign(document["signed"], private)
        others = [s for s in document.get("signatures", []) if s.get("keyid") != entry["keyid"]]
        document["signatures"] = [*others, entry]
        write_atomically(bundle, json.dumps(document, ensure_ascii=False, indent=1).encode())
        click.echo(
            f"{bundle}: signed by {entry['keyid']} ({len(document['signatures'])} signature(s))"
        )

    @config.command("publish")
    @click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @click.option("--group", required=True, help="The fleet group to offer it to.")
    @click.option("--percent", default=100, show_default=True, type=click.IntRange(1, 100),
                  help="Share of the group offered it first; publish again to widen.")  # fmt: skip
    @db_option
    def publish(bundle: Path, group: str, percent: int, db_url: str | None) -> None:
        """Offer a signed bundle to a group of terminals (they fetch it during sync, verify it
        themselves, and apply it between visits)."""
        from central.rollout import RolloutError, Rollouts
        from contracts.canonical import CanonicalError, strict_loads

        raw = bundle.read_bytes()
        try:
            document = strict_loads(raw)
            version = document["signed"]["version"]
            signatures = len(document["signatures"])
        except (CanonicalError, KeyError, TypeError) as exc:
            raise ConfigCliError(f"{bundle}: not a bundle ({exc})") from exc
        if not isinstance(version, int) or signatures == 0:
            raise ConfigCliError(f"{bundle}: needs a whole-number version and signatures")
        with opened_store(db_url) as store:
            try:
                Rollouts(store).publish(raw, version, group, percent)
            except RolloutError as exc:
                raise ConfigCliError(str(exc)) from exc
        click.echo(f"version {version} offered to {percent}% of {group}")

    @config.command("status")
    @click.option("--group", help="Only this group.")
    @click.option("--json", "as_json", is_flag=True)
    @db_option
    def status(group: str | None, as_json: bool, db_url: str | None) -> None:
        """Per terminal: the version it runs, when it reported, and any rejection with its
        reason."""
        from central.rollout import Rollouts

        with opened_store(db_url) as store:
            rows = Rollouts(store).status(group)
        for row in rows:
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
                continue
            running = f"v{row['version']}" if row["version"] else "none"
            line = f"{row['id']:<20} {row['grp'] or '-':<12} runs {running:<6}"
            if row["status"]:
                line += f" {row['status']} v{row['reported_version']} at {row['reported_at']}"
            if row["reason"]:
                line += f": {row['reason']}"
            click.echo(line)


def write_atomically(path: Path, data: bytes) -> None:
    """A bundle file is either the old one or the new one, never half of each (a key holder's
    signature is added in place)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
