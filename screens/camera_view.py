"""A camera's live picture on screen, prepared on the capture thread so the main thread only blits.

Each frame is scaled to the widget and converted to the paint engine's own pixel format on the
capture thread (cv2 releases the GIL while it works); the main thread receives the finished QImage
through the bridge, keeps it, and draws it 1:1. When the main thread falls behind, only the newest
frame waits for it: the ones in between are dropped, never queued.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QWidget

from screens import theme
from screens.bridge import MainThreadPoster

if TYPE_CHECKING:
    from drivers.camera import OpenCvCamera
    from drivers.vision import FaceBox

# The raster engine's native 32-bit format, so painting is a copy, not a conversion: on a
# little-endian machine Format_RGB32 is the byte order B, G, R, 255, which is cv2's BGRA.
if sys.byteorder == "little":
    _CONVERT, _FORMAT = cv2.COLOR_BGR2BGRA, QImage.Format.Format_RGB32
else:
    _CONVERT, _FORMAT = cv2.COLOR_BGR2RGBA, QImage.Format.Format_RGBX8888

LETTERBOX = QColor(theme.TEXT)
FACE_BOX = QColor("#FFD54A")  # warm yellow: visible on skin, hair and the dark letterbox


@dataclass(frozen=True)
class _Picture:
    frame_no: int
    frame_size: tuple[int, int]  # the camera's frame (width, height)
    image: QImage
    pixels: np.ndarray  # the buffer *image* points into: it must live as long as the image


def fit(content: tuple[int, int], box: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) of *content* scaled to fit *box*, aspect kept, centred."""
    cw, ch = content
    bw, bh = box
    if cw <= 0 or ch <= 0 or bw <= 0 or bh <= 0:
        return 0, 0, max(bw, 0), max(bh, 0)
    scale = min(bw / cw, bh / ch)
    w, h = max(1, round(cw * scale)), max(1, round(ch * scale))
    return (bw - w) // 2, (bh - h) // 2, w, h


class CameraView(QWidget):
    """Shows the frames of an ``OpenCvCamera``; ``attach(camera)`` and ``detach()``."""

    def __init__(self, parent: QWidget | None = None, poster: MainThreadPoster | None = None):
        super().__init__(parent)
        self.setObjectName("CameraView")
        # Every pixel is painted (picture plus letterbox bars): Qt need not clear first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._poster = poster or MainThreadPoster()
        self._lock = threading.Lock()
        self._pending: _Picture | None = None  # newest prepared frame not yet taken
        self._posted = False  # a take is queued on the main thread
        self._picture: _Picture | None = None  # what is on screen
        self._painted_no = -1
        self._box = (0, 0)  # the widget in device pixels, read by the capture thread
        self._shown = False  # hidden (another screen is up): the capture thread skips the work
        self._dpr = 1.0
        self._faces: list[FaceBox] = []
        self._unsubscribe: Callable[[], None] | None = None
        self.frames_received = 0  # on the capture thread
        self.frames_dropped = 0  # replaced before the main thread took them
        self.frames_painted = 0  # distinct frames that reached the screen

    # --- main thread -----------------------------------------------------------------------

    def attach(self, camera: OpenCvCamera) -> None:
        self.detach()
        unsubscribe = camera.subscribe(self._on_frame)
        self._unsubscribe = unsubscribe
        # Should the widget go first, its camera must stop calling into it.
        self.destroyed.connect(lambda *_: unsubscribe())

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def clear(self) -> None:
        """Forget the picture on screen (the camera has gone away)."""
        with self._lock:
            self._pending = None
        self._picture, self._faces = None, []
        self.update()

    def set_faces(self, boxes: Sequence[FaceBox]) -> None:
        """Outline faces, in the camera frame's pixel coordinates; [] removes the outlines."""
        self._faces = list(boxes)
        self.update()

    def post_faces(self, _frame_no: int, boxes: list[FaceBox]) -> None:
        """``set_faces`` from any thread (a ``FaceTracker``'s callback)."""
        self._poster.post(lambda: self.set_faces(boxes))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._dpr = self.devicePixelRatioF()
        size = event.size()
        self._box = (round(size.width() * self._dpr), round(size.height() * self._dpr))
        super().resizeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        self._shown = True
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._shown = False
        super().hideEvent(event)

    def _take(self) -> None:
        with self._lock:
            picture, self._pending, self._posted = self._pending, None, False
        if picture is not None and self._unsubscribe is not None:
            self._picture = picture
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        whole = self.rect()
        picture = self._picture
        if picture is None:
            painter.fillRect(whole, LETTERBOX)
            painter.end()
            return
        x, y, w, h = fit(picture.frame_size, (whole.width(), whole.height()))
        target = QRect(x, y, w, h)
        for bar in (
            QRect(0, 0, whole.width(), y),
            QRect(0, y + h, whole.width(), whole.height() - y - h),
            QRect(0, y, x, h),
            QRect(x + w, y, whole.width() - x - w, h),
        ):
            if bar.isValid():
                painter.fillRect(bar, LETTERBOX)
        image = picture.image
        logical = QSize(
            round(image.width() / image.devicePixelRatio()),
            round(image.height() / image.devicePixelRatio()),
        )
        if abs(logical.width() - w) <= 1 and abs(logical.height() - h) <= 1:
            painter.drawImage(target.topLeft(), image)  # prepared for this size: a plain copy
        else:
            painter.drawImage(target, image)  # resized since: Qt scales this one frame
        if self._faces:
            fw, fh = picture.frame_size
            sx, sy = w / fw, h / fh
            painter.setPen(QPen(FACE_BOX, 4))
            for bx, by, bw, bh in self._faces:
                painter.drawRect(
                    QRect(x + round(bx * sx), y + round(by * sy), round(bw * sx), round(bh * sy))
                )
        painter.end()
        if picture.frame_no != self._painted_no:
            self._painted_no = picture.frame_no
            self.frames_painted += 1

    # --- capture thread ----------------------------------------------------------------------

    def _on_frame(self, frame_no: int, frame: np.ndarray) -> None:
        if not self._shown:
            return
        height, width = frame.shape[:2]
        box = self._box
        _, _, w, h = fit((width, height), box) if box[0] and box[1] else (0, 0, width, height)
        if (w, h) != (width, height):
            shrink = w < width
            frame = cv2.resize(
                frame, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        pixels = cv2.cvtColor(frame, _CONVERT)
        image = QImage(pixels.data, w, h, pixels.strides[0], _FORMAT)
        image.setDevicePixelRatio(self._dpr)
        picture = _Picture(frame_no, (width, height), image, pixels)
        with self._lock:
            self.frames_received += 1
            if self._pending is not None:
                self.frames_dropped += 1
            self._pending = picture
            post, self._posted = not self._posted, True
        if post:
            self._poster.post(self._take)
