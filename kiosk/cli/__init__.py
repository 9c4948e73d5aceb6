"""The ``kiosk`` command line (DESIGN.md's CLI contract).

Exit codes: 0 ok, 1 failure, 2 usage. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiosk import __version__
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.config.settings import Settings
    from offline.outbox import OutboxStore


CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML configuration file (default: built-in, simulated devices).",
)
DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where all state lives (env KIOSK_DATA_DIR; default: the user data directory).",
)


def _settings(config_file: Path | None, data_dir: Path | None) -> Settings:
    from kiosk.config.settings import load_settings  # pydantic: only for commands that need it

    return load_settings(config_file, data_dir)


def _data_dir(settings: Settings) -> Path:
    from kiosk.config.settings import data_dir_of

    return data_dir_of(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kiosk")
def cli() -> None:
    """Self-service terminal for community service centres."""


@cli.command()
@click.option(
    "--simulate", is_flag=True, help="Use simulated devices whatever the configuration says."
)
@click.option(
    "--windowed", is_flag=True, help="A normal window instead of full screen (development)."
)
@CONFIG
@DATA_DIR
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def run(
    simulate: bool, windowed: bool, config_file: Path | None, data_dir: Path | None, verbose: bool
) -> None:
    """Run the terminal (full screen; simulated devices when nothing is configured)."""
    # Settings are validated inside the app, after the first frame (see kiosk/app.py).
    from kiosk.app import run as run_app

    code = run_app(
        config_file,
        data_dir,
        simulate=simulate or config_file is None,
        windowed=windowed,
        verbose=verbose,
    )
    if code:
        raise SystemExit(code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per device.")
@click.option("--simulate", is_flag=True, help="Check the simulated devices instead.")
@click.option("--wait", default=3.0, show_default=True, help="Seconds to let devices settle.")
@CONFIG
@DATA_DIR
def devices(
    as_json: bool, simulate: bool, wait: float, config_file: Path | None, data_dir: Path | None
) -> None:
    """Open each configured device briefly and report its state."""
    from drivers.base import DeviceState
    from drivers.manager import DeviceManager
    from drivers.registry import ConfigError

    settings = _settings(config_file, data_dir)
    if simulate:
        settings = settings.simulated()
    try:
        manager = DeviceManager.from_config(settings.device_config(), _data_dir(settings))
    except ConfigError as exc:
        raise KioskError(str(exc)) from exc
    manager.start()
    # Settled: past connecting, and either up or with a fault that says why not.
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(
        st.state is DeviceState.CONNECTING or (st.state is DeviceState.ABSENT and st.fault is None)
        for st in manager.statuses()
    ):
        time.sleep(0.05)
    statuses = manager.statuses()
    manager.stop()
    rows: list[dict[str, Any]] = [
        {
            "name": st.name,
            "kind": st.kind.value,
            "driver": st.driver,
            "state": st.state.value,
            "fault": None
            if st.fault is None
            else {
                "code": st.fault.code,
                "message_key": st.fault.message_key,
                "detail": st.fault.detail,
            },
        }
        for st in statuses
    ]
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
    else:
        for r in rows:
            fault = f"  ({r['fault']['code']}: {r['fault']['detail']})" if r["fault"] else ""
            click.echo(f"{r['name']:<18} {r['driver']:<14} {r['state']}{fault}")


@cli.group()
def queue() -> None:
    """The local outbox of recorded transactions."""


def _open_store(settings: Settings, *, must_exist: bool = False) -> OutboxStore | None:
    from offline.db import DatabaseError
    from offline.outbox import OutboxError

    path = _data_dir(settings) / "kiosk.db"
    if must_exist is False and not path.exists():
        return None
    try:
        return settings.open_outbox(path)
    except (DatabaseError, OutboxError) as exc:
        raise KioskError(str(exc)) from exc


@queue.command("status")
@click.option("--json", "as_json", is_flag=True)
@CONFIG
@DATA_DIR
def queue_status(as_json: bool, config_file: Path | None, data_dir: Path | None) -> None:
    """How many transactions wait to be delivered, since when, and the dead letters."""
    from offline.outbox import OUTBOX_STATES, OutboxStatus

    settings = _settings(config_file, data_dir)
    path = _data_dir(settings) / "kiosk.db"
    st = OutboxStatus(0, dict.fromkeys(OUTBOX_STATES, 0), None)
    dead: list[dict[str, object]] = []
    facts: dict[str, str] = {}
    store = _open_store(settings)
    if store is not None:
        st = store.status()
        dead = [d.__dict__ for d in store.dead_letters()]
        facts = store.facts()
        store.close()
    if as_json:
        body = {
            "database": str(path),
            "total": st.total,
            "by_state": st.by_state,
            "waiting": st.waiting,
            "oldest_pending_at": st.oldest_pending_at,
            "size_bytes": st.size_bytes,
            "max_bytes": st.max_bytes,
            "capacity_warning": st.capacity_warning,
            "holding_personal_data": st.sealed,
            "dead_letters": dead,
            "last_sync": facts.get("last_sync"),
        }
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    click.echo(f"database: {path}")
    click.echo(f"transactions: {st.total}")
    for state, n in st.by_state.items():
        click.echo(f"  {state:<13} {n}")
    if st.oldest_pending_at:
        click.echo(f"oldest waiting since: {st.oldest_pending_at}")
    warn = "  (over 80%: deliver or raise the limit)" if st.capacity_warning else ""
    click.echo(f"size: {st.size_bytes} of {st.max_bytes} bytes{warn}")
    if facts.get("last_sync"):
        click.echo(f"last sync: {facts['last_sync']}")
    for d in dead:
        click.echo(f"dead seq={d['seq']} {d['service']} {d['status']}: {d['reason']}")


@queue.command("enqueue")
@click.option("--service", required=True, help="Service code, e.g. queue_ticket.")
@click.option("--payload", required=True, help="A JSON object.")
@CONFIG
@DATA_DIR
def queue_enqueue(
    service: str, payload: str, config_file: Path | None, data_dir: Path | None
) -> None:
    """Record one transaction durably; print its uuid once it is on disk."""
    from offline.outbox import OutboxError

    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from exc
    if not isinstance(body, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--payload")
    settings = _settings(config_file, data_dir)
    store = _open_store(settings, must_exist=True)
    assert store is not None
    try:
        rec = store.record(service, body)
    except OutboxError as exc:
        raise KioskError(str(exc)) from exc
    finally:
        store.close()
    click.echo(rec.uuid)


@queue.command("sync")
@click.option("--once", is_flag=True, help="Deliver what waits now, then exit.")
@CONFIG
@DATA_DIR
def queue_sync(once: bool, config_file: Path | None, data_dir: Path | None) -> None:
    """Deliver waiting transactions to the platform (`[central]` url, kiosk_id, token)."""
    from kiosk.platform_link.syncing import make_client, make_sync_worker
    from offline.sync import RefusedError, TransientError

    settings = _settings(config_file, data_dir)
    store = _open_store(settings, must_exist=True)
    assert store is not None
    try:
        client = make_client(store, settings)
        if client is None:
            raise KioskError(
                "queue sync: no platform configured (set [central] url and token, or "
                "KIOSK_CENTRAL_URL and KIOSK_TOKEN)"
            )
        if once:
            try:
                result = client.push()
            except (TransientError, RefusedError) as exc:
                left = store.status().waiting
                raise KioskError(f"queue sync: {exc} ({left} still waiting)") from exc
            left = store.status().waiting
            click.echo(
                f"sent {result.sent}, acknowledged {result.acknowledged}, dead {result.dead}, "
                f"{left} waiting"
            )
            return
        worker = make_sync_worker(store, settings)
        worker.add_listener(lambda st: click.echo(describe_sync(st), err=True))
        _serve(settings.central.url or "", worker.stop, start=worker.start)
    finally:
        store.close()


def describe_sync(status: object) -> str:
    from offline.sync import SyncStatus, describe

    assert isinstance(status, SyncStatus)
    return describe(status)


@cli.group()
def diag() -> None:
    """Technician diagnostics: devices, self-tests, logs, the bundle; one device at a time."""


@diag.command("read-card")
@click.option("--driver", type=click.Choice(["sam-serial", "pcsc"]), required=True)
@click.option("--port", help="sam-serial: serial port, pty path or socket://host:port.")
@click.option("--reader", help="pcsc: part of the reader's name (default: the first reader).")
@click.option("--baud", default=115200, show_default=True)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for a card.")
@click.option("--json", "as_json", is_flag=True, help="Print the card as one JSON object.")
def diag_read_card(
    driver: str, port: str | None, reader: str | None, baud: int, timeout: float, as_json: bool
) -> None:
    """Read one card: an ID card's fields (personal data: for the technician's eyes only), or a
    smart card's reader, ATR and UID."""
    if driver == "pcsc":
        _read_smart_card(reader, timeout, as_json)
        return
    if port is None:
        raise click.UsageError("--driver sam-serial needs --port")
    from drivers.sam_reader import SamError, read_once

    try:
        card = read_once(port, baud, timeout)
    except SamError as exc:
        raise KioskError(f"read-card: {exc.code}: {exc.detail}") from exc
    fields = card.as_json()
    if as_json:
        click.echo(json.dumps(fields, ensure_ascii=False))
    else:
        for key, value in fields.items():
            click.echo(f"{key:<13} {value}")


