"""A TCP proxy that misbehaves on purpose, between a terminal and its platform.

Each new connection draws one fate from a seeded mix: ``pass`` (forward both ways), ``drop``
(close before forwarding anything), ``reset`` (forward the request, then reset the connection
with no answer), ``delay`` (hold the request back a while), ``cut`` (forward the request, let the
platform answer, then cut the answer off part way: the platform committed, the terminal does
not know). Counts of each fate are kept, so a test can check that every fault really happened.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Mapping

FATES = ("pass", "drop", "reset", "delay", "cut")


class FaultProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        mix: Mapping[str, float],
        *,
        seed: int = 0,
        delay: float = 0.3,
    ) -> None:
        unknown = set(mix) - set(FATES)
        if unknown:
            raise ValueError(f"unknown fates {sorted(unknown)}")
        self.upstream = upstream
        self._fates = list(mix)
        self._weights = [mix[f] for f in self._fates]
        self._rng = random.Random(seed)
        self.delay = delay
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mix(self, mix: Mapping[str, float]) -> None:
        with self._lock:
            self._fates = list(mix)
            self._weights = [mix[f] for f in self._fates]

    def __enter__(self) -> FaultProxy:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._accept.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                fate = self._rng.choices(self._fates, self._weights)[0]
                self.counts[fate] += 1
            thread = threading.Thread(target=self._handle, args=(client, fate), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _handle(self, client: socket.socket, fate: str) -> None:
        client.settimeout(10)
        try:
            if fate == "drop":
                return
            request = _read_request(client)
            if not request:
                return
            if fate == "delay":
                self._stop.wait(self.delay)
            if fate == "reset":
                _reset(client)
                return
            with socket.create_connection(self.upstream, timeout=10) as up:
                up.sendall(request)
                answer = _read_answer(up)
            if fate == "cut":
                client.sendall(answer[: max(1, len(answer) // 3)])
                _reset(client)
                return
            client.sendall(answer)
        except OSError:
            pass
        finally:
            client.close()


def _reset(sock: socket.socket) -> None:
    # Linger 0: close() sends RST, as a crashed middlebox or a pulled cable would look.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _read_request(sock: socket.socket) -> bytes:
    """One HTTP request (headers plus Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    # Ask the platform to close after answering, so the answer ends where the stream ends.
    head = b"\r\n".join(
        line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")
    )
    return head + b"\r\nConnection: close\r\n\r\n" + body


def _read_answer(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
