"""An ESC/POS printer in software: a TCP listener (port 9100 by default), or a serial line on a
pty, that records every job's bytes, keeps a PNG preview of the last receipt, and answers DLE EOT
status queries.

Faults by name: ``paper_out`` and ``cover_open`` (reported by status, jobs refused), ``unplugged``
(the port stops listening). A connection that starts with DLE EOT is a status query; any other
connection is a print job, recorded when the sender closes it. On the serial line, where there are
no connections, a job ends when the line has been quiet for half a second, as a printer finishes.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from abc import ABC, abstractmethod
from datetime import datetime
from pathlib import Path

from drivers.escpos_status import DLE_EOT_OFFLINE, DLE_EOT_PAPER, offline_byte, paper_byte
from drivers.pty_link import close_linked_pty, open_linked_pty

log = logging.getLogger(__name__)
FAULTS = frozenset({"paper_out", "cover_open", "unplugged"})


class _Sink(ABC):
    """What both sinks share: the faults, the job count, and an inject that returns only once
    an unplug or replug has taken effect (so a test or the simulator bar sees it at once)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._faults: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs = 0

    @abstractmethod
    def _plugged(self) -> bool:
        """Whether the sink's port is there (not unplugged)."""

    def inject(self, fault: str, active: bool = True) -> None:
        """Set or clear a fault; an unplug or replug has taken effect when this returns."""
        if fault not in FAULTS:
            raise ValueError(f"unknown printer sink fault {fault!r}")
        (self._faults.add if active else self._faults.discard)(fault)
        if fault == "unplugged" and self._thread is not None:
            deadline = time.monotonic() + 2
            while self._plugged() == active and time.monotonic() < deadline:
                time.sleep(0.01)


class EscposSink(_Sink):
    def __init__(self, out_dir: Path, *, host: str = "127.0.0.1", port: int = 9100) -> None:
        super().__init__(out_dir)
        self.host, self.port = host, port
        self._listener: socket.socket | None = None

    def _plugged(self) -> bool:
        return self._listener is not None

    def start(self) -> int:
        """Listen (port 0 picks a free one) and return the port."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._listen()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="escpos-sink", daemon=True)
        self._thread.start()
        return self.port

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(4)
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._listener = sock

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _run(self) -> None:
        while not self._stop.is_set():
            if "unplugged" in self._faults:
                if self._listener is not None:
                    self._listener.close()
                    self._listener = None
                self._stop.wait(0.05)
                continue
            if self._listener is None:
                self._listen()
            assert self._listener is not None
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                continue
            with conn:
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = bytearray()
        paper_out, cover_open = "paper_out" in self._faults, "cover_open" in self._faults
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                answers = answer_status_queries(data, self._faults)
                if answers:
                    conn.sendall(answers)
        except OSError as exc:
            log.info("printer sink: connection ended: %s", exc)
        if data and not (paper_out or cover_open):
            self._record(bytes(data))

    def _record(self, data: bytes) -> None:
        record_job(self.out_dir, data)
        self.jobs += 1  # last: a job counts once its files are all written


class EscposSerialSink(_Sink):
    """The same printer on a serial line: a pty whose slave is reachable at *link*."""

    IDLE_SECONDS = 0.5

    def __init__(self, out_dir: Path, link: Path) -> None:
        super().__init__(out_dir)
        self.link = link
        self._master = self._slave = -1

    def _plugged(self) -> bool:
        return self._master >= 0

    def start(self) -> str:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="escpos-serial-sink", daemon=True)
        self._thread.start()
        return str(self.link)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._close()

    def _open(self) -> None:
        self._master, self._slave = open_linked_pty(self.link)

    def _close(self) -> None:
        close_linked_pty(self.link, self._master, self._slave)
        self._master = self._slave = -1

    def _run(self) -> None:
        data = bytearray()
        while not self._stop.is_set():
            if "unplugged" in self._faults:
                if self._master >= 0:
                    self._close()
                    data.clear()
                self._stop.wait(0.05)
                continue
            if self._master < 0:
                self._open()
            ready, _, _ = select.select([self._master], [], [], self.IDLE_SECONDS)
            if ready:
                try:
                    data += os.read(self._master, 65536)
                except OSError:
                    continue
                answers = answer_status_queries(data, self._faults)
                if answers:
                    os.write(self._master, answers)
            elif data:  # the line went quiet: the job is complete
                if not self._faults & {"paper_out", "cover_open"}:
                    record_job(self.out_dir, bytes(data))
                    self.jobs += 1
                data.clear()


def answer_status_queries(data: bytearray, faults: set[str]) -> bytes:
    """Consume DLE EOT queries at the head of *data*; return the printer's answers to them."""
    paper_out, cover_open = "paper_out" in faults, "cover_open" in faults
    answers = bytearray()
    while data[:3] in (DLE_EOT_OFFLINE, DLE_EOT_PAPER):
        query = bytes(data[:3])
        del data[:3]
        answers.append(
            offline_byte(cover_open=cover_open, paper_out=paper_out)
            if query == DLE_EOT_OFFLINE
            else paper_byte(paper_out=paper_out)
        )
    return bytes(answers)


def record_job(out_dir: Path, data: bytes) -> None:
    """Keep one job's bytes, replace last-receipt.bin atomically and render its preview."""
    from drivers.escpos_preview import PreviewError, render_preview

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    (out_dir / f"receipt-{stamp}.bin").write_bytes(data)
    tmp = out_dir / "last-receipt.bin.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, out_dir / "last-receipt.bin")
    try:
        tmp_png = out_dir / "last-receipt.png.tmp"
        render_preview(data).save(tmp_png, format="PNG")
        os.replace(tmp_png, out_dir / "last-receipt.png")  # whoever sees the file sees all of it
    except PreviewError as exc:
        log.warning("printer sink: no preview for the last job: %s", exc)
