"""The Qt binding itself: PySide6 6.12.0 dropped a reference to None on every call that returns
nothing, and to True on every signal emit. On Python 3.11 (None and True not yet immortal) the
process aborts ("deallocating None") after some thousands of calls: a terminal would die within
hours. pyproject.toml keeps us off it; these tests notice should the fault come back."""

from __future__ import annotations

import sys

from pytestqt.qtbot import QtBot

from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_alive(qtbot: QtBot) -> None:
    lab = QLabel()
    qtbot.addWidget(lab)
    before = sys.getrefcount(None)
    for _ in range(2000):
        lab.setText("")
        lab.setVisible(False)
        lab.setEnabled(True)
    # Other objects come and go meanwhile; a leak here would be exactly -6000.
    assert sys.getrefcount(None) - before > -100


def test_signal_emits_keep_true_alive(qtbot: QtBot) -> None:
    # 6.12.0 also dropped a reference to True on every Signal.emit() from Python: the process
    # aborted after some hundreds of emits (MainThreadPoster posts through a signal).
    from PySide6.QtCore import QObject, Signal

    class Source(QObject):
        fired = Signal(bool)

    source = Source()
    got: list[bool] = []
    source.fired.connect(got.append)
    before = sys.getrefcount(True)
    for _ in range(2000):
        source.fired.emit(True)
    got.clear()
    assert sys.getrefcount(True) - before > -100
