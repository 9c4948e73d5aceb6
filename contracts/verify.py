"""Deciding whether a configuration bundle may be applied on this terminal.

Order matters: nothing inside a bundle is believed before enough trusted keys have vouched for
it, so signatures are checked first; then its times (expired: a freeze; issued in the future or
valid for too long: a bundle that would outlive its keys' trust), version (rollback), target and
schema. Every refusal is a BundleRejected with a stable reason code and one line a technician
can read.

The operator's signing command runs the same checks on what it is about to sign
(``check_content``), so a bundle a terminal would refuse is refused before it is signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts.canonical import CanonicalError, strict_loads
from contracts.payload import ConfigPayload, SchemaError, validate_payload
from contracts.signing import Trust

REASONS = (
    "malformed",
    "bad_signature",
    "too_few_signatures",
    "expired",
    "issued_in_future",
    "too_long",
    "old_version",
    "wrong_target",
    "schema_error",
)

# How far a bundle's issued_at may lie ahead of this clock: terminals' and signers' clocks drift
# a little; a bundle dated hours ahead was made on a wrong clock, or to outlast its expiry.
MAX_CLOCK_SKEW = timedelta(minutes=10)
# The longest a bundle may be valid for: a leaked signed bundle can be replayed until it expires.
MAX_VALIDITY = timedelta(days=90)


class BundleRejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Verified:
    version: int
    issued_at: datetime
    expires_at: datetime
    payload: ConfigPayload
    raw: bytes  # exactly the bytes verified: what gets stored


def _when(signed: dict[str, Any], field: str) -> datetime:
    value = signed.get(field)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise BundleRejected("schema_error", f"signed.{field}: not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BundleRejected("schema_error", f"signed.{field}: needs a UTC offset")
    return moment


def targets_of(signed: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """(kiosks, groups) a bundle is addressed to."""
    targets = signed.get("targets")
    if not isinstance(targets, dict):
        raise BundleRejected("schema_error", "signed.targets: must be an object")
    kiosks, groups = targets.get("kiosks", []), targets.get("groups", [])
    if not isinstance(kiosks, list) or not isinstance(groups, list):
        raise BundleRejected("schema_error", "signed.targets: kiosks and groups must be lists")
    return kiosks, groups


def _targets_me(signed: dict[str, Any], kiosk_id: str, groups: frozenset[str]) -> bool:
    kiosks, wanted_groups = targets_of(signed)
    return kiosk_id in kiosks or bool(groups & {str(g) for g in wanted_groups})


def _version(signed: dict[str, Any]) -> int:
    version = signed.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleRejected("schema_error", "signed.version: must be a whole number >= 1")
    return version


def _times(
    signed: dict[str, Any], moment: datetime, max_skew: timedelta, max_validity: timedelta
) -> tuple[datetime, datetime]:
    issued_at, expires_at = _when(signed, "issued_at"), _when(signed, "expires_at")
    if expires_at <= moment:
        raise BundleRejected("expired", f"expired at {expires_at.isoformat()}")
    if issued_at > moment + max_skew:
        raise BundleRejected(
            "issued_in_future",
            f"issued at {issued_at.isoformat()}, more than {_span(max_skew)} after this "
            f"clock's {moment.isoformat(timespec='seconds')}",
        )
    if expires_at <= issued_at:
        raise BundleRejected("schema_error", "signed.expires_at: must come after issued_at")
    if expires_at - issued_at > max_validity:
        raise BundleRejected(
            "too_long",
            f"valid for {_span(expires_at - issued_at)}, more than the {_span(max_validity)} "
            "allowed",
        )
    return issued_at, expires_at


def _span(length: timedelta) -> str:
    seconds = length.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:g} days"
    if seconds >= 60:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


def _payload(signed: dict[str, Any]) -> ConfigPayload:
    try:
        return validate_payload(signed.get("payload"))
    except SchemaError as exc:
        raise BundleRejected("schema_error", str(exc)) from None
    except ValueError as exc:
        raise BundleRejected("schema_error", f"payload: {exc}") from None


@dataclass(frozen=True)
class Content:
    """What a signed part says, checked as a terminal would (but for signatures and target)."""

    version: int
    issued_at: datetime
    expires_at: datetime
    kiosks: tuple[str, ...]
    groups: tuple[str, ...]
    payload: ConfigPayload


def check_content(
    signed: Any,
    *,
    now: datetime | None = None,
    max_skew: timedelta = MAX_CLOCK_SKEW,
    max_validity: timedelta = MAX_VALIDITY,
) -> Content:
    """The checks a terminal makes after the signatures, for a signer about to sign: version,
    times, targets' shape and schema. BundleRejected says what a terminal would say."""
    if not isinstance(signed, dict):
        raise BundleRejected("malformed", '"signed" must be an object')
    version = _version(signed)
    moment = now or datetime.now().astimezone()
    issued_at, expires_at = _times(signed, moment, max_skew, max_validity)
    kiosks, groups = targets_of(signed)
    payload = _payload(signed)
    return Content(
        version, issued_at, expires_at, tuple(map(str, kiosks)), tuple(map(str, groups)), payload
    )


