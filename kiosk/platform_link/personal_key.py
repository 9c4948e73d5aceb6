"""The platform's personal-data public key, as this terminal's applied signed configuration
carries it (``payload.personal_key``).

Why the signed configuration, and not a file on the terminal or an answer from the platform: the
key decides who can read every resident's personal fields, so whoever can swap it can read them.
The API server is exactly the party that must not read them, so it cannot be the one to hand the
key out; a bundle needs a threshold of the operators' signatures, verified against keys in a
folder root owns, on arrival and at every start. It also reaches the whole fleet the way any
configuration does (staged, reported, rollback-protected), so rotating the key needs no login on
each terminal.
"""

from __future__ import annotations

import logging
import threading

from contracts.personal import PersonalKey
from kiosk.config.bundle_store import ConfigStore, ConfigStoreError
from kiosk.config.overlay import last_good_bundle
from kiosk.config.settings import Settings, data_dir_of

log = logging.getLogger(__name__)


class AppliedPersonalKey:
    """Callable: the key of the configuration in force now, or None (then personal fields wait).

    The bundle is verified again only when the applied configuration changes (a new one arrived,
    or one was rolled back), not at every push."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ConfigStore(data_dir_of(settings) / "config")
        self._lock = threading.Lock()
        self._seen: tuple[int | None, int | None] | None = None
        self._key: PersonalKey | None = None

    def __call__(self) -> PersonalKey | None:
        try:
            state = self.store.state()
        except ConfigStoreError:
            return None  # the overlay logs why at start; personal fields wait meanwhile
        seen = (state.current, state.previous)
        with self._lock:
            # Without a key, look again at every ask: the embedded platform makes its own a
            # moment after the terminal starts.
            if seen != self._seen or self._key is None:
                verified = last_good_bundle(self.settings, self.store)
                self._key = verified.payload.personal_key if verified is not None else None
                if self._key is None and self.settings.central.embedded:
                    self._key = self._embedded_key()
                self._seen = seen
                log.info(
                    "personal-data key: %s",
                    self._key.key_id if self._key else "none in the configuration in force",
                )
            return self._key

    def _embedded_key(self) -> PersonalKey | None:
        """The embedded platform's own key (made on this machine, in this data directory), for
        a terminal that syncs to it: trying things out, never a production fleet."""
        import json

        from kiosk.platform_link.embedded import EMBEDDED_KEY_FILE

        path = data_dir_of(self.settings) / "central" / "personal" / EMBEDDED_KEY_FILE
        try:
            return PersonalKey.model_validate(json.loads(path.read_text("utf-8"))["personal_key"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
