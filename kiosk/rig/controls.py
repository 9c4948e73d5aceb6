"""The controls a scenario may touch by object name: every named widget of the terminal's window
with all its pages, as ``kiosk rig check`` builds it offscreen, plus the names made per visit
(rating reasons). A name given as text (an accessible name) is looked for on screen instead."""

from __future__ import annotations

import re
from functools import cache

from kiosk.rig.loader import ControlCheck

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@cache
def known_controls() -> frozenset[str]:
    from PySide6.QtWidgets import QWidget

    from contracts.records import COMPLAINT_REASONS, PRAISE_REASONS
    from kiosk.app import look_of, qt_app
    from kiosk.config.settings import Settings
    from kiosk.config.shipped import default_catalogue
    from screens.main_window import KioskWindow

    qt_app()
    window = KioskWindow(look_of(Settings()))
    window.add_pages(default_catalogue())
    try:
        names = {w.objectName() for w in window.findChildren(QWidget)} | {window.objectName()}
    finally:
        window.deleteLater()
    names |= {f"reason_{code}" for code in PRAISE_REASONS + COMPLAINT_REASONS}
    # The simulator bar's buttons (kiosk/rig drives the simulators directly; a scenario may
    # still touch the bar, as a developer does).
    names |= {"simPresentCard", "simRemoveCard", "simReadFault", "simPaperOut",
              "simShowReceiptQr", "simShowAppointmentQr"}  # fmt: skip
    return frozenset(n for n in names if n)


def control_check() -> ControlCheck:
    def check(name: str) -> str | None:
        if not IDENTIFIER.match(name):
            return None  # an accessible name (a button's text): found on screen when it runs
        known = known_controls()
        if name in known:
            return None
        import difflib

        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"no control named {name!r} in the terminal's window{hint}"

    return check
