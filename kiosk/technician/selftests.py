"""Self-tests a technician runs with one touch (or ``kiosk diag selftest``): read a card, print a
test page, the camera, the network and platform, disk space, the outbox, and (in the terminal's
window only) the speech engine.

This module is their front: the registry ``SELFTESTS``, the runner and the last results kept for
the bundle; import the self-tests' names from here. The tests themselves are in
``device_selftests.py`` (card, print, camera), ``network_selftest.py``, ``storage_selftests.py``
(disk, outbox) and ``speech.py`` (voice); what they share is in ``selftest_types.py``.

Each returns a ``SelfTestResult`` with a pass or fail and the reason in plain words (English, and
as text keys for the page's language: ``said.py``), within its timeout, and never raises.
Blocking work: run them on a worker, never on the UI thread. Nothing personal is ever kept: the
card test drops the card as soon as its ID number has been checked.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.technician.device_selftests import camera_selftest, card_selftest, print_selftest
from kiosk.technician.network_selftest import network_selftest
from kiosk.technician.redaction import redact_text
from kiosk.technician.said import TestName, said
from kiosk.technician.selftest_types import (
    Deadline,
    Outcome,
    SelfTest,
    SelfTestContext,
    SelfTestFunction,
    SelfTestResult,
    SelfTestTimeout,
    bounded,
    failed,
)
from kiosk.technician.speech import voice_selftest
from kiosk.technician.storage_selftests import disk_selftest, outbox_selftest

__all__ = [
    "LAST_RESULTS_FILE",
    "SELFTESTS",
    "Deadline",
    "Outcome",
    "SelfTest",
    "SelfTestContext",
    "SelfTestFunction",
    "SelfTestResult",
    "SelfTestTimeout",
    "bounded",
    "load_last",
    "run_selftest",
    "run_selftests",
    "save_last",
]

log = logging.getLogger(__name__)

LAST_RESULTS_FILE = "last-selftests.json"

SELFTESTS: dict[str, SelfTest] = {
    t.name: t
    for t in (
        SelfTest("card", card_selftest, timeout=20.0, invasive=True),
        SelfTest("print", print_selftest, timeout=15.0, invasive=True),
        SelfTest("camera", camera_selftest, timeout=6.0),
        SelfTest("network", network_selftest, timeout=15.0),
        SelfTest("disk", disk_selftest, timeout=5.0),
        SelfTest("outbox", outbox_selftest, timeout=15.0),
        # Only the running terminal has a speech engine: the CLI runs it when named.
        SelfTest("voice", voice_selftest, timeout=12.0, window_only=True),
    )
}


def run_selftest(
    name: str, ctx: SelfTestContext, *, timeout: float | None = None
) -> SelfTestResult:
    """Run one self-test by name. Never raises: an error or a timeout is a failed result."""
    test = SELFTESTS.get(name)
    at = datetime.now().astimezone().isoformat(timespec="seconds")
    if test is None:
        unknown = failed(said("diag.result.no_such_test", name=name))
        return SelfTestResult(name, False, unknown.summary, at=at, said=unknown.said)
    deadline = Deadline(timeout if timeout is not None else test.timeout)
    started = time.monotonic()
    try:
        outcome = test.run(ctx, deadline)
    except SelfTestTimeout:
        outcome = failed(said("diag.result.timeout", test=TestName(name), seconds=deadline.seconds))
    except Exception as exc:
        log.exception("self-test %s failed with an error", name)
        error = redact_text(f"{type(exc).__name__}: {exc}")
        outcome = failed(said("diag.result.error", test=TestName(name), error=error))
    return SelfTestResult(
        name,
        outcome.passed,
        outcome.summary,
        outcome.details,
        time.monotonic() - started,
        outcome.skipped,
        at,
        outcome.said,
    )


def run_selftests(names: Iterable[str] | None, ctx: SelfTestContext) -> list[SelfTestResult]:
    """The named self-tests in order; when *names* is None, all that run outside the window."""
    chosen = [t.name for t in SELFTESTS.values() if not t.window_only] if names is None else names
    return [run_selftest(name, ctx) for name in chosen]


def save_last(data_dir: Path, results: Iterable[SelfTestResult]) -> None:
    """Keep the latest result of each self-test (merged with earlier ones) for the bundle."""
    path = data_dir / "diagnostics" / LAST_RESULTS_FILE
    kept = {r["name"]: r for r in load_last(data_dir)}
    kept.update({r.name: r.as_json() for r in results})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(list(kept.values()), ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot keep the self-test results in %s: %s", path, exc)


def load_last(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "diagnostics" / LAST_RESULTS_FILE
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(loaded, list):
        return []
    return [r for r in loaded if isinstance(r, dict) and "name" in r]