def _read_smart_card(reader: str | None, timeout: float, as_json: bool) -> None:
    from drivers.apdu import PcscError
    from drivers.pcsc_reader import read_once

    try:
        card = read_once(reader, timeout)
    except PcscError as exc:
        raise KioskError(f"read-card: {exc.code}: {exc.detail}") from exc
    fields = card.as_json()
    if as_json:
        click.echo(json.dumps(fields))
    else:
        for key, value in fields.items():
            click.echo(f"{key:<7} {value if value is not None else '(none)'}")


@diag.command("print-test")
@click.option(
    "--driver",
    type=click.Choice(["escpos-file", "escpos-network", "escpos-serial", "escpos-usb"]),
    required=True,
)
@click.option(
    "--path", type=click.Path(dir_okay=False, path_type=Path), help="escpos-file: target."
)
@click.option("--host", help="escpos-network: printer address.")
@click.option(
    "--port", help="escpos-network: TCP port (default 9100); escpos-serial: the serial port."
)
@click.option("--baud", default=19200, show_default=True, help="escpos-serial: line speed.")
@click.option("--usb", "usb_id", metavar="VID:PID", help="escpos-usb: ids as lsusb prints them.")
@click.option("--columns", default=48, show_default=True, help="48 on 80 mm paper, 32 on 58 mm.")
@click.option("--encoding", type=click.Choice(["gb18030", "gbk"]), default="gb18030")
def diag_print_test(
    driver: str,
    path: Path | None,
    host: str | None,
    port: str | None,
    baud: int,
    usb_id: str | None,
    columns: int,
    encoding: str,
) -> None:
    """Print a test receipt: Chinese and English text, a QR code and a cut."""
    from drivers.escpos_layout import PrinterProfile
    from drivers.receipt import Align, Qr, Receipt, Rule, Text
    from drivers.receipt_printer import (
        EscposFilePrinter,
        EscposNetworkPrinter,
        EscposSerialPrinter,
        EscposUsbPrinter,
        PrinterError,
        ReceiptPrinter,
    )

    def need(value: object, option: str) -> None:
        if not value:
            raise click.UsageError(f"--driver {driver} needs {option}")

    profile = PrinterProfile(columns=columns, encoding=encoding)
    printer: ReceiptPrinter
    if driver == "escpos-file":
        need(path, "--path")
        assert path is not None
        printer = EscposFilePrinter("printer", path, profile)
    elif driver == "escpos-network":
        need(host, "--host")
        if port is not None and not port.isdigit():
            raise click.BadParameter(f"{port!r} is not a TCP port", param_hint="--port")
        printer = EscposNetworkPrinter("printer", str(host), int(port or 9100), profile=profile)
    elif driver == "escpos-serial":
        need(port, "--port")
        printer = EscposSerialPrinter("printer", str(port), baud, profile=profile)
    else:
        need(usb_id, "--usb VID:PID")
        vid, _, pid = str(usb_id).partition(":")
        try:
            printer = EscposUsbPrinter("printer", int(vid, 16), int(pid, 16), profile=profile)
        except ValueError:
            raise click.BadParameter(
                f"{usb_id!r} is not VID:PID in hex", param_hint="--usb"
            ) from None
    receipt = Receipt(
        (
            Text("打印测试 Print test", scale=2, bold=True, align=Align.CENTER),
            Rule(),
            Text("中文：社区服务中心，排队取号，￥0.00"),
            Text("English: the quick brown fox jumps over the lazy dog 0123456789"),
            Text(f"{datetime_now()}  {driver}  {encoding}  {columns} cols"),
            Qr("KIOSK-PRINT-TEST"),
            Text("二维码 QR code", align=Align.CENTER),
        )
    )
    try:
        printer.print_receipt(receipt)
    except PrinterError as exc:
        raise KioskError(f"print-test: {exc.code}: {exc.detail}") from exc
    click.echo("test receipt sent")


