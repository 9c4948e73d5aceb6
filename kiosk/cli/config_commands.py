"""``kiosk config verify | apply | rollback | show``: signed configuration bundles on this
terminal, for technicians and rigs. Every refusal is one line with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kiosk.cli.common import CONFIG, DATA_DIR, cli
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from contracts.verify import Verified
    from kiosk.config.settings import Settings

TRUSTED = click.option(
    "--trusted",
    type=click.Path(file_okay=False, path_type=Path),
    help="Trusted public keys and threshold (default: [central] config_trust, else "
    "/etc/kiosk/config-trust).",
)


def _data(config_file: Path | None, data_dir: Path | None) -> Path:
    from kiosk.config.settings import data_dir_of

    return data_dir_of(_settings(config_file, data_dir))


def _settings(config_file: Path | None, data_dir: Path | None) -> Settings:
    from kiosk.config.settings import SettingsError, load_settings

    try:
        return load_settings(config_file, data_dir)
    except SettingsError as exc:
        raise KioskError(str(exc)) from exc


def _verify(bundle: Path, trusted: Path | None, settings: Settings) -> Verified:
    from datetime import timedelta

    from contracts.signing import Trust, TrustError
    from contracts.verify import BundleRejected, verify_bundle
    from kiosk.config.bundle_store import ConfigStore, ConfigStoreError
    from kiosk.config.settings import data_dir_of, trust_dir

    data, central = data_dir_of(settings), settings.central
    try:
        trust = Trust.load(trusted or trust_dir(settings))
        last = ConfigStore(data / "config").state().highest
        raw = bundle.read_bytes()
    except (TrustError, ConfigStoreError, OSError) as exc:
        raise KioskError(f"config: {exc}") from exc
    try:
        return verify_bundle(
            raw, trust, kiosk_id=central.kiosk_id, groups=frozenset(central.groups),
            last_version=last, max_skew=timedelta(seconds=central.config_clock_skew),
            max_validity=timedelta(days=central.config_max_days),
        )  # fmt: skip
    except BundleRejected as exc:
        raise KioskError(f"config: refused: {exc}") from exc


@cli.group()
def config() -> None:
    """Signed configuration bundles (verify before apply; apply is atomic)."""


@config.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@TRUSTED
@CONFIG
@DATA_DIR
def config_verify(
    bundle: Path, trusted: Path | None, config_file: Path | None, data_dir: Path | None
) -> None:
    """Check a bundle's signatures, expiry, version, target and schema; change nothing."""
    verified = _verify(bundle, trusted, _settings(config_file, data_dir))
    click.echo(f"ok: version {verified.version}, expires {verified.expires_at.isoformat()}")


@config.command("apply")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@TRUSTED
@CONFIG
@DATA_DIR
def config_apply(
    bundle: Path, trusted: Path | None, config_file: Path | None, data_dir: Path | None
) -> None:
    """Verify, then make the bundle the applied configuration (the old one is kept)."""
    from kiosk.config.bundle_store import ConfigStore, ConfigStoreError
    from kiosk.config.settings import data_dir_of

    settings = _settings(config_file, data_dir)
    verified = _verify(bundle, trusted, settings)
    data = data_dir_of(settings)
    try:
        state = ConfigStore(data / "config").apply(verified.version, verified.raw)
    except (ConfigStoreError, OSError) as exc:
        raise KioskError(f"config: {exc}") from exc
    click.echo(f"applied version {state.current} (previous {state.previous})")


@config.command("rollback")
@CONFIG
@DATA_DIR
def config_rollback(config_file: Path | None, data_dir: Path | None) -> None:
    """Go back to the previous applied configuration."""
    from kiosk.config.bundle_store import ConfigStore, ConfigStoreError

    data = _data(config_file, data_dir)
    try:
        state = ConfigStore(data / "config").rollback()
    except (ConfigStoreError, OSError) as exc:
        raise KioskError(f"config: {exc}") from exc
    click.echo(f"back to version {state.current}")


@config.command("show")
@click.option("--json", "as_json", is_flag=True)
@CONFIG
@DATA_DIR
def config_show(as_json: bool, config_file: Path | None, data_dir: Path | None) -> None:
    """The applied version, when, the previous one, and the applied payload."""
    from contracts.canonical import strict_loads
    from kiosk.config.bundle_store import ConfigStore, ConfigStoreError

    data = _data(config_file, data_dir)
    store = ConfigStore(data / "config")
    try:
        state = store.state()
        raw = store.current_bundle()
    except (ConfigStoreError, OSError) as exc:
        raise KioskError(f"config: {exc}") from exc
    payload = strict_loads(raw)["signed"]["payload"] if raw else None
    body = {**state.__dict__, "payload": payload}
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    if state.current is None:
        click.echo("no configuration bundle applied: the local configuration file rules")
        return
    click.echo(f"version {state.current}, applied {state.applied_at}, previous {state.previous}")
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
