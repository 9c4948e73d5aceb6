"""``kiosk-central config keygen | draft | sign``: an operator's side of signed configuration.

Each key holder keeps their private key to themselves and signs separately; a bundle is valid
on a terminal once a threshold of trusted holders have signed the same content. A signature is
a key holder's word for what a bundle does, so ``sign`` first shows what they would vouch for
(version, targets, expiry, and what changes against what is published now) and asks; and it
refuses what terminals would refuse (a schema error, a placeholder the receipt cannot fill, a
validity beyond the maximum), so no signature is ever spent on it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.store import CentralStore
    from contracts.verify import Content

# Terminals refuse a bundle valid for longer than their [central] config_max_days (90 by default);
# the signing side holds to the same unless told otherwise.
MAX_DAYS = click.option(
    "--max-days", default=90, show_default=True, type=click.IntRange(1, 3650),
    help="Refuse a bundle valid for longer (terminals refuse it beyond their config_max_days).",
)  # fmt: skip
CHANGES_SHOWN = 40  # lines of changes a signer reads; the rest are counted

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
        on terminals, in /etc/kiosk/config-trust/ with a threshold file, owned by root)."""
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
    @MAX_DAYS
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
    def draft(version: int, payload_file: Path, groups: tuple[str, ...],
              kiosks: tuple[str, ...], days: int, max_days: int, out: Path) -> None:  # fmt: skip
        """Write an unsigned bundle around a payload (JSON) for the key holders to sign."""
        from contracts.canonical import CanonicalError, strict_loads
        from contracts.verify import BundleRejected, check_content

        if not groups and not kiosks:
            raise click.UsageError("give at least one --group or --kiosk")
        try:
            payload = strict_loads(payload_file.read_bytes())
        except CanonicalError as exc:
            raise ConfigCliError(f"{payload_file}: {exc}") from exc
        now = datetime.now().astimezone().replace(microsecond=0)
        signed = {
            "version": version,
            "issued_at": now.isoformat(),
            "expires_at": (now + timedelta(days=days)).isoformat(),
            "targets": {"kiosks": sorted(kiosks), "groups": sorted(groups)},
            "payload": payload,
        }
        try:  # an operator learns of a mistake now, not from the fleet
            check_content(signed, now=now, max_validity=timedelta(days=max_days))
        except BundleRejected as exc:
            raise ConfigCliError(f"{payload_file}: {exc.detail}") from exc
        body = json.dumps({"signed": signed, "signatures": []}, ensure_ascii=False, indent=1)
        write_atomically(out, body.encode())
        click.echo(f"{out}: version {version}, unsigned")

    @config.command("sign")
    @click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @click.option("--key", "key_file", required=True,
                  type=click.Path(dir_okay=False, exists=True, path_type=Path))  # fmt: skip
    @click.option("--previous", "previous_file",
                  type=click.Path(dir_okay=False, exists=True, path_type=Path),
                  help="Compare with this bundle (default: the newest published to the "
                  "bundle's groups, from the platform's database when there is one).")  # fmt: skip
    @MAX_DAYS
    @click.option("--yes", is_flag=True, help="Sign without asking (for scripts).")
    @db_option
    def sign_bundle(bundle: Path, key_file: Path, previous_file: Path | None, max_days: int,
                    yes: bool, db_url: str | None) -> None:  # fmt: skip
        """Show what BUNDLE does, ask, and add this key holder's signature (in place)."""
        from contracts.canonical import CanonicalError, strict_loads
        from contracts.signing import TrustError, key_id, load_private, sign
        from contracts.verify import BundleRejected, check_content

        try:
            document = strict_loads(bundle.read_bytes())
            private = load_private(key_file)
        except (CanonicalError, TrustError) as exc:
            raise ConfigCliError(str(exc)) from exc
        if not isinstance(document, dict) or not isinstance(document.get("signed"), dict):
            raise ConfigCliError(f"{bundle}: not a bundle (no signed object)")
        signed = document["signed"]
        try:
            content = check_content(signed, max_validity=timedelta(days=max_days))
        except BundleRejected as exc:
            raise ConfigCliError(f"{bundle}: not signed, terminals would refuse it: {exc}") from exc
        if not yes and not sys.stdin.isatty():
            raise ConfigCliError(
                "config sign asks before signing and no one can answer here: "
                "pass --yes to sign without being asked"
            )
        mine = key_id(private.public_key())
        previous = _previous(previous_file, content, db_url, opened_store)
        for line in _summary(bundle, content, document, mine, previous):
            click.echo(line)
        if not yes and not click.confirm(f"Sign version {content.version} with key {mine}?"):
            raise ConfigCliError(f"{bundle}: not signed")
        entry = sign(signed, private)
        others = [
            s for s in document.get("signatures", [])
            if isinstance(s, dict) and s.get("keyid") != entry["keyid"]
        ]  # fmt: skip
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
        from central.rollout import RolloutError, Rollouts, bundle_version

        raw = bundle.read_bytes()
        try:
            version = bundle_version(raw)
        except RolloutError as exc:
            raise ConfigCliError(f"{bundle}: {exc}") from None
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


# (what it is, its signed part), or why there is nothing to compare with
Previous = tuple[str, dict[str, Any]] | str


