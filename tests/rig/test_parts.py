"""The rig's own parts without the terminal: reading a receipt back from its ESC/POS bytes, and
the network proxy cutting and restoring a connection."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from drivers.escpos_layout import PrinterProfile, render
from drivers.receipt import Feed, Qr, Receipt, Rule, Text
from kiosk.rig.escpos_text import ReceiptDecodeError, decode
from kiosk.rig.netproxy import NetworkProxy

RECEIPT = Receipt(
    (
        Text("和平里社区服务中心", scale=2, bold=True),
        Text("排队凭条  Queue ticket"),
        Rule(),
        Text("D001", scale=4),
        Text("前面还有 3 人等候￥"),
        Qr("KIOSK-TICKET:01a2-33"),
        Feed(2),
    )
)


@pytest.mark.parametrize("native_qr", [True, False], ids=["native QR", "raster QR"])
@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_a_receipt_reads_back_as_printed(native_qr: bool, encoding: str) -> None:
    data = render(RECEIPT, PrinterProfile(columns=48, encoding=encoding, native_qr=native_qr))
    receipt = decode(data, encoding)
    assert receipt.lines[:2] == ["和平里社区服务中心", "排队凭条  Queue ticket"]
    assert "-" * 48 in receipt.lines
    assert "D001" in receipt.lines
    assert "前面还有 3 人等候￥" in receipt.lines
    assert receipt.qr == ["KIOSK-TICKET:01a2-33"]
    assert receipt.cut


def test_bytes_that_are_not_a_receipt_are_an_error_not_a_guess() -> None:
    with pytest.raises(ReceiptDecodeError, match="cut short"):
        decode(b"\x1b@hello\x1d(k\x40\x00\x31")
    with pytest.raises(ReceiptDecodeError, match="unknown command ESC 0x7e"):
        decode(b"\x1b~x")


@pytest.fixture
def echo_server() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):  # the proxy resets what it cuts
                while data := conn.recv(1024):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, name="echo")
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def _echo(port: int, text: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        conn.sendall(text)
        return conn.recv(1024)


def test_the_proxy_relays_cuts_and_restores(echo_server: int) -> None:
    proxy = NetworkProxy(("127.0.0.1", echo_server)).start()
    try:
        assert _echo(proxy.port, b"one") == b"one"
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=3) as held:
            held.sendall(b"two")
            assert held.recv(16) == b"two"
            proxy.cut()  # a connection open when the cable is pulled fails
            with pytest.raises(OSError):
                held.sendall(b"three")
                if not held.recv(16):
                    raise ConnectionResetError("closed")
        with pytest.raises(OSError):  # and so does every new one while it is out
            if not _echo(proxy.port, b"four"):
                raise ConnectionResetError("closed")
        proxy.restore()
        assert _echo(proxy.port, b"five") == b"five"
    finally:
        proxy.stop()


@pytest.mark.parametrize(
    ("data", "where"),
    [(b"\x1b@ok\x1b~x", "unknown command ESC 0x7e at byte 4"), (b"\x1d(k\x40", "cut short")],
)
def test_the_preview_and_the_rig_read_a_receipt_with_one_parser(data: bytes, where: str) -> None:
    """Given bytes neither can follow, when the printer's preview draws them and the rig reads
    them, then both refuse them with the same words: a receipt one accepts, the other reads."""
    from drivers.escpos_preview import render_preview

    with pytest.raises(ReceiptDecodeError) as read:
        decode(data)
    with pytest.raises(ReceiptDecodeError) as drawn:
        render_preview(data)
    assert str(read.value) == str(drawn.value) and where in str(read.value)
    printed = render(RECEIPT, PrinterProfile(columns=48, encoding="gb18030", native_qr=True))
    assert decode(printed).qr == ["KIOSK-TICKET:01a2-33"]
    assert render_preview(printed).size[1] > 600