@diag.command("camera")
@click.option("--source", required=True, help="Device index (0), video file or img_%03d.png.")
@click.option(
    "--snapshot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the last frame to this PNG.",
)
@click.option("--decode-qr", is_flag=True, help="Decode the QR codes seen while capturing.")
@click.option(
    "--seconds",
    type=click.FloatRange(0.5, 600),
    default=3.0,
    show_default=True,
    help="How long to capture.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def diag_camera(
    source: str, snapshot: Path | None, decode_qr: bool, seconds: float, as_json: bool
) -> None:
    """Capture from a camera: frame rate, frame size, faces, QR codes, and a snapshot."""
    from drivers.camera import CameraError
    from drivers.vision import probe_camera

    try:
        found = probe_camera(source, seconds=seconds, decode=decode_qr, snapshot=snapshot)
    except CameraError as exc:
        raise KioskError(f"camera: {exc.code}: {exc.detail}") from exc
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False))
        return
    click.echo(f"source      {found.source}")
    click.echo(f"frames      {found.frames} in {found.seconds:.1f} s ({found.fps:.1f} fps)")
    click.echo(f"frame size  {found.width}x{found.height}")
    boxes = ", ".join(f"{w}x{h} at {x},{y}" for x, y, w, h in found.faces)
    click.echo(f"faces       {len(found.faces)}{f' ({boxes})' if boxes else ''}")
    if found.qr is not None:
        click.echo(f"qr          {', '.join(found.qr) if found.qr else 'none'}")
    if found.snapshot:
        click.echo(f"snapshot    {found.snapshot}")


