"""Small building blocks shared by the screens: labels with a role, big buttons, painted icons."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

from screens import theme

LINE_HEIGHT_PERCENT = 135  # wrapped text: >= 1.3 line spacing, easier for older eyes


class Words(QLabel):
    """A label whose wrapped lines are spaced for reading (the font alone gives ~1.17). The
    text is always the resident's plain words: escaped, never interpreted as markup."""

    def __init__(self) -> None:
        super().__init__()
        self._plain = ""

    def setText(self, text: str) -> None:
        self._plain = text
        if self.wordWrap() and text:
            self.setTextFormat(Qt.TextFormat.RichText)
            import html  # only for wrapped text, never on the first frame's path

            spaced = html.escape(text).replace("\n", "<br>")
            super().setText(f'<div style="line-height:{LINE_HEIGHT_PERCENT}%">{spaced}</div>')
        else:
            self.setTextFormat(Qt.TextFormat.PlainText)
            super().setText(text)

    def text(self) -> str:
        return self._plain


def label(
    role: str, name: str = "", *, wrap: bool = True, align: Qt.AlignmentFlag | None = None
) -> Words:
    lab = Words()
    lab.setProperty("role", role)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    lab.setAlignment(align if align is not None else Qt.AlignmentFlag.AlignCenter)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    return lab


def button(name: str, on_click: Callable[[], None], variant: str = "") -> QPushButton:
    btn = QPushButton()
    btn.setObjectName(name)
    if variant:
        btn.setProperty("variant", variant)
    btn.setCursor(Qt.CursorShape.PointingHandCursor)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # touch screen: no focus rectangles
    btn.clicked.connect(on_click)
    btn.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return btn


class CardIcon(QWidget):
    """An ID card sliding onto a reader: tells a resident what to do without reading."""

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(QSize(520, 280))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        reader = QRectF(40, 196, 440, 70)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#5B6670"))
        p.drawRoundedRect(reader, 18, 18)
        p.setBrush(QColor("#7FD1C3"))
        p.drawRoundedRect(QRectF(200, 222, 120, 14), 7, 7)
        card = QRectF(110, 30, 300, 180)
        p.setBrush(QColor("#FFFFFF"))
        p.setPen(QPen(QColor(theme.current().primary), 5))
        p.drawRoundedRect(card, 20, 20)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#CFE4E0"))
        p.drawRoundedRect(QRectF(300, 60, 80, 100), 10, 10)
        p.setBrush(QColor("#9FB3AF"))
        for i in range(3):
            p.drawRoundedRect(QRectF(140, 70 + i * 34, 130 - i * 30, 16), 8, 8)
        primary = QColor(theme.current().primary)
        p.setPen(QPen(primary, 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(460, 60), QPointF(460, 170))
        p.drawLine(QPointF(460, 170), QPointF(440, 145))
        p.drawLine(QPointF(460, 170), QPointF(480, 145))
        p.end()


class Spinner(QWidget):
    """A slow, calm progress arc; animates only while visible."""

    def __init__(self, size: int = 140) -> None:
        super().__init__()
        self.setFixedSize(size, size)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._step)

    def showEvent(self, event: object) -> None:
        if theme.current().animate:  # elder mode: nothing on screen moves
            self._timer.start()

    def hideEvent(self, event: object) -> None:
        self._timer.stop()

    def _step(self) -> None:
        self._angle = (self._angle + 8) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(theme.current().pressed_bg), 14)
        p.setPen(pen)
        r = QRectF(12, 12, self.width() - 24, self.height() - 24)
        p.drawEllipse(r)
        pen.setColor(QColor(theme.current().primary))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawArc(r, -self._angle * 16, 100 * 16)
        p.end()


class FaceButton(QPushButton):
    """One rating choice: a painted face (no emoji font needed) above its words. Sized so that
    the reasons fit below the row in every look without anything moving when they appear."""

    SIZE = QSize(300, 240)
    RADIUS = 56
    TOP = 18  # from the top edge to the face

    def __init__(self, score: int, on_click: Callable[[], None]) -> None:
        super().__init__()
        self.score = score
        self.setObjectName(f"rate{score}")
        self.setProperty("variant", "face")
        self.setFixedSize(self.SIZE)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clicked.connect(on_click)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        # A style sheet's min-height (every look's buttons have one) would grow the face past
        # its size whenever the look is applied: the size is the face's own, in every look.
        if event.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange):
            self.setFixedSize(self.SIZE)
        return handled

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        hue = ["#B3261E", "#C8611A", "#8C7A00", "#3C7F3A", "#0B6158"][self.score - 1]
        r = self.RADIUS
        k = r / 90  # the face is drawn for radius 90 and scaled
        c = QPointF(self.width() / 2, self.TOP + r)
        p.setPen(QPen(QColor(hue), 8 * k))
        p.setBrush(QColor("#FFFFFF"))
        p.drawEllipse(c, r, r)
        p.setBrush(QColor(hue))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(c + QPointF(-32 * k, -25 * k), 11 * k, 11 * k)
        p.drawEllipse(c + QPointF(32 * k, -25 * k), 11 * k, 11 * k)
        curve = (self.score - 3) * 22 * k  # frown ... smile
        path = QPainterPath(c + QPointF(-42 * k, 35 * k - curve / 3))
        path.quadTo(c + QPointF(0, 35 * k + curve), c + QPointF(42 * k, 35 * k - curve / 3))
        p.setPen(QPen(QColor(hue), 8 * k, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.end()


class CheckMark(QWidget):
    def __init__(self, size: int = 96) -> None:
        super().__init__()
        self.setFixedSize(size, size)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = self.width()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(theme.current().primary))
        p.drawEllipse(QRectF(0, 0, s, s))
        # The look's text-on-primary: white on teal, black on high contrast's yellow (7:1 and more).
        tick = QColor(theme.current().on_primary)
        pen = QPen(tick, s / 10, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        path = QPainterPath(QPointF(s * 0.27, s * 0.52))
        path.lineTo(QPointF(s * 0.44, s * 0.68))
        path.lineTo(QPointF(s * 0.74, s * 0.34))
        p.drawPath(path)
        p.end()
