"""The attract screen: what a passer-by sees; one touch (or a card on the reader) starts a visit."""

from __future__ import annotations

from kiosk.texts import Texts
from kiosk.visit.view import VisitView
from screens.page import Dispatch, Screen, centered
from screens.widgets import CardIcon, button, label


class AttractScreen(Screen):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(dispatch)
        self.title = label("title", "attractTitle")
        self.subtitle = label("main", "attractSubtitle")
        self.start = button("startButton", self._start, "primary")
        self.start.setMinimumWidth(520)
        self.offline = label("body", "attractOffline")
        self.card_left = label("notice", "attractCardLeft")  # the last resident's card
        self.column.addStretch(2)
        self.column.addWidget(self.title)
        self.column.addWidget(self.subtitle)
        self.card_icon = CardIcon()
        centered(self.column, self.card_icon)
        centered(self.column, self.start)
        self.column.addStretch(1)
        self.column.addWidget(self.offline)
        self.column.addWidget(self.card_left)

    def mousePressEvent(self, event: object) -> None:
        # "Touch the screen to start": anywhere counts, not only the button.
        self._start()

    def _start(self) -> None:
        from kiosk.visit.events import Start  # imported by then: the first frame does without

        self.dispatch(Start())

    def show_view(self, view: VisitView, t: Texts) -> None:
        self.title.setText(t("attract.title"))
        # Invite a card only when the reader can read one; promise nothing the network decides.
        self.subtitle.setText(
            t("attract.subtitle_touch" if view.card_reader_down else "attract.subtitle")
        )
        self.start.setText(t("attract.start"))
        self.offline.setText(t("attract.offline_now"))
        self.card_left.setText(t("card.take_away"))
        self.card_left.setVisible(view.card_left_on_reader)
        # The picture of a card going onto the reader invites one: not while the reader is away,
        # nor while the last resident's card is still there to be taken (it makes the room).
        self.card_icon.setVisible(not view.card_reader_down and not view.card_left_on_reader)
        self.offline.setVisible(view.sync_link in ("offline", "refused"))
