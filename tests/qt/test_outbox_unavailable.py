"""An outbox that cannot be opened greys, at once, every service whose result is a record, with
the reason on its tile; calling staff still works. Before, residents chose a service, went through
its steps and learnt only at the end that nothing was recorded."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from PySide6.QtWidgets import QLabel, QPushButton

from contracts.device_kinds import DeviceKind
from drivers.base import DeviceState, DeviceStatus, StatusListener
from kiosk.app import qt_app
from kiosk.config.settings import load_settings
from kiosk.config.shipped import default_catalogue
from kiosk.texts import Texts
from kiosk.visit import session as s
from kiosk.visit.controller import VisitController
from screens.main_window import KioskWindow

GREYED = {"queue_ticket", "feedback"}  # their result is a record
GREYED_OFFLINE = GREYED | {"social_security", "medical_insurance", "housing_fund"}  # the slip


class ReadyDevices:
    """Every device ready, so whatever is greyed is greyed for the outbox alone."""

    id_card_reader = smart_card_reader = receipt_printer = camera = None

    def statuses(self) -> list[DeviceStatus]:
        return [DeviceStatus(k.value, k, "sim", DeviceState.READY) for k in DeviceKind]

    def add_status_listener(self, listener: StatusListener) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[tuple[VisitController, Callable[[], None]]]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "kiosk.db").write_bytes(b"not a database" * 500)  # opening the outbox fails
    inbox: queue.Queue[Callable[[], None]] = queue.Queue()
    session = s.VisitSession(default_catalogue(), load_settings(data_dir=data).timeouts)
    ctl = VisitController(session, load_settings(data_dir=data), ReadyDevices(),  # type: ignore[arg-type]
                          data / "kiosk.db", inbox.put)  # fmt: skip

    def pump() -> None:  # what the UI thread would run: every answer the workers posted
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                inbox.get(timeout=0.05)()

    ctl.start()
    pump()
    yield ctl, pump
    ctl.shutdown()


def test_services_that_record_are_greyed_at_once_with_the_reason(
    controller: tuple[VisitController, Callable[[], None]],
) -> None:
    ctl, _ = controller
    view = ctl.session.view()
    assert set(view.unavailable) == GREYED  # before any resident has touched anything
    assert {view.unavailable[c] for c in GREYED} == {("result.refused.title", "alternative.staff")}
    ctl.dispatch(s.SyncChanged("offline", 0))
    ctl._refresh_availability()
    offline = ctl.session.view().unavailable  # offline, an online query's slip is a record
    assert {offline[c][0] for c in GREYED_OFFLINE} == {"result.refused.title"}
    ctl.dispatch(s.Start())
    ctl.dispatch(s.ChooseService("queue_ticket"))
    assert ctl.session.state is s.State.CATALOGUE  # a greyed tile starts nothing


def test_calling_staff_still_works(controller: tuple[VisitController, Callable[[], None]]) -> None:
    ctl, pump = controller
    ctl.dispatch(s.Start())
    ctl.dispatch(s.ChooseService("call_staff"))
    pump()  # its record fails on the outbox worker; the call on screen stands
    view = ctl.session.view()
    assert (view.state, view.outcome, view.staff_called) == (s.State.RESULT, "staff", True)


def test_the_tiles_show_it(
    controller: tuple[VisitController, Callable[[], None]], pages_window: KioskWindow
) -> None:
    ctl, _ = controller
    ctl.dispatch(s.Start())
    view = ctl.session.view()
    assert view.state is s.State.CATALOGUE
    pages_window.show_view(view)
    qt_app().processEvents()
    t = Texts("zh_CN")
    for code in GREYED:
        tile = pages_window.findChild(QPushButton, f"service_{code}")
        reason = pages_window.findChild(QLabel, f"tileReason_{code}")
        assert tile is not None and reason is not None
        assert not tile.isEnabled() and reason.isVisible()
        assert reason.text() == t("result.refused.title") == "暂时无法办理"
    staff = pages_window.findChild(QPushButton, "service_call_staff")
    assert staff is not None and staff.isEnabled()
    shown = [w.text() for w in pages_window.findChildren(QLabel) if w.isVisible()]
    assert t("alternative.staff.long") in shown  # what to do instead, under the tiles
