"""Asking for the ID card: a picture of what to do, and calm word of what is happening."""

from __future__ import annotations

from kiosk.texts import Texts
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, centered, row
from screens.widgets import CardIcon, Spinner, label


class IdentifyScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "identifyTitle")
        self.hint = label("main", "identifyHint")
        self.spinner = Spinner(110)
        self.status = label("main", "identifyStatus", wrap=False)
        self.notice = label("notice", "identifyNotice", wrap=False)
        self.column.addStretch(1)
        self.column.addWidget(self.title)
        self.column.addWidget(self.hint)
        centered(self.column, CardIcon())
        # "Reading..." beside its spinner, on one line: elder mode needs the height.
        self.column.addLayout(row(self.spinner, self.status, spacing=24))
        centered(self.column, self.notice)
        self.column.addStretch(2)
        for widget in (self.spinner, self.notice):
            # Reserve their space so nothing moves when they appear.
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)

    def show_view(self, view: VisitView, t: Texts) -> None:
        # A service that also takes the social-security card says so.
        either = "social_security_card" in view.identify_by
        self.title.setText(t("identify.title_either" if either else "identify.title"))
        self.hint.setText(t("identify.hint_either" if either else "identify.hint"))
        reading = view.reading_card and view.device_notice_key is None
        self.spinner.setVisible(reading)
        self.status.setText(t("identify.reading") if reading else "")
        # A reader that is away matters more than an earlier card problem: say that it is coming
        # back, and stop saying "reading" on its behalf.
        notice = view.device_notice_key or view.notice_key
        if view.state.value != "identify":
            notice = None  # another step's notice is that step's to show
        self.notice.setVisible(bool(notice))
        self.notice.setText(t(notice) if notice else "")
