"""A headless rig: one queue-ticket visit through the real controller, outbox and simulated
printer, then it waits to be killed. Used by the durability test; prints one line per milestone."""

from __future__ import annotations

import contextlib
import queue
import sys
import time
from collections.abc import Callable
from pathlib import Path

from drivers.manager import DeviceManager
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.visit import session as s
from kiosk.visit.controller import VisitController


def main(data_dir: Path) -> None:
    settings = load_settings(data_dir=data_dir)
    inbox: queue.Queue[Callable[[], None]] = queue.Queue()
    devices = DeviceManager.from_config(settings.device_config(), data_dir)
    session = s.VisitSession(default_catalogue(), settings.timeouts)
    controller = VisitController(session, settings, devices, data_dir / "kiosk.db", inbox.put)
    controller.start()

    def pump_until(done: Callable[[], bool], limit: float = 20) -> None:
        deadline = time.monotonic() + limit
        while not done():
            if time.monotonic() > deadline:
                raise SystemExit(f"rig: stuck in {session.state}")
            with contextlib.suppress(queue.Empty):
                inbox.get(timeout=0.05)()

    reader = devices.id_card_reader
    assert reader is not None
    pump_until(lambda: reader.status.state.value == "ready")
    reader.present()
    pump_until(lambda: session.state is s.State.CATALOGUE)
    controller.dispatch(s.ChooseService("queue_ticket"))
    controller.dispatch(s.ChooseOption("housing_fund"))
    controller.dispatch(s.Confirm())
    pump_until(lambda: session.view().receipt == "printed")
    view = session.view()
    print(f"PRINTED {view.ticket}", flush=True)
    time.sleep(3600)  # the test kills us here


if __name__ == "__main__":
    main(Path(sys.argv[1]))
