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

from runtime.supervisor import WORKERS, Supervised

log = logging.getLogger(__name__)

Ready = Callable[[str, str], None]  # (url, token)
EMBEDDED_KEY_FILE = "embedded-key.json"  # in <data dir>/central/personal/


class EmbeddedCentral:
    def __init__(self, data_dir: Path, kiosk_id: str, on_ready: Ready) -> None:
        self.folder = data_dir / "central"
        self.kiosk_id = kiosk_id
        self.on_ready = on_ready
        self.db_url = f"sqlite:///{self.folder / 'central.db'}"
        self._process: subprocess.Popen[str] | None = None
        # Supervised: a platform process that dies is started again (on a new port, handed to
        # the sync worker through on_ready), with a backoff, counted in the terminal's health.
        self.worker = WORKERS.add(Supervised("embedded-central", self._serve))
        self._stopping = self.worker.stopping

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self._stopping.set()
        self._end_process()
        self.worker.stop(timeout=15)

    def _end_process(self) -> None:
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

    def _serve(self, stop: threading.Event) -> None:
        """Start the platform, hand it over, and stay until it exits: an exit nobody asked for
        is an error, and the supervisor starts it again."""
        if not self._run():
            stop.wait()  # not installed here: nothing to supervise, said once in the log
            return
        proc = self._process
        while proc is not None and proc.poll() is None and not stop.wait(1.0):
            pass
        if not stop.is_set() and proc is not None:
            self._end_process()
            raise RuntimeError(f"the embedded platform exited (code {proc.returncode})")

    def _personal_key(self) -> None:
        """A personal-data key pair of the embedded platform's own, made once and registered, so
        a terminal trying things out seals feedback and request slips like any other (a
        production platform's key comes in the signed configuration)."""
        folder = self.folder / "personal"
        offered = folder / EMBEDDED_KEY_FILE
        if offered.exists():
            return
        made = subprocess.run(
            [sys.executable, "-m", "central", "personal", "keygen", "--out", str(folder),
             "--name", "embedded"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(made.stderr.strip() or "kiosk-central personal keygen failed")
        registered = self._central("personal", "register", str(folder / "embedded.pub"))
        if registered.returncode != 0:
            raise RuntimeError(registered.stderr.strip() or "kiosk-central personal register")
        line = made.stdout.strip().splitlines()[-1]  # {"personal_key": {...}}
        offered.write_text(line + "\n", "utf-8")

    def _run(self) -> bool:
        if (
            importlib.util.find_spec("fastapi") is None
            or importlib.util.find_spec("sqlalchemy") is None
        ):
            # A terminal installed alone (pip install '.[terminal]'): say so once, in one line.
            log.error(
                "embedded platform: not installed here (pip install '.[central]'), or set "
                "[central] url; transactions wait in the outbox"
            )
            return False
        try:
            token = self._token()
            self._personal_key()
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
            raise
        if self._stopping.is_set():
            return True
        url = line.removeprefix("listening on ")
        log.info("embedded platform at %s", url)
        self.on_ready(url, token)
        return True
