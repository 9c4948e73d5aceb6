"""The applied configuration bundle laid over the local configuration at start: what the
operator's signed payload sets wins; what it leaves out stays as the local file says."""

from __future__ import annotations

import logging
from pathlib import Path

from contracts.canonical import CanonicalError, strict_loads
from contracts.catalogue import Catalogue
from contracts.payload import ConfigPayload, SchemaError, validate_payload
from kiosk.config.bundle_store import ConfigStore, ConfigStoreError
from kiosk.config.settings import Settings

log = logging.getLogger(__name__)


def with_applied_bundle(settings: Settings, data_dir: Path) -> tuple[Settings, Catalogue | None]:
    """(settings with the applied payload's fields, its catalogue or None). A bundle that can
    no longer be read leaves the local configuration in force, loudly, rather than stopping the
    terminal."""
    store = ConfigStore(data_dir / "config")
    try:
        raw = store.current_bundle()
        if raw is None:
            return settings, None
        payload = validate_payload(strict_loads(raw)["signed"]["payload"])
    except (ConfigStoreError, OSError, CanonicalError, SchemaError, KeyError, TypeError) as exc:
        log.error("applied configuration unreadable, using the local one: %s", exc)
        return settings, None
    log.info("configuration version %s in force", store.state().current)
    overlaid = settings.model_copy(update=payload_changes(payload, settings))
    return overlaid, payload.parsed_catalogue()


# The settings a bundle may set; everything else (devices, platform, data) stays local.
OVERLAID = ("language", "centre", "timeouts", "receipt_qr")


def payload_changes(payload: ConfigPayload, local: Settings) -> dict[str, object]:
    """The settings fields *payload* sets, and the local values for those it leaves out (so a
    field a previous bundle set goes back to the local file's value)."""
    return {
        name: value if (value := getattr(payload, name)) is not None else getattr(local, name)
        for name in OVERLAID
    }