def _previous(
    previous_file: Path | None, content: Content, db_url: str | None, opened_store: OpenStore
) -> Previous:
    """What the signer compares with: --previous, else the newest bundle published to the
    bundle's groups below its version, from --db, else from the default database if there is
    one (a key holder's own machine has none, and signing must not make one)."""
    from central.database import StoreError
    from contracts.canonical import CanonicalError, strict_loads

    if previous_file is not None:
        try:
            signed = strict_loads(previous_file.read_bytes())["signed"]
        except (CanonicalError, KeyError, TypeError) as exc:
            raise ConfigCliError(f"{previous_file}: not a bundle ({exc})") from exc
        return f"{previous_file} (version {signed.get('version')})", signed
    explicit = db_url is not None
    if db_url is None:
        from central.cli import default_db_url

        db_url = default_db_url()
        if not Path(db_url.removeprefix("sqlite:///")).exists():
            return "no platform database here (--db URL or --previous FILE compare)"
    from central.rollout import Rollouts

    try:
        with opened_store(db_url) as store:
            found = Rollouts(store).published_before(content.groups, content.version)
    except StoreError as exc:
        if explicit:
            raise ConfigCliError(str(exc)) from exc
        return f"the platform database cannot be read ({exc})"
    if found is None:
        return f"nothing published to {', '.join(content.groups) or 'any group'} before"
    version, group, raw = found
    try:
        signed = strict_loads(raw)["signed"]
    except (CanonicalError, KeyError, TypeError) as exc:
        return f"version {version} of {group} cannot be read ({exc})"
    return f"version {version}, published to {group}", signed


def _summary(
    bundle: Path, content: Content, document: dict[str, Any], mine: str, previous: Previous
) -> list[str]:
    now = datetime.now().astimezone()
    days = (content.expires_at - now).total_seconds() / 86400
    signers = [str(s.get("keyid")) for s in document.get("signatures", []) if isinstance(s, dict)]
    lines = [
        f"{bundle}",
        f"  version   {content.version}, issued {content.issued_at.isoformat()}",
        f"  targets   groups: {', '.join(content.groups) or 'none'}; "
        f"kiosks: {', '.join(content.kiosks) or 'none'}",
        f"  expires   {content.expires_at.isoformat()} (in {days:.0f} days)",
        f"  signed by {', '.join(signers) or 'no one yet'}; this key: {mine}",
    ]
    if isinstance(previous, str):
        fields = sorted(content.payload.model_fields_set - {"schema_version"})
        lines.append(f"  changes   none to show: {previous}")
        lines.append(f"  payload   sets {', '.join(fields) or 'nothing'}")
        return lines
    what, old = previous
    new_part = {
        "targets": document["signed"].get("targets"),
        "payload": document["signed"].get("payload"),
    }
    old_part = {"targets": old.get("targets"), "payload": old.get("payload")}
    changes = changes_between(old_part, new_part)
    lines.append(f"  changes against {what}:" if changes else f"  changes   none against {what}")
    lines += [f"    {line}" for line in changes[:CHANGES_SHOWN]]
    if len(changes) > CHANGES_SHOWN:
        lines.append(f"    ... and {len(changes) - CHANGES_SHOWN} more")
    return lines


def changes_between(old: Any, new: Any, path: str = "") -> list[str]:
    """What differs between two JSON values, one line per changed leaf: ``~ path: old -> new``,
    ``+ path: new``, ``- path: old``. Lists of objects with a ``code`` (services, options) are
    matched by code, so removing one service reads as that, not as every later one changed."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            here = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"- {here}: {_short(old[key])}")
            elif key not in old:
                out.append(f"+ {here}: {_short(new[key])}")
            else:
                out += changes_between(old[key], new[key], here)
        return out
    if isinstance(old, list) and isinstance(new, list):
        if _coded(old) and _coded(new):
            return _coded_changes(old, new, path)
        if len(old) == len(new):
            return [c for i, (a, b) in enumerate(zip(old, new, strict=True))
                    for c in changes_between(a, b, f"{path}[{i}]")]  # fmt: skip
    return [f"~ {path}: {_short(old)} -> {_short(new)}"]


def _coded(items: list[Any]) -> bool:
    codes = [item.get("code") for item in items if isinstance(item, dict)]
    return len(codes) == len(items) and len(set(codes)) == len(codes)


def _coded_changes(old: list[dict[str, Any]], new: list[dict[str, Any]], path: str) -> list[str]:
    before = {item["code"]: item for item in old}
    after = {item["code"]: item for item in new}
    out: list[str] = []
    for code in [*before, *(c for c in after if c not in before)]:
        here = f"{path}[{code}]"
        if code not in after:
            out.append(f"- {here}")
        elif code not in before:
            out.append(f"+ {here}: {_short(after[code])}")
        else:
            out += changes_between(before[code], after[code], here)
    kept_before = [c for c in before if c in after]
    kept_after = [c for c in after if c in before]
    if kept_before != kept_after:
        out.append(f"~ {path}: order {', '.join(map(str, kept_before))} -> "
                   f"{', '.join(map(str, kept_after))}")  # fmt: skip
    return out


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


def write_atomically(path: Path, data: bytes) -> None:
    """A bundle file is either the old one or the new one, never half of each (a key holder's
    signature is added in place)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
