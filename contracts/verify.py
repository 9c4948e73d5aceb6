"""Deciding whether a configuration bundle may be applied on this terminal.

Order matters: nothing inside a bundle is believed before enough trusted keys have vouched for
it, so signatures are checked first; then expiry (freeze), version (rollback), target and schema.
Every refusal is a BundleRejected with a stable reason code and one line a technician can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.canonical import CanonicalError, strict_loads
from contracts.payload import ConfigPayload, SchemaError, validate_payload
from contracts.signing import Trust

REASONS = (
    "malformed",
    "bad_signature",
    "too_few_signatures",
    "expired",
    "old_version",
    "wrong_target",
    "schema_error",
)


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


def _targets_me(targets: Any, kiosk_id: str, groups: frozenset[str]) -> bool:
    if not isinstance(targets, dict):
        raise BundleRejected("schema_error", "signed.targets: must be an object")
    kiosks, wanted_groups = targets.get("kiosks", []), targets.get("groups", [])
    if not isinstance(kiosks, list) or not isinstance(wanted_groups, list):
        raise BundleRejected("schema_error", "signed.targets: kiosks and groups must be lists")
    return kiosk_id in kiosks or bool(groups & {str(g) for g in wanted_groups})


def verify_bundle(
    data: bytes,
    trust: Trust,
    *,
    kiosk_id: str,
    groups: frozenset[str] = frozenset(),
    last_version: int = 0,
    now: datetime | None = None,
) -> Verified:
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

    valid, failed, untrusted = trust.count_valid(signed, signatures)
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

    version = signed.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleRejected("schema_error", "signed.version: must be a whole number >= 1")
    issued_at, expires_at = _when(signed, "issued_at"), _when(signed, "expires_at")
    moment = now or datetime.now().astimezone()
    if expires_at <= moment:
        raise BundleRejected("expired", f"expired at {expires_at.isoformat()}")
    if version <= last_version:
        raise BundleRejected(
            "old_version", f"version {version} is not newer than the applied {last_version}"
        )
    if not _targets_me(signed.get("targets"), kiosk_id, groups):
        raise BundleRejected("wrong_target", f"not addressed to {kiosk_id} or its groups")
    try:
        payload = validate_payload(signed.get("payload"))
    except SchemaError as exc:
        raise BundleRejected("schema_error", str(exc)) from None
    except ValueError as exc:
        raise BundleRejected("schema_error", f"payload: {exc}") from None
    return Verified(version, issued_at, expires_at, payload, data)