def verify_bundle(
    data: bytes,
    trust: Trust,
    *,
    kiosk_id: str,
    groups: frozenset[str] = frozenset(),
    last_version: int = 0,
    now: datetime | None = None,
    max_skew: timedelta = MAX_CLOCK_SKEW,
    max_validity: timedelta = MAX_VALIDITY,
    recheck: bool = False,
) -> Verified:
    """Verify *data* for this terminal. *recheck*: a bundle this terminal applied before, read
    again at start. Its signatures, target and schema are checked again (the file or the trusted
    keys may have changed since), but not its times or version: they decide whether a bundle
    may be applied, and an applied bundle stays in force until a newer one replaces it (falling
    back to an older configuration when it expires would not make the terminal any safer)."""
    try:
        document = strict_loads(data)
    except CanonicalError as exc:
        raise BundleRejected("malformed", str(exc)) from None
    if not isinstance(document, dict) or set(document) != {"signed", "signatures"}:
        raise BundleRejected("malformed", 'expected exactly "signed" and "signatures"')
    signed, signatures = document["signed"], document["signatures"]
    if not isinstance(signed, dict) or not isinstance(signatures, list):
        raise BundleRejected("malformed", '"signed" must be an object, "signatures" a list')
    if not all(isinstance(s, dict) for s in signatures):
        raise BundleRejected("malformed", "each signature must be an object")

    try:
        valid, failed, untrusted = trust.count_valid(signed, signatures)
    except CanonicalError as exc:  # e.g. a lone surrogate: no canonical bytes to check against
        raise BundleRejected("malformed", str(exc)) from None
    if valid < trust.threshold:
        extra = f"; {untrusted} from untrusted keys ignored" if untrusted else ""
        if failed:
            raise BundleRejected(
                "bad_signature",
                f"{failed} signature(s) from trusted keys do not match the content{extra}",
            )
        raise BundleRejected(
            "too_few_signatures", f"{valid} valid of {trust.threshold} needed{extra}"
        )

    version = _version(signed)
    if recheck:
        issued_at, expires_at = _when(signed, "issued_at"), _when(signed, "expires_at")
    else:
        moment = now or datetime.now().astimezone()
        issued_at, expires_at = _times(signed, moment, max_skew, max_validity)
        if version <= last_version:
            raise BundleRejected(
                "old_version", f"version {version} is not newer than the applied {last_version}"
            )
    if not _targets_me(signed, kiosk_id, groups):
        raise BundleRejected("wrong_target", f"not addressed to {kiosk_id} or its groups")
    return Verified(version, issued_at, expires_at, _payload(signed), data)
