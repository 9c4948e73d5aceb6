"""The applied configuration bundle laid over the local configuration at start: what the
operator's signed payload sets wins; what it leaves out stays as the local file says.

The applied bundle is verified again at every start, as it was when it arrived: anything that
can write the data directory can change a stored bundle, and the trusted keys may have changed
since. One that no longer verifies is refused with one log line, and the terminal starts with the
previous bundle if that one verifies, else with the local configuration."""

from __future__ import annotations

import logging
from pathlib import Path

from contracts.catalogue import Catalogue
from contracts.payload import ConfigPayload
from contracts.signing import Trust, TrustError
from contracts.verify import BundleRejected, Verified, verify_bundle
from kiosk.config.bundle_store import ConfigStore, ConfigStoreError
from kiosk.config.settings import Settings, trust_dir

log = logging.getLogger(__name__)


def with_applied_bundle(settings: Settings, data_dir: Path) -> tuple[Settings, Catalogue | None]:
    """(settings with the applied payload's fields, its catalogue or None). A bundle that can
    no longer be read or verified leaves the last good configuration in force, loudly, rather
    than stopping the terminal."""
    verified = last_good_bundle(settings, ConfigStore(data_dir / "config"))
    if verified is None:
        return settings, None
    overlaid = settings.model_copy(update=payload_changes(verified.payload, settings))
    return overlaid, verified.payload.parsed_catalogue()


def last_good_bundle(settings: Settings, store: ConfigStore) -> Verified | None:
    """The applied bundle, else the previous one, that still verifies; None: the local
    configuration rules. Read-only: what is on disk stays for the technician to see."""
    try:
        state = store.state()
    except ConfigStoreError as exc:
        log.error("applied configuration unreadable, using the local one: %s", exc)
        return None
    if state.current is None:
        return None
    try:
        trust = Trust.load(trust_dir(settings))
    except TrustError as exc:
        log.error(
            "applied configuration version %d refused at start (trusted keys unusable: %s); "
            "using the local configuration", state.current, exc,
        )  # fmt: skip
        return None
    candidates = [v for v in (state.current, state.previous) if v is not None]
    for n, version in enumerate(candidates):
        outcome = _verified(settings, store, trust, version)
        if isinstance(outcome, Verified):
            log.info("configuration version %d in force", version)
            return outcome
        then = (
            f"trying the previous version {candidates[n + 1]}"
            if n + 1 < len(candidates)
            else "using the local configuration"
        )
        log.error("applied configuration version %d refused at start (%s); %s",
                  version, outcome, then)  # fmt: skip
    return None


def _verified(settings: Settings, store: ConfigStore, trust: Trust, version: int) -> Verified | str:
    try:
        raw = store.bundle_path(version).read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    try:
        return verify_bundle(
            raw, trust, kiosk_id=settings.central.kiosk_id,
            groups=frozenset(settings.central.groups), recheck=True,
        )  # fmt: skip
    except BundleRejected as exc:
        return str(exc)


# The settings a bundle may set; everything else (devices, platform, data) stays local.
OVERLAID = ("language", "centre", "timeouts", "receipt_qr")


def payload_changes(payload: ConfigPayload, local: Settings) -> dict[str, object]:
    """The settings fields *payload* sets, and the local values for those it leaves out (so a
    field a previous bundle set goes back to the local file's value)."""
    return {
        name: value if (value := getattr(payload, name)) is not None else getattr(local, name)
        for name in OVERLAID
    }
