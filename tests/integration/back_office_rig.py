"""A headless rig for the back office's end-to-end test: one visit through the real session,
controller, outbox and simulated devices, then a clean stop. ``slip``: a social-security query
while the platform cannot be reached, ending in a printed request slip. ``certificate``: a
certificate from a reachable platform, printed. Prints one line: what was printed.

    python -m tests.integration.back_office_rig CONFIG slip|certificate
"""

from __future__ import annotations

import contextlib
import queue
import sys
import time
from collections.abc import Callable
from pathlib import Path

from drivers.manager import DeviceManager
from kiosk.config.overlay import with_applied_bundle
from kiosk.config.settings import data_dir_of, load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.visit import session as s
from kiosk.visit.controller import VisitController


def main(config: Path, mode: str) -> None:
    settings = load_settings(config)
    data_dir = data_dir_of(settings)
    settings, catalogue = with_applied_bundle(settings, data_dir)
    inbox: queue.Queue[Callable[[], None]] = queue.Queue()
    devices = DeviceManager.from_config(settings.device_config(), data_dir)
    session = s.VisitSession(catalogue or default_catalogue(), settings.timeouts)
    controller = VisitController(session, settings, devices, data_dir / "kiosk.db", inbox.put)
    controller.start()

    def pump_until(done: Callable[[], bool], limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while not done():
            if time.monotonic() > deadline:
                raise SystemExit(f"rig: stuck in {session.state} ({session.view().outcome})")
            with contextlib.suppress(queue.Empty):
                inbox.get(timeout=0.05)()

    try:
        reader = devices.id_card_reader
        assert reader is not None
        pump_until(lambda: reader.status.state.value == "ready")
        reader.present()
        pump_until(lambda: session.state is s.State.CATALOGUE)
        if mode == "slip":
            controller.dispatch(s.ChooseService("social_security"))
            controller.dispatch(s.Confirm())
            pump_until(lambda: session.view().outcome == "offline_offer")
            controller.dispatch(s.RequestSlip())
        else:
            controller.dispatch(s.ChooseService("certificate"))
            controller.dispatch(s.ChooseOption("insured_certificate"))
            controller.dispatch(s.Confirm())
        pump_until(lambda: session.view().receipt in ("printed", "failed"))
        view = session.view()
        print(f"PRINTED {view.outcome} {view.receipt} {view.ticket or ''}", flush=True)
    finally:
        controller.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
