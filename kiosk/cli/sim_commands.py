"""``kiosk sim sam-reader | smartcard | printer``: device simulators for test rigs, each serving
until interrupted."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.cli.common import cli, serve_until_stopped
from kiosk.errors import KioskError


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
    serve_until_stopped(started, simulator.stop)


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
    serve_until_stopped(card.start(), card.stop)


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
    serve_until_stopped(str(actual), sink.stop)
