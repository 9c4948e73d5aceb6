"""``kiosk diag devices | selftest | logs | bundle | hash-pin``: the diagnostics mode's facts for
SSH sessions and rigs (issue 6). The one-device checks are in ``device_checks.py``."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiosk.cli.common import (
    CONFIG,
    DATA_DIR,
    SIMULATE_DIAG,
    WAIT,
    cli,
    data_dir_from,
    open_outbox,
    settings_from,
)
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.config.settings import Settings
    from offline.outbox import OutboxStore


@cli.group()
def diag() -> None:
    """Technician diagnostics: devices, self-tests, logs, the bundle; one device at a time."""


@contextlib.contextmanager
def _diag_devices(
    settings: Settings, simulate: bool, wait: float, needed: bool = True
) -> Iterator[dict[Any, Any]]:
    """The configured devices, started and settled, by kind ({} when not *needed*)."""
    if not needed:
        yield {}
        return
    from drivers.registry import ConfigError
    from kiosk.technician.devices import running_devices

    try:
        with running_devices(
            settings, data_dir_from(settings), simulate=simulate, wait=wait
        ) as manager:
            yield manager.devices
    except ConfigError as exc:
        raise KioskError(str(exc)) from exc


@diag.command("devices")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per device.")
@SIMULATE_DIAG
@WAIT
@CONFIG
@DATA_DIR
def diag_devices(
    as_json: bool, simulate: bool, wait: float, config_file: Path | None, data_dir: Path | None
) -> None:
    """Every configured device: state, problem in plain words, counters, last fault, where."""
    from kiosk.technician.devices import device_rows, format_row
    from kiosk.technician.worker_file import format_workers, read_worker_file

    settings = settings_from(config_file, data_dir)
    with _diag_devices(settings, simulate, wait) as devs:
        rows = device_rows(devs.values())
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo("\n".join(format_row(row)))
    # The running terminal's own loops (sync, device threads), from the file it keeps.
    workers = read_worker_file(data_dir_from(settings))
    if workers is not None:
        if as_json:
            click.echo(json.dumps({"workers": workers}, ensure_ascii=False))
        else:
            click.echo("\n".join(format_workers(workers)))


def _selftest_context(
    settings: Settings, devices: dict[Any, Any], store: OutboxStore | None
) -> Any:
    from kiosk.technician.selftests import SelfTestContext
    from kiosk.technician.snapshot import health_snapshot

    return SelfTestContext(
        data_dir=data_dir_from(settings),
        devices=devices,
        store=store,
        central_url=settings.central.url,
        kiosk_id=settings.central.kiosk_id,
        token=settings.central.token,
        ca_file=str(settings.central.ca_file) if settings.central.ca_file else None,
        snapshot=lambda: health_snapshot(
            settings, devices=devices.values(), store=store, log_lines=0
        ),
    )


def _check_selftest_names(names: tuple[str, ...]) -> list[str] | None:
    from kiosk.technician.selftests import SELFTESTS

    unknown = [n for n in names if n not in SELFTESTS]
    if unknown:
        raise click.UsageError(
            f"no self-test named {', '.join(unknown)}; known: {', '.join(SELFTESTS)}"
        )
    return list(names) if names else None


# Self-tests that do not need the devices started (the others do; the network test reports
# device states in its heartbeat, so it must see them as they are).
_DEVICE_FREE_TESTS = frozenset({"disk", "outbox"})


@diag.command("selftest")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per self-test.")
@SIMULATE_DIAG
@WAIT
@CONFIG
@DATA_DIR
def diag_selftest(
    names: tuple[str, ...],
    as_json: bool,
    simulate: bool,
    wait: float,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Run self-tests: card, print, camera, network, disk, outbox (default: all). Exit code 1
    when one fails."""
    from kiosk.technician.selftests import run_selftests, save_last

    chosen = _check_selftest_names(names)
    settings = settings_from(config_file, data_dir)
    needed = chosen is None or not set(chosen) <= _DEVICE_FREE_TESTS
    store = open_outbox(settings)
    try:
        with _diag_devices(settings, simulate, wait, needed) as devs:
            results = run_selftests(chosen, _selftest_context(settings, devs, store))
    finally:
        if store is not None:
            store.close()
    save_last(data_dir_from(settings), results)
    for r in results:
        if as_json:
            click.echo(json.dumps(r.as_json(), ensure_ascii=False))
        else:
            click.echo(f"{r.verdict.upper():<5} {r.name:<8} {r.summary}  ({r.duration:.1f} s)")
    failed = [r.name for r in results if not r.passed]
    if failed:
        raise KioskError(f"self-test failed: {', '.join(failed)}")


