"""Showing a QR code to the camera: the live picture (so the resident sees the code is in view)
next to what to do. The scanner itself runs in the controller only while this step shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.texts import Texts
from kiosk.visit.view import VisitView
from screens.camera_view import CameraView
from screens.page import Dispatch, Screen, row
from screens.widgets import label

if TYPE_CHECKING:
    from drivers.camera import OpenCvCamera


class ScanScreen(Screen):
    def __init__(self, dispatch: Dispatch, camera: OpenCvCamera | None = None) -> None:
        super().__init__(dispatch)
        self.title = label("title", "scanTitle")
        self.hint = label("main", "scanHint")
        self.hint.setFixedWidth(720)  # beside the picture: a column of words, not of letters
        self.notice = label("notice", "scanNotice")
        self.preview = CameraView()
        self.preview.setFixedSize(640, 480)
        self._camera = camera
        self._attached = False
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addSpacing(16)
        self.column.addLayout(row(self.preview, self.hint, spacing=48))
        self.column.addWidget(self.notice)
        self.column.addStretch(2)

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t(f"scan.{view.service}.title") or t("scan.title"))
        self.hint.setText(t("scan.hint"))
        notice = view.device_notice_key or view.notice_key
        if view.state.value != "scan":
            notice = None
        self.notice.setVisible(bool(notice))
        self.notice.setText(t(notice) if notice else "")
        showing = view.state.value == "scan"
        # The picture is wired up only while the step shows: no frame work otherwise.
        if showing and not self._attached and self._camera is not None:
            self.preview.attach(self._camera)
            self._attached = True
        elif not showing and self._attached:
            self.preview.detach()
            self.preview.clear()
            self._attached = False
