"""Taking a new signed configuration up in the running terminal, between visits.

The sync worker hands over a verified, applied bundle (``take_up``); it waits here until the
terminal shows the attract screen with no resident's data held, is installed in the controller
and the screens, and is health-checked. A configuration that fails the check is taken down again
at once (the previous one is reinstalled) and the updater rolls the store back; either way the
outcome is reported to the platform.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from contracts.catalogue import IDENTIFY_MEANS, Catalogue
from contracts.device_kinds import DeviceKind
from contracts.verify import Verified
from kiosk.config.overlay import payload_changes
from kiosk.config.settings import Settings
from kiosk.config.updater import Outcome
from kiosk.visit.controller import VisitController
from kiosk.visit.session import State
from kiosk.workers import Post

log = logging.getLogger(__name__)

Install = Callable[[Settings, Catalogue], None]  # show this configuration on the screens


def health_problems(catalogue: Catalogue, device_kinds: Iterable[DeviceKind]) -> list[str]:
    """What makes *catalogue* unfit for this terminal: no service (other than calling staff)
    that its devices can run. Names and steps were checked by the schema. Empty when healthy."""
    have = set(device_kinds)
    usable = [
        s for s in catalogue.services
        if s.action != "call_staff" and set(s.needs) <= have
        and (not s.identify_means or any(IDENTIFY_MEANS[m] in have for m in s.identify_means))
    ]  # fmt: skip
    if not usable:
        return ["no service in the catalogue can run on this terminal's devices"]
    return []


class LiveConfig:
    def __init__(
        self,
        controller: VisitController,
        local: Settings,
        local_catalogue: Catalogue,
        install: Install,
        post: Post,
    ) -> None:
        self.controller = controller
        self.local, self.local_catalogue = local, local_catalogue
        self.install = install
        self._post = post
        self._waiting: tuple[Verified, Outcome] | None = None
        controller.add_view_listener(self._on_view)

    @property
    def waiting(self) -> bool:
        return self._waiting is not None

    def take_up(self, verified: Verified, outcome: Outcome) -> None:
        """Main thread (the controller hands bundles over): take *verified* up as soon as no
        one is using the terminal. A newer bundle arriving first replaces a waiting one."""
        if self._waiting is not None:
            older = self._waiting[1]
            # Superseded before it was ever in force: the newer bundle's report says the rest.
            self._finish(older, True, "")
        self._waiting = (verified, outcome)
        self.try_now()

    def _on_view(self, view: object) -> None:
        # Not from inside the controller's publishing: a fresh turn of the event loop.
        if self._waiting is not None:
            self._post(self.try_now)

    def try_now(self) -> None:
        """Main thread. Takes the waiting configuration up if the terminal is idle."""
        session = self.controller.session
        if self._waiting is None or session.state is not State.ATTRACT:
            return
        if session.holds_personal_data:
            return
        verified, outcome = self._waiting
        self._waiting = None
        previous = (self.controller.settings, session.catalogue)
        try:
            payload = verified.payload
            settings = self.controller.settings.model_copy(
                update=payload_changes(payload, self.local)
            )
            catalogue = payload.parsed_catalogue() or self.local_catalogue
            self._install(settings, catalogue)
            kinds = [status.kind for status in self.controller.devices.statuses()]
            problems = health_problems(catalogue, kinds)
        except Exception as exc:  # whatever broke, the previous configuration comes back
            log.exception("configuration %d could not be taken up", verified.version)
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            log.error("configuration %d unhealthy: %s", verified.version, "; ".join(problems))
            self._install(*previous)
        else:
            log.info("configuration %d taken up", verified.version)
        self._finish(outcome, not problems, "; ".join(problems))

    def _install(self, settings: Settings, catalogue: Catalogue) -> None:
        self.controller.reconfigure(settings, catalogue)
        self.install(settings, catalogue)

    def _finish(self, outcome: Outcome, healthy: bool, detail: str) -> None:
        # The outcome writes files (and may roll back): disk work, on the outbox worker.
        self.controller.db.run(lambda: outcome(healthy, detail))
