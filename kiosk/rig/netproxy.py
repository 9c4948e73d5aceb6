"""The rig's network between the terminal and its platform: a TCP relay on loopback that can be
cut (every connection dropped, new ones closed at once, as a pulled cable looks to a client that
gets a reset) and restored. One thread, one selector: nothing is left behind when it stops."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import struct
import threading

log = logging.getLogger(__name__)
CHUNK = 65536


class NetworkProxy:
    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        self._upstream = upstream
        self._lock = threading.Lock()
        self._cut = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rig-netproxy", daemon=True)
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_upstream(self, host: str, port: int) -> None:
        with self._lock:
            self._upstream = (host, port)

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        self._cut = True
        self._wake_w.send(b"c")

    def restore(self) -> None:
        self._cut = False

    def start(self) -> NetworkProxy:
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake_w.send(b"s")
        self._thread.join(timeout=5)
        for sock in list(self._peers):
            self._close(sock)
        self._selector.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- the relay's thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _mask in self._selector.select(timeout=0.5):
                sock = key.fileobj
                if sock is self._wake_r:
                    self._wake_r.recv(64)
                    if self._cut:
                        for peer in list(self._peers):
                            self._close(peer)
                elif sock is self._listener:
                    self._accept()
                elif isinstance(sock, socket.socket) and sock in self._peers:
                    self._relay(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        with self._lock:
            upstream = self._upstream
        if self._cut or upstream is None:
            self._reset(client)
            return
        try:
            server = socket.create_connection(upstream, timeout=5)
        except OSError as exc:
            log.info("rig network: upstream %s:%s unreachable: %s", *upstream, exc)
            self._reset(client)
            return
        self.connections += 1
        for a, b in ((client, server), (server, client)):
            a.setblocking(False)
            self._peers[a] = b
            self._selector.register(a, selectors.EVENT_READ)

    def _relay(self, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(CHUNK)
            if data:
                peer.setblocking(True)
                peer.settimeout(5)
                peer.sendall(data)
                peer.setblocking(False)
                return
        except OSError:
            pass
        self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        peer = self._peers.pop(sock, None)
        for s in (sock, peer):
            if s is None:
                continue
            self._peers.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(s)
            self._reset(s)

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            # RST rather than FIN: the client sees the connection fail, not a clean end.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
