"""Camera preview benchmark: a 640x480 MJPG clip (a face and a QR code) captured at 30 fps, shown
by CameraView in an offscreen window while a QrScanner decodes on its own thread. Prints the
frames per second that reach the screen (goal >= 15) and the main thread's time per frame, the
slot that takes a frame plus the paint that follows (median and p95; goal <= 5 ms).

    .venv/bin/python tests/benches/bench_camera.py [--seconds 10] [--fps 30] [--view 1280x720]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={ROOT / 'tests' / 'screen.json'}")
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import segno  # noqa: E402

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QPaintEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from drivers.camera import OpenCvCamera  # noqa: E402
from drivers.vision import QrScanner  # noqa: E402
from screens.camera_view import CameraView  # noqa: E402

FACE = ROOT / "drivers" / "assets" / "face-astronaut.png"


class TimedView(CameraView):
    def __init__(self) -> None:
        super().__init__()
        self.take_started: list[float] = []
        self.take_ms: list[float] = []
        self.frame_ms: list[float] = []  # a take plus the paint that shows it
        self._owed = 0.0

    def _take(self) -> None:
        started = time.perf_counter()
        super()._take()
        self._owed = (time.perf_counter() - started) * 1000
        self.take_ms.append(self._owed)

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.frame_ms.append(self._owed + (time.perf_counter() - started) * 1000)
        self._owed = 0.0


def make_clip(path: Path, frames: int = 90) -> None:
    face = cv2.resize(cv2.imread(str(FACE)), (300, 300))
    buf = io.BytesIO()
    segno.make_qr("KIOSK-BENCH-001").save(buf, kind="png", scale=6, border=4)
    qr = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, (640, 480))
    for i in range(frames):
        frame = np.full((480, 640, 3), 190, np.uint8)
        frame[90 + i % 7 : 390 + i % 7, 20:320] = face
        frame[100 : 100 + qr.shape[0], 380 : 380 + qr.shape[1]] = qr
        writer.write(frame)
    writer.release()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=30.0, help="capture rate")
    parser.add_argument("--view", default="1280x720", help="the view's size, WxH")
    args = parser.parse_args()
    width, height = (int(v) for v in args.view.split("x"))
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.avi"
        make_clip(clip)
        camera = OpenCvCamera("camera", str(clip), fps=args.fps)
        view = TimedView()
        view.resize(width, height)
        view.show()
        view.attach(camera)
        codes: list[str] = []
        scanner = QrScanner(camera, codes.append, rate_hz=5)
        camera.start()
        scanner.start()
        marks: dict[str, tuple[float, int, int, int, int, int]] = {}
        # A second to settle (first open, caches), then the measured span.
        QTimer.singleShot(1000, lambda: marks.update(start=snapshot(view, camera)))
        QTimer.singleShot(int((1 + args.seconds) * 1000), app.quit)
        app.exec()
        end = snapshot(view, camera)
        scanner.stop()
        camera.stop()
        view.detach()
    t0, captured0, painted0, dropped0, takes0, frames0 = marks["start"]
    t1, captured1, painted1, dropped1, takes1, frames1 = end
    span = t1 - t0
    take_ms, frame_ms = view.take_ms[takes0:takes1], view.frame_ms[frames0:frames1]
    print(f"view {width}x{height}, source 640x480 MJPG at {args.fps:g} fps, {span:.1f} s measured")
    print(f"captured: {(captured1 - captured0) / span:.1f} fps")
    print(
        f"shown:    {(painted1 - painted0) / span:.1f} fps (goal >= 15), "
        f"dropped {dropped1 - dropped0} of {captured1 - captured0}"
    )
    print(
        f"main thread per frame (take + paint): median {statistics.median(frame_ms):.2f} ms, "
        f"p95 {percentile(frame_ms, 95):.2f} ms (goal <= 5); take alone median "
        f"{statistics.median(take_ms):.3f} ms"
    )
    print(
        f"QR scanner: {scanner.analysed} frames decoded, "
        f"{scanner.busy_seconds / max(scanner.analysed, 1) * 1000:.1f} ms each, codes {codes}"
    )


def snapshot(view: TimedView, camera: OpenCvCamera) -> tuple[float, int, int, int, int, int]:
    return (
        time.monotonic(),
        camera.latest_frame()[0],
        view.frames_painted,
        view.frames_dropped,
        len(view.take_ms),
        len(view.frame_ms),
    )


if __name__ == "__main__":
    main()
