"""An ESC/POS network printer in software: a TCP listener (port 9100 by default) that records
every job's bytes, keeps a PNG preview of the last receipt, and answers DLE EOT status queries.

Faults by name: ``paper_out`` and ``cover_open`` (reported by status, jobs refused), ``unplugged``
(the port stops listening). A connection that starts with DLE EOT is a status query; any other
connection is a print job, recorded when the sender closes it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime
from pathlib import Path

from drivers.escpos_status import DLE_EOT_OFFLINE, DLE_EOT_PAPER, offline_byte, paper_byte

log = logging.getLogger(__name__)
FAULTS = frozenset({"paper_out", "cover_open", "unplugged"})


class EscposSink:
    def __init__(self, out_dir: Path, *, host: str = "127.0.0.1", port: int = 9100) -> None:
        self.out_dir, self.host, self.port = out_dir, host, port
        self._faults: set[str] = set()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs = 0

    def inject(self, fault: str, active: bool = True) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown printer sink fault {fault!r}")
        (self._faults.add if active else self._faults.discard)(fault)

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
                while data[:3] in (DLE_EOT_OFFLINE, DLE_EOT_PAPER):
                    query = bytes(data[:3])
                    del data[:3]
                    answer = (
                        offline_byte(cover_open=cover_open, paper_out=paper_out)
                        if query == DLE_EOT_OFFLINE
                        else paper_byte(paper_out=paper_out)
                    )
                    conn.sendall(bytes([answer]))
        except OSError as exc:
            log.info("printer sink: connection ended: %s", exc)
        if data and not (paper_out or cover_open):
            self._record(bytes(data))

    def _record(self, data: bytes) -> None:
        from drivers.escpos_preview import PreviewError, render_preview

        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        (self.out_dir / f"receipt-{stamp}.bin").write_bytes(data)
        tmp = self.out_dir / "last-receipt.bin.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.out_dir / "last-receipt.bin")
        try:
            render_preview(data).save(self.out_dir / "last-receipt.png")
        except PreviewError as exc:
            log.warning("printer sink: no preview for the last job: %s", exc)
        self.jobs += 1  # last: a job counts once its files are all written
