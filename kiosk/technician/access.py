"""Technician access to the diagnostics mode: scrypt PIN hashes, a lockout that survives restarts,
and an audit trail of entries, exits and actions delivered through the outbox."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from kiosk.technician.redaction import redact_text

log = logging.getLogger(__name__)

# scrypt's cost: 16 MiB and about 50 ms per guess on a terminal's CPU. Stored with each hash,
# so it can be raised later without invalidating the PINs already configured.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
MAX_SCRYPT_MEMORY = 256 * 1024**2  # a hostile configuration must not exhaust the terminal
PIN_DIGITS = (4, 16)

MAX_ATTEMPTS = 5
LOCK_BASE_SECONDS = 30.0
LOCK_CAP_SECONDS = 1800.0
LOCKOUT_FILE = "technician-lockout.json"

AUDIT_SERVICE = "technician_audit"


class PinError(ValueError):
    """A PIN that cannot be used (not 4 to 16 digits)."""


def check_pin(pin: str) -> str:
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise PinError(f"a PIN is {low} to {high} digits")
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(
    pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P, salt: bytes | None = None
) -> str:
    """``scrypt$n$r$p$salt_b64$hash_b64`` for the configuration."""
    check_pin(pin)
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=MAX_SCRYPT_MEMORY
    )
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


@dataclass(frozen=True)
class PinHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, encoded: str) -> PinHash:
        """Raise ValueError for anything that is not a usable scrypt hash line."""
        parts = encoded.strip().split("$")
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError("not a scrypt$n$r$p$salt$hash line")
        try:
            n, r, p = (int(x) for x in parts[1:4])
            salt = base64.b64decode(parts[4], validate=True)
            digest = base64.b64decode(parts[5], validate=True)
        except (ValueError, binascii.Error) as exc:
            raise ValueError(f"malformed scrypt hash: {exc}") from None
        if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range")
        if 128 * r * n > MAX_SCRYPT_MEMORY or len(salt) < 8 or len(digest) < 16:
            raise ValueError("scrypt parameters out of range")
        return cls(n, r, p, salt, digest)


def verify_pin(pin: str, encoded: str) -> bool:
    """Whether *pin* matches the hash line; a malformed line matches nothing."""
    try:
        expected = PinHash.parse(encoded)
    except ValueError as exc:
        log.warning("a configured technician PIN hash is unusable: %s", exc)
        return False
    actual = hashlib.scrypt(
        pin.encode(),
        salt=expected.salt,
        n=expected.n,
        r=expected.r,
        p=expected.p,
        dklen=len(expected.digest),
        maxmem=MAX_SCRYPT_MEMORY,
    )
    return hmac.compare_digest(actual, expected.digest)


def verify_any(pin: str, hashes: Sequence[str]) -> bool:
    """Whether *pin* matches one of *hashes*. Every hash is checked, so the time taken does not
    tell which (or whether an earlier) one matched."""
    matched = False
    for encoded in hashes:
        matched |= verify_pin(pin, encoded)
    return matched


# -- lockout -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LockoutState:
    failures: int = 0  # wrong PINs since the last lock (or success)
    lockouts: int = 0  # locks in a row without a success: each one lasts twice as long
    locked_until: float = 0.0  # wall-clock seconds (survives a restart)
    locked_for: float = 0.0  # how long the current lock was set for


class LockoutPolicy:
    """*max_attempts* wrong PINs lock the entry for *base* seconds, doubling with each further
    lock up to *cap*; a right PIN resets it. Kept in a small JSON file so a restart (or pulling
    the plug) does not reset it. Thread-safe."""

    def __init__(
        self,
        path: Path,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        base: float = LOCK_BASE_SECONDS,
        cap: float = LOCK_CAP_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_attempts, self.base, self.cap, self.clock = max_attempts, base, cap, clock
        self._lock = threading.Lock()
        self._state = self._load()

    @property
    def state(self) -> LockoutState:
        with self._lock:
            return self._state

    def _load(self) -> LockoutState:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return LockoutState(
                failures=int(raw["failures"]),
                lockouts=int(raw["lockouts"]),
                locked_until=float(raw["locked_until"]),
                locked_for=float(raw.get("locked_for", 0.0)),
            )
        except FileNotFoundError:
            return LockoutState()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Unreadable: lock as if the attempts were used up, rather than open the door.
            log.warning("technician lockout file %s unreadable (%s): locking", self.path, exc)
            return LockoutState(lockouts=1, locked_until=self.clock() + self.base)

    def _save(self, state: LockoutState) -> None:
        self._state = state
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as f:
                json.dump(state.__dict__, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:  # the lock still holds in memory for this run
            log.error("cannot save the technician lockout to %s: %s", self.path, exc)

    def remaining(self) -> float:
        """Seconds until a PIN may be tried again; 0 when open."""
        with self._lock:
            state = self._state
        left = state.locked_until - self.clock()
        # A clock set back must not turn 30 s into a year: never more than the lock was set for.
        return max(0.0, min(left, state.locked_for or self.cap))

    def attempts_left(self) -> int:
        with self._lock:
            return max(0, self.max_attempts - self._state.failures)

    def lock_seconds(self, lockouts: int) -> float:
        """How long the *lockouts*-th lock in a row lasts (1 -> base, 2 -> 2 x base, ...)."""
        return float(min(self.cap, self.base * 2 ** max(0, lockouts - 1)))

    def record_failure(self) -> float:
        """Count a wrong PIN; returns the seconds of the lock it caused, or 0."""
        with self._lock:
            s = self._state
            failures = s.failures + 1
            if failures < self.max_attempts:
                self._save(LockoutState(failures, s.lockouts, s.locked_until, s.locked_for))
                return 0.0
            lockouts = s.lockouts + 1
            seconds = self.lock_seconds(lockouts)
            self._save(LockoutState(0, lockouts, self.clock() + seconds, seconds))
            return seconds

    def record_success(self) -> None:
        with self._lock:
            if self._state != LockoutState():
                self._save(LockoutState())


# -- audit -------------------------------------------------------------------------------------
class Recorder(Protocol):
    def record(self, service: str, payload: dict[str, Any]) -> Any: ...


AuditValue = str | int | float | bool | None


class AuditTrail:
    """Technician entries, exits and actions as transactions in the outbox, delivered to the
    platform like any other. Payloads hold what was done, never a PIN or personal data.
    Each call is a durable write: make it on the outbox's worker, not the UI thread."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.session: str | None = None

    def _record(self, event: str, /, **facts: AuditValue) -> None:
        payload: dict[str, Any] = {
            "event": event,
            "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        if self.session:
            payload["session"] = self.session
        for key, value in facts.items():
            payload[key] = redact_text(value) if isinstance(value, str) else value
        try:
            self.recorder.record(AUDIT_SERVICE, payload)
        except Exception as exc:  # the audit must never keep a technician from fixing a terminal
            log.error("technician audit %s not recorded: %s", event, exc)

    def denied(self, reason: str, /, **facts: AuditValue) -> None:
        self._record("denied", reason=reason, **facts)

    def entry(self, method: str = "pin") -> str:
        """Start a technician session; returns its id (carried by every following record)."""
        self.session = str(uuid.uuid4())
        self._record("entry", method=method)
        return self.session

    def action(self, action: str, /, **facts: AuditValue) -> None:
        """One thing the technician did (``action("selftest", name="print", passed=False)``)."""
        self._record("action", action=action, **facts)

    def exit(self, reason: str = "left") -> None:
        self._record("exit", reason=reason)
        self.session = None


# -- the gate ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryDecision:
    granted: bool
    reason: str  # granted, wrong_pin, locked, no_pins_configured
    locked_seconds: float = 0.0  # how long the entry is locked now (0: open)
    attempts_left: int = 0


class TechnicianGate:
    """The PIN pad's logic: is this PIN let in, and if not, for how long is the door shut."""

    def __init__(
        self, pin_hashes: Sequence[str], lockout: LockoutPolicy, audit: AuditTrail | None = None
    ) -> None:
        self.pin_hashes = list(pin_hashes)
        self.lockout, self.audit = lockout, audit

    @classmethod
    def in_data_dir(
        cls, data_dir: Path, pin_hashes: Sequence[str], audit: AuditTrail | None = None
    ) -> TechnicianGate:
        return cls(pin_hashes, LockoutPolicy(data_dir / LOCKOUT_FILE), audit)

    def try_pin(self, pin: str) -> EntryDecision:
        """Blocking (scrypt, a file write): call from a worker, not the UI thread."""
        locked = self.lockout.remaining()
        if locked:
            return EntryDecision(False, "locked", locked)
        if not self.pin_hashes:
            return EntryDecision(False, "no_pins_configured")
        try:
            well_formed = bool(check_pin(pin))
        except PinError:  # still a guess: it counts like any wrong PIN
            well_formed = False
        if well_formed and verify_any(pin, self.pin_hashes):
            self.lockout.record_success()
            if self.audit is not None:
                self.audit.entry("pin")
            return EntryDecision(True, "granted", attempts_left=self.lockout.max_attempts)
        seconds = self.lockout.record_failure()
        if self.audit is not None:
            self.audit.denied("wrong_pin", locked_seconds=seconds)
        if seconds:
            log.warning("technician entry locked for %.0f s after wrong PINs", seconds)
            return EntryDecision(False, "locked", seconds)
        return EntryDecision(False, "wrong_pin", attempts_left=self.lockout.attempts_left())
