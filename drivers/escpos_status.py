"""ESC/POS real-time status (DLE EOT): ask the printer whether it has paper and a closed cover.

Only transports that read back can answer; the bits are those of the ESC/POS reference:
``DLE EOT 2`` (offline status) bit 2 = cover open, bit 5 = stopped for paper;
``DLE EOT 4`` (roll sensor) bits 2-3 = paper near end, bits 5-6 = paper end.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

DLE_EOT_OFFLINE = b"\x10\x04\x02"
DLE_EOT_PAPER = b"\x10\x04\x04"


@dataclass(frozen=True)
class PaperStatus:
    paper_out: bool
    paper_low: bool
    cover_open: bool


def parse_status(offline: int, paper: int) -> PaperStatus:
    return PaperStatus(
        paper_out=bool(paper & 0x60) or bool(offline & 0x20),
        paper_low=bool(paper & 0x0C),
        cover_open=bool(offline & 0x04),
    )


def offline_byte(*, cover_open: bool, paper_out: bool) -> int:
    """The byte a printer answers to DLE EOT 2 (bits 1 and 4 are always set)."""
    return 0x12 | (0x04 if cover_open else 0) | (0x20 if paper_out else 0)


def paper_byte(*, paper_out: bool, paper_low: bool = False) -> int:
    return 0x12 | (0x60 if paper_out else 0) | (0x0C if paper_low else 0)


def query_network(host: str, port: int, timeout: float) -> PaperStatus:
    """Ask a network printer for its status over its own short connection; raises OSError."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        answers = []
        for query in (DLE_EOT_OFFLINE, DLE_EOT_PAPER):
            sock.sendall(query)
            byte = sock.recv(1)
            if len(byte) != 1:
                raise OSError("printer closed the connection during a status query")
            answers.append(byte[0])
    return parse_status(*answers)


def query_serial(port: str, baud: int, timeout: float) -> PaperStatus:
    """Ask a serial printer for its status over the line; raises OSError (unplugged, silent)."""
    import serial

    from drivers.serial_errors import serial_errors

    try:
        with serial.serial_for_url(port, baudrate=baud, timeout=timeout) as line:
            line.reset_input_buffer()
            answers = []
            for query in (DLE_EOT_OFFLINE, DLE_EOT_PAPER):
                line.write(query)
                byte = line.read(1)
                if len(byte) != 1:
                    raise OSError(f"no answer to a status query in {timeout:.1f} s")
                answers.append(byte[0])
    except OSError:
        raise
    except serial_errors() as exc:
        raise OSError(str(exc)) from exc
    return parse_status(*answers)
