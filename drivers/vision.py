"""What a camera sees: QR codes and faces, workers that look off the capture thread, and the
technician's probe behind ``kiosk diag camera``."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from drivers.base import DeviceState
from drivers.camera import CameraError, OpenCvCamera, check_source
from runtime.supervisor import WORKERS, Supervised

log = logging.getLogger(__name__)

Frame = NDArray[np.uint8]
FaceBox = tuple[int, int, int, int]  # x, y, width, height in the frame's pixels

FACE_CASCADE = "haarcascade_frontalface_default.xml"
DETECT_WIDTH = 640  # larger frames are shrunk first: a face at a kiosk fills the picture anyway
MIN_FACE_PIXELS = 40
# A probe stops waiting for the first frame as soon as the camera says why there is none.
GIVE_UP_STATES = frozenset({DeviceState.ABSENT, DeviceState.FAULT})

# Standard QR codes only, what every code we read is printed as. zxing's "QRCode" also takes
# Micro QR, whose smallest version only detects errors: a blurred finder pattern then reads as
# a made-up number (measured: 2 in 2,000 strongly blurred frames). No 1D formats either.
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCodeModel2)

_local = threading.local()
_cascade: cv2.CascadeClassifier | None = None
_cascade_lock = threading.Lock()  # one classifier, loaded once; not safe to share concurrently


def _qr_detector() -> cv2.QRCodeDetector:
    # One detector per thread: a detector keeps state between calls.
    detector: cv2.QRCodeDetector | None = getattr(_local, "qr", None)
    if detector is None:
        detector = _local.qr = cv2.QRCodeDetector()
    return detector


def _clahe() -> cv2.CLAHE:
    # One per thread, like the detector: OpenCV's algorithm objects are not for sharing.
    clahe: cv2.CLAHE | None = getattr(_local, "clahe", None)
    if clahe is None:
        clahe = _local.clahe = cv2.createCLAHE(clipLimit=4.0, tileGridSize=(8, 8))
    return clahe


def decode_qr(frame: Frame) -> list[str]:
    """The texts of the QR codes in *frame* (BGR or grey), each once; [] when there are none.

    zxing-cpp first: it reads the codes OpenCV's detector misses even when drawn perfectly, in
    far less time. A frame it finds nothing in gets a second zxing look with the local
    contrast evened out (faded print, a dim room: its binarizer takes their edges for noise),
    and only then OpenCV's detector, which still reads a few codes tilted far away from the
    camera that zxing gives up on. README "Camera" has the measured rates
    (tests/benches/bench_qr_decode.py).
    """
    return decode_qr_zxing(frame) or decode_qr_zxing(frame, evened=True) or decode_qr_opencv(frame)


def decode_qr_zxing(frame: Frame, *, evened: bool = False) -> list[str]:
    """One zxing-cpp pass over *frame* (after evening out its local contrast if *evened*)."""
    try:
        if evened:
            grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            frame = cast("Frame", _clahe().apply(grey))
        found = zxingcpp.read_barcodes(frame, formats=QR_ONLY, text_mode=zxingcpp.TextMode.Plain)
    except (ValueError, TypeError, cv2.error) as exc:  # not a picture: no code for us in it
        log.debug("QR decoding failed: %s", exc)
        return []
    return list(dict.fromkeys(code.text for code in found if code.text))


def decode_qr_opencv(frame: Frame) -> list[str]:
    """OpenCV's QRCodeDetector (the terminal's only decoder before zxing-cpp)."""
    detector = _qr_detector()
    try:
        found, texts, _, _ = detector.detectAndDecodeMulti(frame)
        decoded = [t for t in texts if t] if found else []
        if found and not decoded:  # located but not read: the single-code decoder tries harder
            text, _, _ = detector.detectAndDecode(frame)
            decoded = [text] if text else []
    except cv2.error as exc:  # a frame OpenCV cannot work on has no code in it for us
        log.debug("QR decoding failed: %s", exc)
        return []
    return list(dict.fromkeys(decoded))


def _face_cascade() -> cv2.CascadeClassifier:
    global _cascade  # noqa: PLW0603 - loaded once, on first use, for the whole process
    if _cascade is None:
        path = Path(cv2.data.haarcascades) / FACE_CASCADE  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise CameraError("no_cascade", f"{path} is missing: install opencv-python-headless<5")
        _cascade = cascade
    return _cascade


def detect_faces(frame: Frame) -> list[FaceBox]:
    """Frontal faces in *frame* (BGR or grey), largest first."""
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    scale = 1.0
    if grey.shape[1] > DETECT_WIDTH:
        scale = DETECT_WIDTH / grey.shape[1]
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)  # evens out the light of a kiosk by a window
    side = max(MIN_FACE_PIXELS, min(grey.shape) // 12)
    with _cascade_lock:
        found, _, weights = _face_cascade().detectMultiScale3(
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side), outputRejectLevels=True
        )
    boxes = _one_per_face(
        [(int(x), int(y), int(w), int(h)) for x, y, w, h in found], [float(w) for w in weights]
    )
    scaled = [_scaled(box, 1 / scale) for box in boxes]
    return sorted(scaled, key=lambda b: b[2] * b[3], reverse=True)


def _scaled(box: FaceBox, factor: float) -> FaceBox:
    x, y, w, h = box
    return round(x * factor), round(y * factor), round(w * factor), round(h * factor)


def _one_per_face(boxes: list[FaceBox], weights: list[float]) -> list[FaceBox]:
    """Of detections that overlap (either centre inside the other), the most confident.

    Haar cascades also fire on a larger window around a real face (a head and shoulders); a face
    cannot hold another, so the weaker of two such detections is the false one."""
    kept: list[FaceBox] = []
    for i in sorted(range(len(boxes)), key=lambda i: -weights[i]):
        if not any(_centre_in(boxes[i], k) or _centre_in(k, boxes[i]) for k in kept):
            kept.append(boxes[i])
    return kept


def _centre_in(box: FaceBox, outer: FaceBox) -> bool:
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return ox <= x + w / 2 <= ox + ow and oy <= y + h / 2 <= oy + oh


class FrameSource(Protocol):
    def latest_frame(self) -> tuple[int, Frame | None]: ...


class NewestFrameWorker(ABC):
    """Looks at the newest frame of *source* on its own thread, at most *rate_hz* times a second,
    skipping the frames in between: slow analysis never holds up the capture or the preview."""

    name = "frame-worker"

    def __init__(self, source: FrameSource, *, rate_hz: float) -> None:
        self.source = source
        self.interval = 1.0 / rate_hz
        self.analysed = 0
        self.busy_seconds = 0.0
        self._stop = threading.Event()
        self._thread: Supervised | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        # Supervised: a bad frame is already caught below; anything else (the camera object
        # failing under it, a bug) restarts the loop, counted in the terminal's worker health.
        self._thread = WORKERS.add(Supervised(self.name, self._loop))
        self._stop = self._thread.stopping
        self._thread.start()

    def stop(self) -> None:
        worker, self._thread = self._thread, None
        self._stop.set()
        if worker is not None:
            worker.stop(timeout=3)

    def _loop(self, stop: threading.Event) -> None:
        last_no = -1
        while not stop.is_set():
            started = time.monotonic()
            frame_no, frame = self.source.latest_frame()
            if frame is not None and frame_no != last_no:
                last_no = frame_no
                try:
                    self._analyse(frame_no, frame)
                except Exception:  # one bad frame must not end the worker
                    log.exception("%s failed on frame %d", self.name, frame_no)
                self.analysed += 1
                self.busy_seconds += time.monotonic() - started
            stop.wait(max(0.005, self.interval - (time.monotonic() - started)))

    @abstractmethod
    def _analyse(self, frame_no: int, frame: Frame) -> None:
        """Look at one frame (on the worker's thread); what it finds is the subclass's."""


class QrScanner(NewestFrameWorker):
    """Decodes QR codes from a camera and calls *on_code(text)* (on its own thread) once per code:
    a code held in view is reported again only after it has been out of view for
    *forget_after* seconds."""

    name = "qr-scanner"

    def __init__(
        self,
        source: FrameSource,
        on_code: Callable[[str], None],
        *,
        rate_hz: float = 5.0,
        forget_after: float = 3.0,
    ) -> None:
        super().__init__(source, rate_hz=rate_hz)
        self.on_code = on_code
        self.forget_after = forget_after
        self._seen: dict[str, float] = {}

    def _analyse(self, frame_no: int, frame: Frame) -> None:
        now = time.monotonic()
        for text in decode_qr(frame):
            last = self._seen.get(text)
            self._seen[text] = now
            if last is None or now - last > self.forget_after:
                self.on_code(text)
        self._seen = {t: at for t, at in self._seen.items() if now - at <= self.forget_after}


class FaceTracker(NewestFrameWorker):
    """Finds faces in a camera's newest frame a few times a second and calls
    *on_faces(frame_no, boxes)* (on its own thread), for a photo step's overlay."""

    name = "face-tracker"

    def __init__(
        self,
        source: FrameSource,
        on_faces: Callable[[int, list[FaceBox]], None],
        *,
        rate_hz: float = 4.0,
    ) -> None:
        super().__init__(source, rate_hz=rate_hz)
        self.on_faces = on_faces

    def _analyse(self, frame_no: int, frame: Frame) -> None:
        self.on_faces(frame_no, detect_faces(frame))


@dataclass
class CameraProbe:
    """What ``kiosk diag camera`` found."""

    source: str
    frames: int
    seconds: float
    fps: float
    width: int
    height: int
    faces: list[FaceBox] = field(default_factory=list)
    qr: list[str] | None = None  # None: not asked for
    snapshot: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "frames": self.frames,
            "seconds": round(self.seconds, 2),
            "fps": round(self.fps, 1),
            "width": self.width,
            "height": self.height,
            "faces": [list(b) for b in self.faces],
            "qr": self.qr,
            "snapshot": self.snapshot,
        }


