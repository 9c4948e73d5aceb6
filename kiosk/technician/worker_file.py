"""The running terminal's worker health on disk, for the technician's command line in another
process (``kiosk diag devices``): ``<data dir>/workers.json``, rewritten atomically whenever a
supervised worker changes state, with the terminal's process id and the time."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.supervisor import WORKERS, Health

log = logging.getLogger(__name__)

FILE_NAME = "workers.json"


def keep_worker_file(data_dir: Path) -> None:
    """From now on, every change of a worker's health is written to the data directory."""
    path = data_dir / FILE_NAME
    lock = threading.Lock()  # workers change on their own threads

    def write(health: list[Health]) -> None:
        body = {
            "pid": os.getpid(),
            "written_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "workers": [h.as_json() for h in health],
        }
        with lock:
            try:
                spare = path.with_suffix(".tmp")
                spare.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
                spare.replace(path)
            except OSError as exc:  # a full disk must not take a worker down with it
                log.warning("cannot write %s: %s", path, exc)

    WORKERS.watch(write)
    write(WORKERS.health())


def read_worker_file(data_dir: Path) -> dict[str, Any] | None:
    """What the running terminal last wrote, with ``running`` saying whether its process is
    still alive; None when no terminal ever ran here."""
    path = data_dir / FILE_NAME
    try:
        body = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    body["running"] = _alive(int(body.get("pid", 0)))
    return body


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def format_workers(body: dict[str, Any]) -> list[str]:
    """Lines for the command line: where the facts come from, then one line per worker."""
    when = body.get("written_at", "?")
    head = (
        f"workers of the running terminal (pid {body.get('pid')}, as of {when}):"
        if body.get("running")
        else f"workers when the terminal last ran (pid {body.get('pid')}, {when}; not running now):"
    )
    lines = [head]
    for w in body.get("workers", []):
        line = f"  {w['name']}: {w['state']}, restarted {w['restarts']} time(s)"
        if w.get("fault"):
            line += f"; last crash {w['fault']} at {w.get('fault_at')}"
        lines.append(line)
    return lines