# -- the diagnostics mode's facts, for SSH sessions and rigs (issue 6) ---------------------------
SIMULATE_DIAG = click.option(
    "--simulate",
    is_flag=True,
    help="Replace every device that is not a simulator by one (simulator options such as "
    "faults are kept).",
)
WAIT = click.option(
    "--wait", default=3.0, show_default=True, help="Seconds to let devices settle after start."
)


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
            settings, _data_dir(settings), simulate=simulate, wait=wait
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

    settings = _settings(config_file, data_dir)
    with _diag_devices(settings, simulate, wait) as devs:
        rows = device_rows(devs.values())
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo("\n".join(format_row(row)))


def _selftest_context(
    settings: Settings, devices: dict[Any, Any], store: OutboxStore | None
) -> Any:
    from kiosk.technician.selftests import SelfTestContext
    from kiosk.technician.snapshot import health_snapshot

    return SelfTestContext(
        data_dir=_data_dir(settings),
        devices=devices,
        store=store,
        central_url=settings.central.url,
        kiosk_id=settings.central.kiosk_id,
        token=settings.central.token,
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
    settings = _settings(config_file, data_dir)
    needed = chosen is None or not set(chosen) <= _DEVICE_FREE_TESTS
    store = _open_store(settings)
    try:
        with _diag_devices(settings, simulate, wait, needed) as devs:
            results = run_selftests(chosen, _selftest_context(settings, devs, store))
    finally:
        if store is not None:
            store.close()
    save_last(_data_dir(settings), results)
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
    settings = _settings(config_file, data_dir)
    for entry in tail_logs(_data_dir(settings) / "logs", n=lines, device=device, level=level):
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
    settings = _settings(config_file, data_dir)
    path = out or default_bundle_path(_data_dir(settings), settings.central.kiosk_id)
    store = _open_store(settings)
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
        save_last(_data_dir(settings), results)
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


def datetime_now() -> str:
    from datetime import datetime

    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _serve(address: str, stop: Callable[[], None], start: Callable[[], None] | None = None) -> None:
    """Print where a simulator listens, then keep it up until SIGTERM or Ctrl-C."""
    import signal

    if start is not None:
        start()
    click.echo(address)
    sys.stdout.flush()
    done = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: done.update(now=True))
    try:
        while not done["now"]:
            time.sleep(0.2)
    finally:
        stop()


@cli.group()
def sim() -> None:
    """Device simulators for test rigs (each runs until interrupted)."""


@sim.command("sam-reader")
@click.option(
    "--link",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Serve on a pty and put a symlink to it here.",
)
@click.option(
    "--tcp", metavar="HOST:PORT", help="Serve on TCP instead (socket://HOST:PORT; port 0 = any)."
)
@click.option("--baud", default=115200, show_default=True)
@click.option("--card", type=click.IntRange(1, 3), help="Present sample resident N at start.")
@click.option("--fault", "faults", multiple=True, help="Inject a fault (repeatable).")
def sim_sam_reader(
    link: Path | None, tcp: str | None, baud: int, card: int | None, faults: tuple[str, ...]
) -> None:
    """A SAM ID card reader on a pty or TCP port; prints the port, then serves until interrupted."""
    from drivers.sim_cards import SAMPLE_CARDS
    from drivers.sim_sam import SamSimulator

    if (link is None) == (tcp is None):
        raise click.UsageError("give exactly one of --link PATH or --tcp HOST:PORT")
    address = None
    if tcp is not None:
        host, _, port = tcp.rpartition(":")
        if not host or not port.isdigit():
            raise click.BadParameter(f"{tcp!r} is not HOST:PORT", param_hint="--tcp")
        address = (host, int(port))
    try:
        simulator = SamSimulator(link, tcp=address, baud=baud, faults=frozenset(faults))
        started = simulator.start()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except OSError as exc:
        raise KioskError(f"sim sam-reader: cannot serve: {exc}") from exc
    if card:
        simulator.present(SAMPLE_CARDS[card - 1])
    _serve(started, simulator.stop)


