"""Running the API under uvicorn on a socket that is already listening, stopping on SIGTERM."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import Any

import uvicorn


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


def serve_on(listener: socket.socket, app: Any, host: str) -> None:
    """Serve *app* on *listener* until SIGTERM/SIGINT; print 'listening on URL' once ready."""
    config = uvicorn.Config(
        app,
        log_config=None,  # records go to stderr through the root logger the CLI set up
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host

    def announce() -> None:
        print(f"listening on http://{shown}:{port}", flush=True)

    AnnouncingServer(config, on_ready=announce).run(sockets=[listener])
