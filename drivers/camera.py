"""Cameras through OpenCV: a device index, a video file or an image sequence, captured on a thread.

The newest frame is kept for whoever wants it (preview, QR decoding); a capture that repeats the
same frame for too long is treated as stalled and reopened, since some drivers freeze that way.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from drivers.base import Device, DeviceKind, DeviceState

log = logging.getLogger(__name__)

STALL_FRAMES = 150  # identical frames in a row (about 10 s at 15 fps) before a reopen
REOPEN_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)


class OpenCvCamera(Device):
    kind = DeviceKind.CAMERA
    driver = "opencv"

    def __init__(self, name: str, source: str | int, *, fps: float = 15.0, loop: bool = True):
        super().__init__(name)
        self.source = source
        self.fps = fps
        self.loop = loop  # files and image sequences start again at the end, like a live feed
        self._frame: Any = None
        self._frame_no = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def latest_frame(self) -> tuple[int, Any]:
        """(frame number, BGR ndarray or None). The array is not copied: treat it as read-only."""
        with self._lock:
            return self._frame_no, self._frame

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._set_state(DeviceState.ABSENT)

    def _open(self) -> Any:
        import cv2

        # An image sequence ends with a "cannot read" warning on every loop; it is expected.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        src = self.source
        if isinstance(src, str) and "%" in src:
            return cv2.VideoCapture(src, cv2.CAP_IMAGES)
        return cv2.VideoCapture(src)

    def _run(self) -> None:
        failures = 0
        rewinding = False
        while not self._stop.is_set():
            if not rewinding:
                self._set_state(DeviceState.CONNECTING)
            cap = self._open()
            if not cap.isOpened():
                cap.release()
                delay = REOPEN_BACKOFF[min(failures, len(REOPEN_BACKOFF) - 1)]
                failures += 1
                self._set_state(
                    DeviceState.ABSENT,
                    self.fault(
                        "open_failed", "device.camera_unavailable", f"cannot open {self.source}"
                    ),
                )
                self._stop.wait(delay)
                continue
            failures = 0
            self._set_state(DeviceState.READY)
            try:
                # A file or image sequence that ends starts again without a state change: to
                # the rest of the terminal it is one continuous feed.
                rewinding = self._capture(cap) == "end"
            finally:
                cap.release()

    def _capture(self, cap: Any) -> str:
        """Read frames until stopped ("stop"), the source ends ("end") or fails ("fault")."""
        period = 1.0 / self.fps
        last_digest, same = b"", 0
        while not self._stop.is_set():
            started = time.monotonic()
            ok, frame = cap.read()
            if not ok:
                if self.loop and isinstance(self.source, str):
                    return "end"
                self._set_state(
                    DeviceState.FAULT,
                    self.fault("read_failed", "device.camera_unavailable", "no frame"),
                )
                return "fault"
            digest = hashlib.blake2b(frame[::16, ::16].tobytes(), digest_size=16).digest()
            same = same + 1 if digest == last_digest else 0
            last_digest = digest
            if same >= STALL_FRAMES and not isinstance(self.source, str):
                self._set_state(
                    DeviceState.DEGRADED,
                    self.fault("stalled", "device.camera_unavailable", "same frame repeated"),
                )
                return "fault"
            with self._lock:
                self._frame, self._frame_no = frame, self._frame_no + 1
            self._stop.wait(max(0.0, period - (time.monotonic() - started)))
        return "stop"


class SimulatedCamera(OpenCvCamera):
    """A camera fed from an image sequence made from the shipped face picture, so a face and a
    changing picture are always in view without hardware."""

    driver = "sim"

    def __init__(self, name: str, frames_dir: Path, *, fps: float = 15.0) -> None:
        super().__init__(name, str(frames_dir / "frame_%03d.png"), fps=fps)
        self.frames_dir = frames_dir

    def _open(self) -> Any:
        if not (self.frames_dir / "frame_000.png").exists():
            make_sim_frames(self.frames_dir)
        return super()._open()


def make_sim_frames(out_dir: Path, count: int = 30) -> None:
    """Write *count* 640x480 frames: the shipped face drifting slowly across a grey room."""
    import cv2
    import numpy as np

    face = cv2.imread(str(Path(__file__).with_name("assets") / "face-astronaut.png"))
    if face is None:
        raise FileNotFoundError("drivers/assets/face-astronaut.png is missing from the install")
    face = cv2.resize(face, (320, 320))
    out_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        frame = np.full((480, 640, 3), 200, dtype=np.uint8)
        x = 120 + int(40 * np.sin(2 * np.pi * i / count))
        frame[80:400, x : x + 320] = face
        cv2.imwrite(str(out_dir / f"frame_{i:03d}.png"), frame)
