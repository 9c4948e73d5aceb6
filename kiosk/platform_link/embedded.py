"""The embedded default platform: ``kiosk run`` without a configured ``[central] url`` starts the
reference platform (``kiosk-central serve``) on loopback with a SQLite file in the data directory,
registers this terminal with it once, and syncs to it like to any other platform.

It runs as its own process, started from a background thread, so the terminal's window and
visits never wait for it, and a platform crash cannot take the terminal down.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

Ready = Callable[[str, str], None]  # (url, token)


class EmbeddedCentral:
    def __init__(self, data_dir: Path, kiosk_id: str, on_ready: Ready) -> None:
        self.folder = data_dir / "central"
        self.kiosk_id = kiosk_id
        self.on_ready = on_ready
        self.db_url = f"sqlite:///{self.folder / 'central.db'}"
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="embedded-central", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        proc = self._process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()

    def _central(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "central", *args, "--db", self.db_url],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def _token(self) -> str:
        """This terminal's token with the embedded platform, made once and kept (0600)."""
        path = self.folder / "kiosk-token"
        if path.exists():
            return path.read_text().strip()
        self.folder.mkdir(parents=True, exist_ok=True)
        res = self._central("kiosk", "add", self.kiosk_id)
        if res.returncode != 0:  # registered before but the token file was lost: a new one
            res = self._central("kiosk", "add", self.kiosk_id, "--rotate")
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip() or "kiosk-central kiosk add failed")
        token = res.stdout.strip().splitlines()[-1]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
        return token

    def _run(self) -> None:
        if (
            importlib.util.find_spec("fastapi") is None
            or importlib.util.find_spec("sqlalchemy") is None
        ):
            # A terminal installed alone (pip install '.[terminal]'): say so once, in one line.
            log.error(
                "embedded platform: not installed here (pip install '.[central]'), or set "
                "[central] url; transactions wait in the outbox"
            )
            return
        try:
            token = self._token()
            log_path = self.folder / "central.log"
            with log_path.open("a") as sink:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "central", "serve", "--db", self.db_url, "--port", "0"],
                    stdout=subprocess.PIPE, stderr=sink, text=True,
                )  # fmt: skip
            assert self._process.stdout is not None
            line = self._process.stdout.readline().strip()
            if not line.startswith("listening on "):
                raise RuntimeError(f"the embedded platform did not start (see {log_path})")
        except Exception as exc:  # the terminal works on without it: transactions wait
            log.error("embedded platform: %s", exc)
            return
        if self._stopping.is_set():
            return
        url = line.removeprefix("listening on ")
        log.info("embedded platform at %s", url)
        self.on_ready(url, token)