def probe_camera(
    source: str | int,
    *,
    seconds: float = 3.0,
    decode: bool = False,
    snapshot: Path | None = None,
    fps: float = 30.0,
    open_timeout: float = 5.0,
) -> CameraProbe:
    """Capture from *source* for *seconds*: the frame rate measured, the frame size, the faces in
    the last frame, the QR codes seen (if *decode*), and the last frame written to *snapshot*."""
    src = check_source(source)
    if snapshot is not None and not snapshot.parent.is_dir():  # say so before, not after, capture
        raise CameraError("snapshot_failed", f"no such folder: {snapshot.parent}")
    camera = OpenCvCamera("camera", src, fps=fps)
    stamps: list[float] = []
    camera.subscribe(lambda _no, _frame: stamps.append(time.monotonic()))
    codes: list[str] = []
    scanner = QrScanner(camera, codes.append, rate_hz=10, forget_after=seconds + 1)
    camera.start()
    if decode:
        scanner.start()
    try:
        deadline = time.monotonic() + open_timeout
        while not stamps and time.monotonic() < deadline:
            status = camera.status
            if status.fault is not None and status.state in GIVE_UP_STATES:
                raise CameraError(status.fault.code, status.fault.detail)
            time.sleep(0.02)
        if not stamps:
            raise CameraError("no_frames", f"no frame from {src} in {open_timeout:.0f} s")
        time.sleep(seconds)
    finally:
        scanner.stop()
        camera.stop()
    _, frame = camera.latest_frame()
    assert frame is not None
    span = stamps[-1] - stamps[0]
    result = CameraProbe(
        source=str(src),
        frames=len(stamps),
        seconds=span,
        fps=(len(stamps) - 1) / span if span > 0 else 0.0,
        width=int(frame.shape[1]),
        height=int(frame.shape[0]),
        faces=detect_faces(frame),
        qr=codes if decode else None,
    )
    if snapshot is not None:
        try:
            written = cv2.imwrite(str(snapshot), frame)
        except cv2.error:
            written = False
        if not written:
            raise CameraError("snapshot_failed", f"cannot write {snapshot}")
        result.snapshot = str(snapshot)
    return result
