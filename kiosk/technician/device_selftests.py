"""The self-tests of the devices: read a card, print a test page, look through the camera.

Nothing personal is ever kept: the card test drops the card as soon as its ID number has been
checked, and the camera test counts QR codes without reading them out.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contracts.device_kinds import DeviceKind
from drivers.base import USABLE_STATES, Device, DeviceState
from kiosk.technician.redaction import redact_text
from kiosk.technician.said import Said, device_problem, said
from kiosk.technician.selftest_types import (
    Deadline,
    Outcome,
    SelfTestContext,
    bounded,
    failed,
    passed,
    skip,
)
from kiosk.technician.snapshot import compact_health

if TYPE_CHECKING:
    from drivers.idcard_reader import CardEvent, IdCardReader
    from drivers.receipt import Receipt

CAMERA_SAMPLE_SECONDS = 1.5
_DOWN = frozenset({DeviceState.ABSENT, DeviceState.FAULT})  # with a fault: it says why


def _wait_usable(device: Device, seconds: float) -> bool:
    """Wait for *device* to be usable; give up at once when it says why it is not."""
    deadline = time.monotonic() + seconds
    while (st := device.status).state not in USABLE_STATES:
        if time.monotonic() >= deadline or (st.fault is not None and st.state in _DOWN):
            return False
        time.sleep(0.05)
    return True


def _device_problem(device: Device) -> Said:
    st = device.status
    code = st.fault.code if st.fault else st.state.value
    return device_problem(device.kind.value, code)


# -- read a card -------------------------------------------------------------------------------
class _CardTap:
    """One card listener per reader for all card self-tests (a reader cannot drop listeners):
    it hands events to the test waiting now, if any."""

    def __init__(self) -> None:
        self.events: queue.Queue[CardEvent] | None = None

    def __call__(self, event: CardEvent) -> None:
        events = self.events
        if events is not None:
            events.put(event)


_taps: weakref.WeakKeyDictionary[IdCardReader, _CardTap] = weakref.WeakKeyDictionary()
_taps_lock = threading.Lock()


def _tap(reader: IdCardReader) -> _CardTap:
    with _taps_lock:
        tap = _taps.get(reader)
        if tap is None:
            tap = _taps[reader] = _CardTap()
            reader.add_card_listener(tap)
        return tap


def card_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from contracts.id_number import is_valid_id_number
    from drivers.idcard_reader import CardEventKind, IdCardReader
    from drivers.sam_reader import SimulatedSamReader
    from drivers.sim_cards import SAMPLE_CARDS

    reader = ctx.device(DeviceKind.ID_CARD_READER)
    if not isinstance(reader, IdCardReader):
        return skip(said("diag.result.no_card_reader"))
    where = {"reader": reader.where}
    if not _wait_usable(reader, deadline.left(3.0)):
        return failed(_device_problem(reader), details=where)
    tap = _tap(reader)
    events: queue.Queue[CardEvent] = queue.Queue()
    sim = reader if isinstance(reader, SimulatedSamReader) else None
    started = time.monotonic()
    try:
        if sim is not None:
            # Empty the simulated reader long enough for the driver to see it, then lay a card.
            sim.remove()
            time.sleep(min(deadline.left(), 2 * sim.poll_seconds + 0.05))
            tap.events = events
            sim.present(SAMPLE_CARDS[0])
        else:
            tap.events = events
        while True:
            try:
                event = events.get(timeout=deadline.left())
            except queue.Empty:
                return failed(said("diag.result.no_card", seconds=deadline.seconds), details=where)
            if event.kind is CardEventKind.FAILED and event.fault is not None:
                code = event.fault.code
                return failed(
                    device_problem("id_card_reader", code), details={**where, "code": code}
                )
            if event.kind is CardEventKind.READ and event.card is not None:
                valid = is_valid_id_number(event.card.id_number)
                del event  # the resident's data goes no further than this check
                details = {**where, "seconds": round(time.monotonic() - started, 2)}
                if valid:
                    return passed(said("diag.result.card_ok"), details=details)
                return failed(said("diag.result.card_invalid"), details=details)
    finally:
        tap.events = None
        if sim is not None:
            sim.remove()


# -- print a test page -------------------------------------------------------------------------
def test_page(qr: str, kiosk_id: str, devices: Iterable[Mapping[str, Any]]) -> Receipt:
    """A bilingual test page whose QR code carries the compact health snapshot."""
    from drivers.receipt import Align, Feed, Qr, Receipt, Rule, Text
    from kiosk.texts import Texts

    zh, en = Texts("zh_CN"), Texts("en")
    when = datetime.now().strftime("%Y-%m-%d %H:%M:%S")

    def both(key: str) -> str:
        return f"{zh(key)} {en(key)}"

    lines: list[Text | Rule | Qr | Feed] = [
        Text(zh("diag.test_page.title"), scale=2, bold=True, align=Align.CENTER),
        Text(en("diag.test_page.title"), bold=True, align=Align.CENTER),
        Rule(),
        Text(zh("diag.test_page.ok")),
        Text(en("diag.test_page.ok")),
        Text(f"{both('diag.test_page.terminal')}: {kiosk_id}"),
        Text(f"{both('diag.test_page.time')}: {when}"),
        Rule(),
    ]
    for row in devices:
        fault = row.get("fault")
        lines.append(
            Text(f"{row['name']}: {row['state']}" + (f" ({fault['code']})" if fault else ""))
        )
    lines += [
        Rule(),
        Qr(qr, module_size=5),
        Text(zh("diag.test_page.scan"), align=Align.CENTER),
        Text(en("diag.test_page.scan"), align=Align.CENTER),
        Feed(1),
    ]
    return Receipt(tuple(lines))


def print_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from drivers.receipt_printer import PrinterError, ReceiptPrinter, StatusCheckedPrinter

    printer = ctx.device(DeviceKind.RECEIPT_PRINTER)
    if not isinstance(printer, ReceiptPrinter):
        return skip(said("diag.result.no_printer"))
    if isinstance(printer, StatusCheckedPrinter):
        # The page's QR code carries the printer's state: make it the state of now (the paper
        # may just have been fixed), not of the last background poll.
        bounded(printer.recheck, deadline.left(), "print")
    snapshot = ctx.health()
    qr = compact_health(snapshot)
    page = test_page(qr, ctx.kiosk_id, snapshot.get("devices") or [])
    details: dict[str, Any] = {"printer": printer.where, "qr_bytes": len(qr.encode())}
    try:
        # Printed whatever state the printer reports: the technician wants to know if it works
        # now, and the driver checks paper and cover before the job anyway.
        bounded(lambda: printer.print_receipt(page), deadline.left(), "print")
    except PrinterError as exc:
        return failed(
            device_problem("receipt_printer", exc.code),
            details={**details, "code": exc.code, "detail": redact_text(exc.detail)},
        )
    return passed(said("diag.result.print_ok"), details=details)


# -- camera ------------------------------------------------------------------------------------
def camera_selftest(ctx: SelfTestContext, deadline: Deadline) -> Outcome:
    from drivers.camera import OpenCvCamera

    camera = ctx.device(DeviceKind.CAMERA)
    if not isinstance(camera, OpenCvCamera):
        return skip(said("diag.result.no_camera"))
    details: dict[str, Any] = {"source": camera.where}
    stamps: list[float] = []
    unsubscribe = camera.subscribe(lambda _no, _frame: stamps.append(time.monotonic()))
    try:
        sample = min(CAMERA_SAMPLE_SECONDS, deadline.seconds / 2)
        while not stamps and deadline.left() > sample:
            st = camera.status
            if st.fault is not None and st.state in _DOWN:
                break  # it says why there is no picture: no need to wait for the deadline
            time.sleep(0.02)
        if stamps:
            time.sleep(deadline.left(sample))
    finally:
        unsubscribe()
    if len(stamps) < 2:
        st = camera.status
        code = st.fault.code if st.fault else "no_frames"
        return failed(device_problem("camera", code), details={**details, "code": code})
    span = stamps[-1] - stamps[0]
    fps = (len(stamps) - 1) / span if span > 0 else 0.0
    _, frame = camera.latest_frame()
    if frame is None:
        return failed(device_problem("camera", "no_frames"), details=details)
    from drivers.vision import decode_qr, detect_faces

    faces = detect_faces(frame)
    codes = decode_qr(frame)
    details.update(
        fps=round(fps, 1),
        width=int(frame.shape[1]),
        height=int(frame.shape[0]),
        faces=len(faces),
        qr_codes=len(codes),  # how many, never what they say: a resident's code is theirs
    )
    st = camera.status
    if st.state is DeviceState.DEGRADED and st.fault is not None:
        return failed(
            device_problem("camera", st.fault.code), details={**details, "code": st.fault.code}
        )
    return passed(
        said("diag.result.camera_ok", fps=fps, width=frame.shape[1], height=frame.shape[0]),
        _counted("faces", len(faces)),
        _counted("qr", len(codes)),
        details=details,
    )


def _counted(what: str, n: int) -> Said:
    """``1 face`` / ``2 faces`` / ``no QR code``: English counts need a key per form."""
    form = "none" if n == 0 and what == "qr" else "one" if n == 1 else "many"
    return said(f"diag.result.{what}_{form}", n=n)