def _hex_bytes(ctx: click.Context, param: click.Parameter, value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return bytes.fromhex(value.replace(":", ""))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not hex", ctx, param) from None


@sim.command("smartcard")
@click.option("--uid", callback=_hex_bytes, help="The card's UID in hex (default 04A1B2C3D4E5F6).")
@click.option("--atr", callback=_hex_bytes, help="The card's ATR in hex (default 3B80800101).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where vpcd listens.")
@click.option(
    "--port", default=35963, show_default=True, help="vpcd's port: 35963 for its first reader."
)
@click.option(
    "--fault", "faults", multiple=True,
    help="no_card, removed_mid_read, garbage, silence, unplugged (repeatable).",
)  # fmt: skip
def sim_smartcard(
    uid: bytes | None, atr: bytes | None, host: str, port: int, faults: tuple[str, ...]
) -> None:
    """A contactless card in pcscd's virtual reader (vsmartcard's vpcd); prints vpcd's address,
    then stays inserted until interrupted."""
    from drivers.sim_vpcd import DEFAULT_ATR, DEFAULT_UID, VirtualCard

    try:
        card = VirtualCard(
            host=host,
            port=port,
            uid=uid or DEFAULT_UID,
            atr=atr or DEFAULT_ATR,
            faults=frozenset(faults),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    card.insert()
    _serve(card.start(), card.stop)


@sim.command("printer")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9100, show_default=True, help="0 picks a free port.")
@click.option(
    "--serial-link",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Be a serial printer on a pty linked here instead of a network one.",
)
@click.option("--fault", "faults", multiple=True, help="paper_out, cover_open, unplugged.")
def sim_printer(
    out_dir: Path, host: str, port: int, serial_link: Path | None, faults: tuple[str, ...]
) -> None:
    """An ESC/POS printer that records jobs; prints its port, serves until interrupted."""
    from drivers.sim_escpos_sink import EscposSerialSink, EscposSink

    sink = (
        EscposSerialSink(out_dir, serial_link)
        if serial_link
        else EscposSink(out_dir, host=host, port=port)
    )
    try:
        for fault in faults:
            sink.inject(fault)
        actual = sink.start()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except OSError as exc:
        where = serial_link or f"{host}:{port}"
        raise KioskError(f"sim printer: cannot serve on {where}: {exc.strerror}") from exc
    _serve(str(actual), sink.stop)


@cli.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@CONFIG
def gallery(out_dir: Path, config_file: Path | None) -> None:
    """Render every screen in every theme and language to PNG (offscreen), to preview a
    configuration: <screen>.<theme>.<language>.png."""
    settings = _settings(config_file, None)
    from kiosk.app import render_gallery

    written = render_gallery(settings, out_dir)
    click.echo(f"{len(written)} screens written to {out_dir}")


def _register_config_commands() -> None:
    from kiosk.cli.config_commands import register

    register(cli, CONFIG, DATA_DIR)


_register_config_commands()


def main(argv: list[str] | None = None) -> int:
    # Drivers log their faults; on the command line the one-line error says it, so log records
    # go nowhere unless a command sets up logging (run writes them to the data directory).
    if not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())
    try:
        cli.main(args=argv, prog_name="kiosk", standalone_mode=False)
    except click.UsageError as exc:
        hint = (
            f" (see 'kiosk {exc.ctx.command_path.partition(' ')[2]} --help')".replace("  ", " ")
            if exc.ctx
            else ""
        )
        click.echo(f"kiosk: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"kiosk: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("kiosk: aborted", err=True)
        return 1
    except KioskError as exc:
        click.echo(f"kiosk: {exc}", err=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the promise: never a traceback on a technician's terminal
        logging.getLogger("kiosk").exception("unexpected error")
        click.echo(f"kiosk: unexpected error: {type(exc).__name__}: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
