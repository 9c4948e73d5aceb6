"""Logging to the data directory: rotating JSON lines (``logs/kiosk.jsonl``), and to the journal
when systemd runs the terminal; personal data masked at the source by a filter on every handler,
and a reader for the diagnostics mode and the CLI."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.technician.redaction import redact_data, redact_text

LOG_FILE = "kiosk.jsonl"
MAX_BYTES = 5_000_000
BACKUPS = 5
CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"  # the journal stamps the time itself

# Driver modules and the device they speak for. Devices are named after their kind by the device
# manager, so a driver's log line without ``extra={"device": ...}`` still files under its device.
_DEVICE_OF_MODULE = {
    "sam_reader": "id_card_reader",
    "sam_protocol": "id_card_reader",
    "sam_record": "id_card_reader",
    "sim_sam": "id_card_reader",
    "idcard_reader": "id_card_reader",
    "receipt_printer": "receipt_printer",
    "escpos_status": "receipt_printer",
    "escpos_layout": "receipt_printer",
    "escpos_preview": "receipt_printer",
    "sim_escpos_sink": "receipt_printer",
    "camera": "camera",
    "vision": "camera",
    "pcsc_reader": "smart_card_reader",
    "apdu": "smart_card_reader",
    "sim_vpcd": "smart_card_reader",
}


def device_of(record: logging.LogRecord) -> str | None:
    """The device a record is about: ``extra={"device": name}``, or its driver module's device."""
    device = getattr(record, "device", None)
    if device:
        return str(device)
    package, _, module = record.name.partition(".")
    return _DEVICE_OF_MODULE.get(module.split(".")[0]) if package == "drivers" else None


class RedactingFilter(logging.Filter):
    """Masks ID numbers, phone numbers, personal fields of structured arguments and the known
    values of the resident at the terminal, in the message, its arguments, the traceback and the
    stack, before any formatter sees the record. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True  # the same record passes every handler's filter; once is enough
        args = record.args
        if isinstance(args, Mapping):
            record.args = redact_data(args)
        elif args:
            record.args = tuple(redact_data(a) if isinstance(a, str | Mapping) else a for a in args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        record._redacted = True
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, and device and exc when there."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created)
            .astimezone()
            .isoformat("T", "milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        device = device_of(record)
        if device:
            entry["device"] = device
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class _FileHandler(logging.handlers.RotatingFileHandler):
    """The log file ``setup_logging`` installed (and replaces when called again)."""


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The console handler ``setup_logging`` installed. It writes to whatever ``sys.stderr`` is
    at the time, not the one it was made with, which may since have been closed (test capture,
    a redirected stream)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def journal_priority(levelno: int) -> int:
    """sd-daemon's priority of a logging level: err 3, warning 4, notice 5, info 6, debug 7."""
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno > logging.INFO:
        return 5
    return 6 if levelno >= logging.INFO else 7


class JournalFormatter(logging.Formatter):
    """Each line with its ``<N>`` priority prefix (systemd's SyslogLevelPrefix), continuation
    lines of a traceback too, so that the journal files all of them at the record's priority."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{journal_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def stderr_is_the_journal() -> bool:
    """True when systemd connected stderr to the journal: $JOURNAL_STREAM names its device and
    inode (a child with stderr redirected elsewhere inherits the variable, not the stream)."""
    stream = os.environ.get("JOURNAL_STREAM")
    if not stream:
        return False
    try:
        info = os.fstat(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # no stderr, or one without a descriptor
        return False
    return stream == f"{info.st_dev}:{info.st_ino}"


class _JournalHandler(_ConsoleHandler):
    """The console handler when stderr is the journal: every record at the file's level, with
    its priority, instead of warnings only."""


def setup_logging(
    log_dir: Path, *, verbose: bool = False, max_bytes: int = MAX_BYTES, backups: int = BACKUPS
) -> None:
    """Log to ``log_dir/kiosk.jsonl`` (rotated by size) and warnings to stderr; when stderr is
    the journal (under systemd), every record there too, with sd-daemon priority prefixes (the
    journal's size is journald's to limit: SystemMaxUse). Calling it again replaces the handlers
    it installed before."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _FileHandler | _ConsoleHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _FileHandler(
        log_dir / LOG_FILE, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(JsonLinesFormatter())
    console: _ConsoleHandler
    if stderr_is_the_journal():
        console = _JournalHandler()
        console.setFormatter(JournalFormatter())
        console.setLevel(logging.DEBUG if verbose else logging.INFO)
    else:
        console = _ConsoleHandler()
        console.setFormatter(logging.Formatter(CONSOLE_FORMAT))
        console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for h in (handler, console):
        h.addFilter(RedactingFilter())
        root.addHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def _lines_backwards(path: Path, block: int = 65536) -> Iterator[bytes]:
    """The lines of *path*, last first, read in blocks from the end."""
    with path.open("rb") as f:
        pos = f.seek(0, 2)
        rest = b""
        while pos > 0:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            lines = (f.read(step) + rest).split(b"\n")
            rest = lines[0]
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest


def _log_files(log_dir: Path) -> list[Path]:
    """The current file, then the rotated ones, newest first."""
    files = [log_dir / LOG_FILE]
    files += [log_dir / f"{LOG_FILE}.{i}" for i in range(1, 100)]
    return [f for f in files if f.is_file()]


def tail_logs(
    log_dir: Path, n: int = 300, device: str | None = None, level: str | None = None
) -> list[dict[str, Any]]:
    """The last *n* log entries (oldest first), only those about *device* and at *level* or
    above when given. Lines that are not JSON objects are skipped; every message is masked again,
    in case a line was written by a version that did not."""
    if n <= 0:
        return []
    minimum = logging.getLevelName(level.upper()) if level else 0
    if not isinstance(minimum, int):
        raise ValueError(f"unknown log level {level!r}")
    found: list[dict[str, Any]] = []
    for path in _log_files(log_dir):
        try:
            for raw in _lines_backwards(path):
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(entry, dict):
                    continue
                if device is not None and entry.get("device") != device:
                    continue
                entry_level = logging.getLevelName(str(entry.get("level", "")).upper())
                if minimum and not (isinstance(entry_level, int) and entry_level >= minimum):
                    continue
                found.append(redact_data(entry))
                if len(found) >= n:
                    return found[::-1]
        except OSError:  # rotated away while being read: what was read stands
            continue
    return found[::-1]
