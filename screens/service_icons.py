"""The catalogue's service icons, drawn as line art: a few strokes each, in the look's colours.

Vector shapes rather than image files, so an icon is sharp at every size, takes any theme's
colour and needs nothing installed. Each icon is a path on a 24-unit grid; ``ServiceIcon`` scales
it to its own size. The catalogue may name an icon this terminal does not have (a newer
configuration): that one draws nothing, and the tile keeps its text where the others do.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from screens import theme

GRID = 24.0
STROKE = 1.8  # in grid units: bold enough to read from a step back, still line art


def _lines(path: QPainterPath, *strokes: tuple[float, ...]) -> QPainterPath:
    """Open polylines, each as x0, y0, x1, y1, ... on the grid."""
    for xy in strokes:
        path.moveTo(xy[0], xy[1])
        for i in range(2, len(xy), 2):
            path.lineTo(xy[i], xy[i + 1])
    return path


def _shield() -> QPainterPath:
    path = QPainterPath(QPointF(12, 2.5))
    path.lineTo(20, 5.5)
    path.lineTo(20, 11)
    path.cubicTo(20, 16, 16.5, 19.8, 12, 21.5)
    path.cubicTo(7.5, 19.8, 4, 16, 4, 11)
    path.lineTo(4, 5.5)
    path.closeSubpath()
    return _lines(path, (8.5, 12, 11, 14.5, 15.5, 9.5))  # a tick: you are covered


def _cross() -> QPainterPath:
    corners = (9, 3, 15, 3, 15, 9, 21, 9, 21, 15, 15, 15, 15, 21, 9, 21, 9, 15, 3, 15, 3, 9, 9, 9)
    path = _lines(QPainterPath(), corners)
    path.closeSubpath()
    return path


def _house() -> QPainterPath:
    return _lines(
        QPainterPath(),
        (2.5, 11.5, 12, 3.5, 21.5, 11.5),  # the roof
        (5.5, 9.5, 5.5, 20.5, 18.5, 20.5, 18.5, 9.5),
        (10, 20.5, 10, 14.5, 14, 14.5, 14, 20.5),  # the door
    )


def _document() -> QPainterPath:
    path = _lines(QPainterPath(), (5.5, 2.5, 14, 2.5, 18.5, 7, 18.5, 21.5, 5.5, 21.5))
    path.closeSubpath()
    return _lines(path, (14, 2.5, 14, 7, 18.5, 7), (9, 11.5, 15, 11.5), (9, 15.5, 15, 15.5))


def _ticket() -> QPainterPath:
    # A stub with a notch either side and a perforation: how a queue ticket looks in the hand.
    path = QPainterPath(QPointF(3, 6))
    path.lineTo(21, 6)
    path.lineTo(21, 10)
    path.arcTo(QRectF(19, 10, 4, 4), 90, 180)
    path.lineTo(21, 18)
    path.lineTo(3, 18)
    path.lineTo(3, 14)
    path.arcTo(QRectF(1, 10, 4, 4), 270, 180)
    path.closeSubpath()
    return _lines(path, (15, 8.5, 15, 9.5), (15, 11.5, 15, 12.5), (15, 14.5, 15, 15.5))


def _progress() -> QPainterPath:
    # A clock inside an arrow going round: how far an application has come, over time.
    path = QPainterPath()
    path.arcMoveTo(QRectF(3.5, 3.5, 17, 17), 150)
    path.arcTo(QRectF(3.5, 3.5, 17, 17), 150, -300)
    return _lines(path, (3.7, 19.6, 4.6, 16.2, 8, 17.2), (12, 7.5, 12, 12, 15.5, 14))


def _calendar() -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(QRectF(3.5, 5, 17, 16), 2, 2)
    return _lines(
        path, (3.5, 9.5, 20.5, 9.5), (8, 3, 8, 7), (16, 3, 16, 7), (9, 15, 11, 17, 15, 13)
    )


def _speech() -> QPainterPath:
    path = QPainterPath(QPointF(6, 4))
    path.lineTo(18, 4)
    path.quadTo(21, 4, 21, 7)
    path.lineTo(21, 13)
    path.quadTo(21, 16, 18, 16)
    path.lineTo(11, 16)
    path.lineTo(6.5, 20.5)
    path.lineTo(6.5, 16)
    path.lineTo(6, 16)
    path.quadTo(3, 16, 3, 13)
    path.lineTo(3, 7)
    path.quadTo(3, 4, 6, 4)
    return _lines(path, (7.5, 8.5, 16.5, 8.5), (7.5, 12, 13.5, 12))


def _person() -> QPainterPath:
    path = QPainterPath()
    path.addEllipse(QPointF(12, 7.5), 3.8, 3.8)
    path.moveTo(4.5, 21)
    path.cubicTo(4.5, 16, 8, 13.5, 12, 13.5)
    path.cubicTo(16, 13.5, 19.5, 16, 19.5, 21)
    return path


SHAPES: dict[str, Callable[[], QPainterPath]] = {
    "shield": _shield, "cross": _cross, "house": _house, "document": _document,
    "ticket": _ticket, "progress": _progress, "calendar": _calendar, "speech": _speech,
    "person": _person,
}  # fmt: skip


def icon_px(look: theme.Look) -> int:
    """An icon as tall as its tile's name, a little more: larger in elder mode with the name."""
    return look.tile_name_px + 6


def icon_colour(look: theme.Look, greyed: bool) -> QColor:
    """The accent a working tile's button text has; a greyed tile's icon goes grey with it."""
    return QColor(look.disabled_text if greyed else look.primary)


class ServiceIcon(QWidget):
    """One tile's icon. It paints from the look on screen (``theme.current()``), so a change of
    theme needs only a repaint; its size follows the look through ``set_look``."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName("serviceIcon")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.name = name
        self.greyed = False
        self._shape = SHAPES.get(name)
        self.set_look(theme.current())

    @property
    def known(self) -> bool:
        return self._shape is not None

    def set_look(self, look: theme.Look) -> None:
        self.setFixedSize(icon_px(look), icon_px(look))

    def set_greyed(self, greyed: bool) -> None:
        if greyed != self.greyed:
            self.greyed = greyed
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._shape is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        painter.translate((self.width() - side) / 2, (self.height() - side) / 2)
        painter.scale(side / GRID, side / GRID)
        pen = QPen(icon_colour(theme.current(), self.greyed), STROKE)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._shape())
        painter.end()
