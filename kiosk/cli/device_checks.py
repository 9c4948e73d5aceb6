"""``kiosk diag read-card | print-test | camera``: try one device directly, by driver and port,
without the terminal's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kiosk.cli.diag_commands import diag
from kiosk.errors import KioskError


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
    from drivers.receipt_printer import (
        EscposFilePrinter,
        EscposNetworkPrinter,
        EscposSerialPrinter,
        EscposUsbPrinter,
        PrinterError,
        ReceiptPrinter,
    )
    from kiosk.technician.print_test_receipt import print_test_receipt

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
    receipt = print_test_receipt(driver, encoding, columns)
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
