"""Running the API under uvicorn on a socket that is already listening, stopping on SIGTERM,
over TLS when given a certificate and its key: in this process, or in several worker processes
that share the socket (``serve_workers``)."""

from __future__ import annotations

import gc
import logging
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from central.database import PoolSize, StoreError
from central.limits import RateLimit

log = logging.getLogger("central.server")

WORKER_START_SECONDS = 60.0
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TlsSetupError(Exception):
    """The certificate or key cannot serve TLS; the message is one line naming the option."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # PEM: the platform's certificate, then any intermediates
    key: Path  # PEM, unencrypted: the service starts unattended


def settle_heap() -> None:
    """Once the app is built: what lives as long as the process (modules, the app and its
    routes, compiled statements) leaves the collector's generations. A full collection walks
    every tracked object; with them it took some 60 ms in the middle of a request now and then
    (the console's p95, tests/benches/bench_console.py), without them a few."""
    gc.collect()
    gc.freeze()


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


def _config(
    app: Any, tls: TlsFiles | None, access_log: bool = False, **more: Any
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,  # records go to stderr through the root logger the CLI set up
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=10,
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
        **more,
    )


def _announcer(listener: socket.socket, host: str, tls: TlsFiles | None) -> Callable[[], None]:
    port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls else "http"

    def announce() -> None:
        print(f"listening on {scheme}://{shown}:{port}", flush=True)

    return announce


def serve_on(
    listener: socket.socket,
    app: Any,
    host: str,
    tls: TlsFiles | None = None,
    *,
    access_log: bool = False,
) -> None:
    """Serve *app* on *listener* until SIGTERM/SIGINT; print 'listening on URL' once ready."""
    config = _config(app, tls, access_log, lifespan="off")
    AnnouncingServer(config, on_ready=_announcer(listener, host, tls)).run(sockets=[listener])


class WorkersFailedError(Exception):
    """A worker process could not start (its log line says why); nothing is served."""


@dataclass(frozen=True)
class WorkerApp:
    """What a worker process builds its API from: pickled to each spawned worker, which calls
    it (uvicorn's app factory) to open its own store and connection pool."""

    db_url: str
    pool: PoolSize
    max_body_bytes: int
    rate_limit: RateLimit | None

    def __call__(self) -> Any:
        from central.api import create_app
        from central.store import CentralStore

        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT, force=True)
        try:
            store = CentralStore.open(self.db_url, pool=self.pool)
        except StoreError as exc:
            log.error("worker cannot start: %s", exc)
            sys.exit(STARTUP_FAILURE)  # uvicorn's supervisor then stops rather than respawn
        app = create_app(store, max_body_bytes=self.max_body_bytes, rate_limit=self.rate_limit)
        settle_heap()
        return _WorkerLifespan(app, store.close, threads=self.pool.most)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _WorkerLifespan:
    """The app, with the lifespan protocol answered. At startup the thread pool that runs the
    routes' database work is cut to the connections the worker may hold: more threads would
    only queue for a connection while taking turns at the GIL with those that have one. At
    shutdown the pool is closed, so the database sees its connections end rather than drop."""

    def __init__(self, app: Any, close: Callable[[], None], *, threads: int) -> None:
        self.app, self.close, self.threads = app, close, threads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


class _Workers(Multiprocess):
    """uvicorn's supervisor, announcing once every worker accepts connections and refusing to
    go on (rather than respawn forever) when one cannot start."""

    def __init__(
        self, config: uvicorn.Config, sockets: list[socket.socket], announce: Callable[[], None]
    ) -> None:
        super().__init__(config, sockets)
        self._announce = announce
        self.failed: str | None = None

    def init_processes(self) -> None:
        super().init_processes()
        for process in self.processes:
            if process.wait_until_ready(WORKER_START_SECONDS, self.should_exit):
                continue
            if self.should_exit.is_set():
                return  # SIGTERM while starting: run() stops them all
            self.failed = f"worker {process.pid} did not start (exit code {process.exitcode})"
            self.should_exit.set()
            return
        self._announce()

    def run(self) -> None:
        self.init_processes()
        while not self.should_exit.wait(0.5):
            self.handle_signals()
            self.keep_subprocess_alive()
        self.terminate_all()
        self.join_all()


def serve_workers(
    listener: socket.socket,
    app: WorkerApp,
    host: str,
    tls: TlsFiles | None,
    workers: int,
    *,
    access_log: bool = False,
) -> None:
    """Serve with *workers* processes sharing *listener*, each with its own store and pool,
    until SIGTERM/SIGINT (each worker finishes its requests, then the supervisor returns);
    print 'listening on URL' once all accept connections. SIGHUP replaces them one by one."""
    config = _config(app, tls, access_log, factory=True, lifespan="on", workers=workers)
    supervisor = _Workers(config, [listener], _announcer(listener, host, tls))
    supervisor.run()
    if supervisor.failed:
        raise WorkersFailedError(supervisor.failed)
