"""Running the API under uvicorn on a socket that is already listening, stopping on SIGTERM,
over TLS when given a certificate and its key."""

from __future__ import annotations

import signal
import socket
import ssl
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn


class TlsSetupError(Exception):
    """The certificate or key cannot serve TLS; the message is one line naming the option."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # PEM: the platform's certificate, then any intermediates
    key: Path  # PEM, unencrypted: the service starts unattended


def check_tls_files(tls: TlsFiles) -> None:
    """Load the pair as uvicorn will, so a bad file is one line before anything listens
    (uvicorn would fail later, with a traceback, or ask for a key's passphrase on stdin)."""
    for option, path, marker in (
        ("--tls-cert", tls.cert, b"-----BEGIN CERTIFICATE-----"),
        ("--tls-key", tls.key, b"PRIVATE KEY-----"),
    ):
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise TlsSetupError(f"{option} {path}: cannot read ({exc.strerror or exc})") from None
        if marker not in text:
            kind = "certificate" if option == "--tls-cert" else "private key"
            raise TlsSetupError(f"{option} {path}: no PEM {kind} in it")

    def no_passphrase() -> str:
        raise TlsSetupError(f"--tls-key {tls.key}: the key is encrypted; give it unencrypted")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(tls.cert, tls.key, password=no_passphrase)
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc) or "key values mismatch" in str(exc):
            raise TlsSetupError(
                f"--tls-key {tls.key} is not the key of --tls-cert {tls.cert}"
            ) from None
        raise TlsSetupError(
            f"--tls-cert {tls.cert} / --tls-key {tls.key}: cannot be used ({exc.reason or exc})"
        ) from None


class AnnouncingServer(uvicorn.Server):
    """uvicorn calling *on_ready* once it accepts connections, and exiting 0 on SIGTERM."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._on_ready()

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn's own version raises the signal again after the graceful shutdown, so the
        # process would die "killed by SIGTERM". For a service manager a requested stop is a
        # clean exit: handle the signal, shut down, return.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve_on(listener: socket.socket, app: Any, host: str, tls: TlsFiles | None = None) -> None:
    """Serve *app* on *listener* until SIGTERM/SIGINT; print 'listening on URL' once ready."""
    config = uvicorn.Config(
        app,
        log_config=None,  # records go to stderr through the root logger the CLI set up
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=10,
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
    )
    port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls else "http"

    def announce() -> None:
        print(f"listening on {scheme}://{shown}:{port}", flush=True)

    AnnouncingServer(config, on_ready=announce).run(sockets=[listener])