@diag.command("logs")
@click.option("-n", "lines", default=100, show_default=True, help="How many entries.")
@click.option("--device", help="Only entries about this device (e.g. receipt_printer).")
@click.option(
    "--level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
    help="Only entries at this level or above.",
)
@click.option("--json", "as_json", is_flag=True, help="The entries as JSON lines.")
@CONFIG
@DATA_DIR
def diag_logs(
    lines: int,
    device: str | None,
    level: str | None,
    as_json: bool,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """The last log entries of the terminal (personal data is masked when written)."""
    from kiosk.logs import tail_logs

    if lines < 1:
        raise click.BadParameter("must be at least 1", param_hint="-n")
    settings = settings_from(config_file, data_dir)
    for entry in tail_logs(data_dir_from(settings) / "logs", n=lines, device=device, level=level):
        if as_json:
            click.echo(json.dumps(entry, ensure_ascii=False))
            continue
        who = entry.get("device") or entry.get("logger", "")
        click.echo(
            f"{entry.get('ts', '')} {entry.get('level', ''):<7} {who}: {entry.get('message')}"
        )
        if entry.get("exc"):
            click.echo("    " + str(entry["exc"]).replace("\n", "\n    "))


@diag.command("bundle")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip to write (default: diagnostics/bundle-KIOSK-TIME.zip in the data directory).",
)
@click.option(
    "--selftest",
    "selftests",
    multiple=True,
    metavar="NAME",
    help="Self-tests to run into the bundle (default: those that use no paper and no card).",
)
@click.option("--no-selftest", is_flag=True, help="Run no self-test.")
@SIMULATE_DIAG
@WAIT
@CONFIG
@DATA_DIR
def diag_bundle(
    out: Path | None,
    selftests: tuple[str, ...],
    no_selftest: bool,
    simulate: bool,
    wait: float,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Write the redacted diagnostics zip: versions, configuration without secrets, devices and
    counters, outbox statistics, recent logs, self-test results."""
    from kiosk.technician.diag_bundle import default_bundle_path, write_bundle
    from kiosk.technician.selftests import SELFTESTS, run_selftests, save_last
    from kiosk.technician.snapshot import health_snapshot

    chosen = _check_selftest_names(selftests)
    if no_selftest:
        chosen = []
    elif chosen is None:
        chosen = [name for name, test in SELFTESTS.items() if not test.invasive]
    settings = settings_from(config_file, data_dir)
    path = out or default_bundle_path(data_dir_from(settings), settings.central.kiosk_id)
    store = open_outbox(settings)
    try:
        with _diag_devices(settings, simulate, wait) as devs:
            results = run_selftests(chosen, _selftest_context(settings, devs, store))
            snapshot = health_snapshot(
                settings, devices=devs.values(), store=store, selftests=results
            )
    finally:
        if store is not None:
            store.close()
    if results:
        save_last(data_dir_from(settings), results)
    try:
        write_bundle(path, snapshot)
    except OSError as exc:
        raise KioskError(f"bundle: cannot write {path}: {exc.strerror or exc}") from exc
    click.echo(str(path))


@diag.command("hash-pin")
def diag_hash_pin() -> None:
    """Read a technician PIN (stdin, or a hidden prompt) and print its scrypt hash line for the
    configuration's list of technician PIN hashes."""
    from kiosk.technician.access import PinError, check_pin, hash_pin

    if sys.stdin.isatty():
        pin = click.prompt("Technician PIN", hide_input=True, confirmation_prompt=True)
    else:
        pin = sys.stdin.readline().strip()
    try:
        check_pin(pin)
    except PinError as exc:
        raise KioskError(f"hash-pin: {exc}") from exc
    click.echo(hash_pin(pin))
