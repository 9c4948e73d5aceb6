"""The simulator's controls (``kiosk run --simulate``): present a card, pull a device, and so on.

Developer-facing and only in simulation: short Chinese words with the keys (English in each
button's tool tip), dark, and floating over the header so the resident's layout underneath is
exactly what a real terminal shows. It floats in the gap between the centre's name and the clock
(or the step a resident is on), narrow enough to fit there in every look but elder mode in
English, where it covers the clock; never over the header's buttons (elder mode, high contrast,
language), which the person trying the terminal needs as much as a resident does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QFrame, QGridLayout, QLabel, QPushButton, QWidget

from drivers.camera import SimulatedCamera
from drivers.manager import DeviceManager
from drivers.receipt_printer import SimulatedReceiptPrinter
from drivers.sam_reader import SimulatedSamReader

HOLD_MS = 4000  # how long the simulated resident holds a QR code up
GAP = 8  # between the panel and what it floats beside, and above and below it
# What moves the header's buttons: a new language or look changes their texts and sizes.
_MOVES = {
    QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide,
    QEvent.Type.LayoutRequest,
}  # fmt: skip


class SimulatorPanel(QFrame):
    def __init__(self, devices: DeviceManager, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("SimPanel")
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 4, 12, 4)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        # Placed at every move in the header, so no frame shows it over a button; and once more
        # when the events have settled, after the window has placed it as it used to (centred).
        self._header = window.findChild(QWidget, "Header")
        self._place_soon = QTimer(self)
        self._place_soon.setSingleShot(True)
        self._place_soon.setInterval(0)
        self._place_soon.timeout.connect(self.place)
        for watched in (window, *self._beside()):
            watched.installEventFilter(self)
        self._place_soon.start()
        title = QLabel("模拟器\nSim")
        grid.addWidget(title, 0, 0, 2, 1)
        self.buttons: list[QPushButton] = []
        reader = devices.id_card_reader
        printer = devices.receipt_printer
        if isinstance(reader, SimulatedSamReader):
            self._add(grid, "simPresentCard", "放卡 F2", reader.present,
                      "Present the next sample card [F2]")  # fmt: skip
            self._add(grid, "simRemoveCard", "取卡 F3", reader.remove, "Take the card away [F3]")
            self._add(grid, "simReadFault", "读卡失败", lambda: reader.inject("read_failed"),
                      "The next read fails")  # fmt: skip
            QShortcut(QKeySequence("F2"), window, reader.present)
            QShortcut(QKeySequence("F3"), window, reader.remove)
        if isinstance(printer, SimulatedReceiptPrinter):
            paper = self._add(grid, "simPaperOut", "缺纸", None, "Paper out (toggle)")
            paper.setCheckable(True)
            paper.toggled.connect(lambda on: printer.inject("paper_out", on))
            paper.setToolTip(f"Paper out (toggle). Receipts are written to {printer.out_dir}")
            title.setToolTip(f"Receipts: {printer.out_dir}")
        camera = devices.camera
        if isinstance(camera, SimulatedCamera):
            self._serial = 0
            self._add(grid, "simShowReceiptQr", "办件码",
                      lambda: self._hold_up(camera, "application"),
                      "Hold an application receipt's QR code up to the camera")  # fmt: skip
            self._add(grid, "simShowAppointmentQr", "预约码",
                      lambda: self._hold_up(camera, "appointment"),
                      "Hold a new appointment's QR code up to the camera")  # fmt: skip

    def _beside(self) -> list[QWidget]:
        """The header and what its layout places (the centre's name first)."""
        header = self._header
        layout = header.layout() if header is not None else None
        if header is None or layout is None:
            return []
        laid: list[QWidget] = [header]
        for i in range(layout.count()):
            item = layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                laid.append(widget)
        return laid

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _MOVES:
            self.place()
            self._place_soon.start()
        return False

    def place(self) -> None:
        """After the centre's name when the header's free gap fits it, else just left of the
        buttons."""
        laid = self._beside()
        parent = self.parentWidget()
        if len(laid) < 2 or parent is None:
            return  # no header (a window of another make): where the window put it
        header, title, *rest = laid
        # What takes room in the header: the visible widgets and those hidden with their room kept.
        shown = [w for w in rest if w.isVisible() or w.sizePolicy().retainSizeWhenHidden()]
        buttons = [w for w in shown if isinstance(w, QAbstractButton)]
        wide = self.sizeHint().width()
        # The name's own width, not its label's: the label widens when the goodbye hides the
        # toggles, and a panel that moved then would be touched where it was a moment ago.
        name_end = title.x() + title.sizeHint().width() + GAP
        right = min((w.x() for w in shown), default=header.width()) - GAP
        if right - name_end >= wide:
            # Right after the name, not centred in the gap: the gap changes with every step
            # (the clock gives way to 第 2 步 / 共 3 步), and a panel that moved under a rig's
            # or a person's finger would be touched where it was.
            x = name_end
        else:
            right = min((w.x() for w in buttons), default=header.width()) - GAP
            x = max(GAP, right - wide)
        corner = header.mapTo(parent, QPoint(x, GAP))
        high = header.height() - 2 * GAP
        self.setGeometry(QRect(corner.x(), corner.y(), min(wide, right - x), high))

    def _hold_up(self, camera: SimulatedCamera, kind: str) -> None:
        """A resident holds a code the reference platform issued up to the camera for a few
        seconds: an application receipt, or a new appointment for today each time."""
        from contracts.codes import sample_application_code, sample_appointment_code

        self._serial = self._serial % 899 + 1
        code = (
            sample_application_code(self._serial)
            if kind == "application"
            else sample_appointment_code(date.today(), self._serial)
        )
        camera.hold_up(code)
        QTimer.singleShot(HOLD_MS, lambda: camera.hold_up(None))

    def _add(
        self,
        grid: QGridLayout,
        name: str,
        text: str,
        action: Callable[[], None] | None,
        tip: str,
    ) -> QPushButton:
        # Short Chinese words on the button (the room is the header's gap), English in the tip.
        btn = QPushButton(text)
        btn.setObjectName(name)
        btn.setToolTip(tip)
        if action is not None:
            # clicked passes `checked`, which present() would take for a card: drop it.
            btn.clicked.connect(lambda: action())  # noqa: PLW0108
        # Two rows of three: narrow enough to float between the centre's name and the clock.
        row, column = divmod(len(self.buttons), 3)
        grid.addWidget(btn, row, column + 1)
        self.buttons.append(btn)
        return btn
