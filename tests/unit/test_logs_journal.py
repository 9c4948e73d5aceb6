"""Under systemd the terminal logs to the journal too: every record on stderr with its sd-daemon
priority prefix, redacted as the file is; elsewhere stderr keeps warnings only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.logs import JournalFormatter, journal_priority

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "11010519491231002X"  # a well-formed number: the redaction must catch it

SCRIPT = f"""
import logging, sys
from pathlib import Path
from kiosk.logs import setup_logging
setup_logging(Path(sys.argv[1]))
log = logging.getLogger("kiosk.visit")
log.debug("not at info")
log.info("card read: {ID_NUMBER}")
log.warning("printer paper low")
try:
    raise ValueError("bad record {ID_NUMBER}")
except ValueError:
    log.exception("read failed")
from kiosk.logs import RedactingFilter
for h in logging.getLogger().handlers:
    print(type(h).__name__, any(isinstance(f, RedactingFilter) for f in h.filters))
"""


def _run(tmp_path: Path, journal: str | None) -> tuple[list[str], list[dict[str, str]]]:
    """The stderr lines and the log file's entries of a terminal process logging once each
    way; JOURNAL_STREAM "self" names its stderr, as systemd does. Every handler it has must
    redact (the first one's filter redacts a record for all, so this is checked by name)."""
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as out:
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        if journal == "self":
            info = os.fstat(out.fileno())
            env["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
        elif journal is not None:
            env["JOURNAL_STREAM"] = journal
        handlers = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path / "logs")],
            stdout=subprocess.PIPE, stderr=out, env=env, cwd=ROOT, check=True, timeout=60,
            text=True,
        ).stdout.splitlines()  # fmt: skip
    assert len(handlers) == 2 and all(h.endswith(" True") for h in handlers), handlers
    lines = stderr.read_text("utf-8").splitlines()
    log_text = (tmp_path / "logs" / "kiosk.jsonl").read_text("utf-8")
    entries = [json.loads(line) for line in log_text.splitlines()]
    return lines, entries


def test_under_systemd_every_record_goes_to_the_journal_with_its_priority(tmp_path: Path) -> None:
    lines, entries = _run(tmp_path, "self")
    assert lines[0] == "<6>kiosk.visit: card read: [id-number]"
    assert lines[1] == "<4>kiosk.visit: printer paper low"
    assert lines[2] == "<3>kiosk.visit: read failed"
    # The traceback's lines keep the error's priority: the journal files them together.
    assert len(lines) > 4 and all(line.startswith("<3>") for line in lines[2:])
    assert any("ValueError: bad record [id-number]" in line for line in lines)
    assert ID_NUMBER not in "\n".join(lines)
    assert "not at info" not in "\n".join(lines)
    # ... and the data directory's file keeps them all as before.
    assert [e["level"] for e in entries] == ["INFO", "WARNING", "ERROR"]


@pytest.mark.parametrize("journal", [None, "1:1"])
def test_elsewhere_stderr_has_the_warnings_only(tmp_path: Path, journal: str | None) -> None:
    """Without systemd, or with a JOURNAL_STREAM inherited by a process whose stderr went
    elsewhere: no prefixes, and no info lines."""
    lines, entries = _run(tmp_path, journal)
    assert not any(line.startswith("<") for line in lines)
    assert "card read" not in "\n".join(lines)
    assert any("WARNING kiosk.visit: printer paper low" in line for line in lines)
    assert len(entries) == 3


@pytest.mark.parametrize(
    ("level", "priority"), [(50, 3), (40, 3), (30, 4), (25, 5), (20, 6), (10, 7), (5, 7)]
)
def test_priorities(level: int, priority: int) -> None:
    assert journal_priority(level) == priority


def test_an_empty_message_still_has_its_prefix() -> None:
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "", None, None)
    assert JournalFormatter().format(record) == "<6>x: "
