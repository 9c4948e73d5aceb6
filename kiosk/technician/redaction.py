"""Masking personal data (ID numbers, phone numbers, a resident's known field values) and secrets
in text and data, before anything is written where a technician can read it."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ID_MASK = "[id-number]"
PHONE_MASK = "[phone]"
PERSONAL_MASK = "[personal]"
SECRET_MASK = "[redacted]"

# A UUID is matched first and kept as it is: its digit runs are not phone numbers, and technicians
# need transaction uuids to follow a delivery.
_PATTERNS = re.compile(
    r"(?P<uuid>\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)"
    # Resident ID number: 17 digits and a check character (a digit or X), not part of a longer
    # number. Matched whether or not the check character is right: a mistyped one is personal too.
    r"|(?P<id>(?<!\d)\d{17}[\dX](?!\d))"
    # Mainland mobile number: 11 digits starting with 1, optionally +86 and spaced 3-4-4.
    r"|(?P<phone>(?<![\d+])(?:\+?86[ -]?)?1\d{2}[ -]?\d{4}[ -]?\d{4}(?!\d))",
    re.IGNORECASE,
)

# Field names whose values are personal, wherever they appear in structured data.
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "resident_name",
        "id_number",
        "phone",
        "mobile",
        "address",
        "birth_date",
        "photo",
        "photo_sha256",
        "authority",
        "valid_from",
        "valid_to",
        "personal",
        "uid",
    }
)

# Parts of a setting's name (split at _ and -) that make its value a secret.
SECRET_PARTS = frozenset(
    {"token", "secret", "password", "passwd", "pin", "pins", "key", "keys", "credential", "hash"}
)


class KnownValues:
    """Personal values in play right now (the resident at the terminal: name, address), masked
    wherever they appear in a log message. Thread-safe; the visit forgets them when it ends."""

    MIN_LENGTH = 2  # a single character would mask half the log

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def remember(self, *values: object) -> None:
        fresh = {str(v).strip() for v in values if v is not None}
        fresh = {v for v in fresh if len(v) >= self.MIN_LENGTH}
        with self._lock:
            if not fresh <= self._values:
                self._values |= fresh
                self._pattern = None

    def forget(self, *values: object) -> None:
        """Forget *values*, or everything when none are given."""
        with self._lock:
            if values:
                self._values -= {str(v).strip() for v in values}
            else:
                self._values.clear()
            self._pattern = None

    def mask(self, text: str) -> str:
        with self._lock:
            if not self._values:
                return text
            if self._pattern is None:
                # Longest first: an address is masked whole, not around a name inside it.
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, alternatives)))
            pattern = self._pattern
        return pattern.sub(PERSONAL_MASK, text)


KNOWN = KnownValues()


def remember_personal(*values: object) -> None:
    """Mask these values in every log line from now on (until ``forget_personal``)."""
    KNOWN.remember(*values)


def forget_personal(*values: object) -> None:
    KNOWN.forget(*values)


def _replace(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group(0)
    return ID_MASK if match.group("id") else PHONE_MASK


def redact_text(text: str) -> str:
    """*text* with known personal values, ID numbers and phone numbers masked."""
    return _PATTERNS.sub(_replace, KNOWN.mask(text))


def redact_data(value: Any, fields: frozenset[str] = PERSONAL_FIELDS) -> Any:
    """JSON-like *value* with every string passed through ``redact_text`` and the values of
    personal *fields* masked whole; numbers and other values are left as they are (a byte count
    is not a phone number)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (PERSONAL_MASK if str(k).lower() in fields else redact_data(v, fields))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_data(v, fields) for v in value]
    return value


def is_secret(name: str) -> bool:
    parts = set(re.split(r"[_\-.]", name.lower()))
    return bool(parts & SECRET_PARTS) or name.lower().endswith(("_hash", "_hashes"))


def _strip_userinfo(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{SECRET_MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redact_config(value: Any, name: str = "") -> Any:
    """Configuration as plain data with secrets (tokens, PIN hashes, keys, passwords, credentials
    in URLs) replaced by a mask; an unset secret stays visibly unset."""
    if isinstance(value, Mapping):
        return {k: redact_config(v, str(k)) for k, v in value.items()}
    if name and is_secret(name):
        return value if value in (None, "", [], {}) else SECRET_MASK
    if isinstance(value, list | tuple):
        return [redact_config(v) for v in value]
    if isinstance(value, str):
        return redact_text(_strip_userinfo(value) if "://" in value else value)
    return value
