"""Cameras through OpenCV: a device index, a video file or an image sequence, captured on a thread.

Every frame goes to the subscribers on the capture thread and is kept as the newest frame for
whoever polls (QR decoding). Faults, with the state they put the camera in:

- ``open_failed`` (absent): the source cannot be opened (unplugged, wrong index, no such file);
  retried with backoff, so a camera plugged back in recovers by itself.
- ``no_frames`` (fault): the source opens but delivers nothing; reopened with backoff.
- ``read_failed`` (fault): a live source stopped delivering; reopened with backoff.
- ``stalled`` (degraded): the picture has not changed for ``stall_seconds`` (some drivers freeze
  repeating their last frame); reopened, and ready again once the picture moves.
- ``dark`` (degraded): the picture has been black for ``stall_seconds`` (lens covered, sensor
  dead); capture goes on and the camera is ready again when there is light.
- ``ended`` (absent): a file played once with ``loop=False`` has ended.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from contracts.device_kinds import DeviceKind
from drivers.base import Device, DeviceState
from runtime.supervisor import Supervised

if TYPE_CHECKING:
    import cv2
    import numpy as np
    from numpy.typing import NDArray

    Frame = NDArray[np.uint8]
    FrameSubscriber = Callable[[int, Frame], None]

log = logging.getLogger(__name__)

STALL_SECONDS = 5.0  # an unchanged picture for this long is a stalled capture
REOPEN_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
STOP_TIMEOUT = 3.0
DARK_LEVEL = 12  # mean brightness (0-255) below which a picture counts as black
MESSAGE_KEY = "device.camera_unavailable"
# Every 16th pixel both ways: enough to tell a moving picture (or sensor noise) from a frozen one.
SAMPLE_STEP = 16


class CameraError(Exception):
    """A camera that cannot be used for a diagnostic: a stable code and a technician's detail."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


def parse_source(source: str | int) -> str | int:
    """A configured or typed source as OpenCV wants it: digits are a device index."""
    if isinstance(source, str) and source.strip().isdigit():
        return int(source.strip())
    return source


def is_image_sequence(source: str | int) -> bool:
    return isinstance(source, str) and re.search(r"%0?\d*d", source) is not None


def is_file(source: str | int) -> bool:
    """A file or image sequence (played at a pace, looped), not a device node or a stream URL."""
    return isinstance(source, str) and not source.startswith("/dev/") and "://" not in source


def check_source(source: str | int) -> str | int:
    """*source* parsed; a file or image sequence that is not there raises ``CameraError``."""
    src = parse_source(source)
    if not isinstance(src, str) or not is_file(src):
        return src
    if is_image_sequence(src):
        pattern = Path(src)
        glob = re.sub(r"%0?\d*d", "*", pattern.name)
        if not any(pattern.parent.glob(glob)):
            raise CameraError("no_source", f"no image matches {src}")
    elif not Path(src).is_file():
        raise CameraError("no_source", f"no such file: {src}")
    return src


class OpenCvCamera(Device):
    """A camera read by ``cv2.VideoCapture`` on its own thread, reopened when it fails."""

    kind = DeviceKind.CAMERA
    driver = "opencv"

    def __init__(
        self,
        name: str,
        source: str | int,
        *,
        fps: float = 15.0,
        loop: bool = True,
        stall_seconds: float = STALL_SECONDS,
        backoff: Sequence[float] = REOPEN_BACKOFF,
    ) -> None:
        super().__init__(name)
        self.source = parse_source(source)
        self.fps = fps  # the pace for files; asked of devices, which deliver at their own pace
        self.loop = loop  # files and image sequences start again at the end, like a live feed
        self.stall_seconds = stall_seconds
        self.backoff = tuple(backoff)
        self.open_count = 0  # successful opens, rewinds of a looping file included
        self._frame: Frame | None = None
        self._frame_no = 0
        self._lock = threading.Lock()
        self._subscribers: tuple[FrameSubscriber, ...] = ()
        self._failed_subscribers: set[FrameSubscriber] = set()
        self._stop = threading.Event()
        self._thread: Supervised | None = None
        self._failures = 0
        self._last_digest = b""
        self._same_since = 0.0
        self._dark_since: float | None = None

    # --- for the rest of the terminal -----------------------------------------------------

    @property
    def where(self) -> str:
        return str(self.source)

    def latest_frame(self) -> tuple[int, Frame | None]:
        """(frame number, BGR ndarray or None). The array is not copied and is read-only."""
        with self._lock:
            return self._frame_no, self._frame

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the newest frame, None before the first."""
        frame = self._frame
        return None if frame is None else (int(frame.shape[1]), int(frame.shape[0]))

    def subscribe(self, subscriber: FrameSubscriber) -> Callable[[], None]:
        """Call *subscriber(frame_no, frame)* on the capture thread for every frame; returns the
        unsubscribe function. The frame is shared and read-only; a subscriber must be quick (it
        delays the next frame) and hand any slow work to another thread."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
        return lambda: self.unsubscribe(subscriber)

    def unsubscribe(self, subscriber: FrameSubscriber) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s != subscriber)

    def start(self) -> None:
        if self._thread is not None:
            return
        # A fresh worker (and event) per run: a thread that outlived a stop() timeout cannot be
        # revived; supervised, so an unexpected error faults the camera and the capture returns.
        self._thread = self._supervised("capture", self._run)
        self._stop = self._thread.stopping
        self._thread.start()

    def stop(self) -> None:
        worker, self._thread = self._thread, None
        self._stop.set()
        if worker is not None:
            worker.stop(timeout=STOP_TIMEOUT)
        self._set_state(DeviceState.ABSENT)

    # --- hooks for simulators ------------------------------------------------------------

    def _open(self) -> cv2.VideoCapture | None:
        import cv2

        # An image sequence ends with a "cannot read" warning on every loop; it is expected.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        src = self.source
        if is_image_sequence(src):
            return cv2.VideoCapture(str(src), cv2.CAP_IMAGES)
        if isinstance(src, int):
            cap = cv2.VideoCapture(src)
            # The newest picture rather than a queue of old ones, where the backend allows it.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
            return cap
        return cv2.VideoCapture(src)

    def _read(self, cap: cv2.VideoCapture) -> Frame | None:
        ok, frame = cap.read()
        return frame if ok and frame is not None else None  # type: ignore[return-value]

    def _paced(self) -> bool:
        """Whether to wait between frames: files would otherwise play as fast as they decode;
        a device's read blocks until its next frame."""
        return is_file(self.source)

    # --- the capture thread --------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        if self.status.state is DeviceState.ABSENT and self.status.fault is None:
            self._set_state(DeviceState.CONNECTING)
        while not stop.is_set():
            cap = self._open()
            if cap is None or not cap.isOpened():
                if cap is not None:
                    cap.release()
                self._set_state(
                    DeviceState.ABSENT,
                    self.fault("open_failed", MESSAGE_KEY, f"cannot open {self.source}"),
                )
                self._back_off(stop)
                continue
            self.open_count += 1
            try:
                outcome = self._capture(cap, stop)
            finally:
                cap.release()
            if outcome == "ended":
                return
            if outcome == "fault":
                self._back_off(stop)
            # "end": a looping file starts again at once, without a state change; to the rest
            # of the terminal it is one continuous feed.

    def _back_off(self, stop: threading.Event) -> None:
        stop.wait(self.backoff[min(self._failures, len(self.backoff) - 1)])
        self._failures += 1

    def _capture(self, cap: cv2.VideoCapture, stop: threading.Event) -> str:
        """Read frames until stopped ("stop"), a looping file ends ("end"), a file played once
        ends ("ended") or the capture fails ("fault")."""
        period = 1.0 / self.fps if self._paced() else 0.0
        frames = 0
        # The clock restarts on every open: a file that rewinds to the same picture is not stuck.
        self._same_since = time.monotonic()
        fault = self.status.fault
        awaiting_change = fault is not None and fault.code == "stalled"
        while not stop.is_set():
            started = time.monotonic()
            frame = self._read(cap)
            if frame is None:
                if frames and is_file(self.source):
                    if self.loop:
                        return "end"
                    self._set_state(
                        DeviceState.ABSENT, self.fault("ended", MESSAGE_KEY, "the file has ended")
                    )
                    return "ended"
                code, detail = (
                    ("read_failed", f"stopped delivering frames after {frames}")
                    if frames
                    else ("no_frames", "opens but delivers no frame")
                )
                self._set_state(
                    DeviceState.FAULT, self.fault(code, MESSAGE_KEY, f"{self.source} {detail}")
                )
                return "fault"
            frames += 1
            frame.flags.writeable = False  # shared with every subscriber: nobody may draw on it
            now = time.monotonic()
            sample = frame[::SAMPLE_STEP, ::SAMPLE_STEP]
            digest = hashlib.blake2b(sample.tobytes(), digest_size=16).digest()
            changed = digest != self._last_digest
            if changed:
                self._last_digest, self._same_since = digest, now
            elif now - self._same_since >= self.stall_seconds:
                self._set_state(
                    DeviceState.DEGRADED,
                    self.fault(
                        "stalled",
                        MESSAGE_KEY,
                        f"the same picture for {now - self._same_since:.1f} s; reopening",
                    ),
                )
                return "fault"
            if float(sample.mean()) < DARK_LEVEL:
                self._dark_since = self._dark_since if self._dark_since is not None else now
            else:
                self._dark_since = None
            if self._dark_since is not None and now - self._dark_since >= self.stall_seconds:
                self._set_state(
                    DeviceState.DEGRADED,
                    self.fault("dark", MESSAGE_KEY, "the picture is black (lens covered?)"),
                )
            elif changed or not awaiting_change:
                awaiting_change = False
                self._failures = 0
                self._set_state(DeviceState.READY)
            self._publish(frame)
            if period:
                stop.wait(max(0.0, period - (time.monotonic() - started)))
        return "stop"

    def _publish(self, frame: Frame) -> None:
        with self._lock:
            self._frame_no += 1
            frame_no, self._frame = self._frame_no, frame
            subscribers = self._subscribers
        self.count_operation()  # a camera's operations are the frames it delivered
        for subscriber in subscribers:
            try:
                subscriber(frame_no, frame)
            except Exception:  # a subscriber's bug must not stop the camera for the others
                if subscriber not in self._failed_subscribers:  # once, not 30 times a second
                    self._failed_subscribers.add(subscriber)
                    log.exception("camera %s: frame subscriber failed", self.name)


CAMERA_FAULTS = frozenset({"stalled", "unplugged", "no_frames", "black"})


class SimulatedCamera(OpenCvCamera):
    """A camera fed from an image sequence made from the shipped face picture (or from any
    *source* given), so a face and a changing picture are in view without hardware.

    Faults by name, switched on and off at runtime with ``inject``: ``stalled`` (the last frame
    forever), ``unplugged`` (the source disappears), ``no_frames`` (it opens but delivers
    nothing), ``black`` (a dark, noisy picture, as with the lens covered).
    """

    driver = "sim"

    def __init__(
        self,
        name: str,
        frames_dir: Path,
        *,
        source: str | None = None,
        fps: float = 15.0,
        stall_seconds: float = STALL_SECONDS,
        backoff: Sequence[float] = REOPEN_BACKOFF,
        faults: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(
            name,
            source or str(frames_dir / "frame_%03d.png"),
            fps=fps,
            stall_seconds=stall_seconds,
            backoff=backoff,
        )
        unknown = set(faults) - CAMERA_FAULTS
        if unknown:
            raise ValueError(f"unknown camera simulator fault(s): {sorted(unknown)}")
        self.frames_dir = frames_dir
        self._own_frames = source is None
        self._faults = set(faults)
        self._last: Frame | None = None
        self._dark: list[Frame] = []
        self._dark_no = 0
        self._held: Frame | None = None  # a QR code held up to the lens

    def hold_up(self, text: str | None) -> None:
        """Hold a paper with a QR code of *text* in front of the camera (None takes it away),
        as a resident shows a receipt or an appointment."""
        if text is None:
            self._held = None
            return
        self._held = qr_paper(text)

    @property
    def faults(self) -> frozenset[str]:
        return frozenset(self._faults)

    def inject(self, fault: str, active: bool = True) -> None:
        if fault not in CAMERA_FAULTS:
            raise ValueError(f"unknown camera simulator fault {fault!r}")
        (self._faults.add if active else self._faults.discard)(fault)

    def _paced(self) -> bool:
        return True  # a simulated feed keeps real time, whatever it is made from

    def _open(self) -> cv2.VideoCapture | None:
        if "unplugged" in self._faults:
            return None
        if self._own_frames and not (self.frames_dir / "frame_000.png").exists():
            make_sim_frames(self.frames_dir)
        return super()._open()

    def _read(self, cap: cv2.VideoCapture) -> Frame | None:
        faults = self.faults
        if faults & {"unplugged", "no_frames"}:
            return None
        if "stalled" in faults and self._last is not None:
            return self._last
        frame = super()._read(cap)
        if frame is not None and "black" in faults:
            frame = self._dark_frame(frame)
        held = self._held
        if frame is not None and held is not None and not faults & {"black", "stalled"}:
            frame = frame.copy()
            h, w = min(held.shape[0], frame.shape[0]), min(held.shape[1], frame.shape[1])
            top, left = (frame.shape[0] - h) // 2, (frame.shape[1] - w) // 2
            frame[top : top + h, left : left + w] = held[:h, :w]
        self._last = frame
        return frame

    def _dark_frame(self, like: Frame) -> Frame:
        """Near-black with sensor noise, which changes from frame to frame as a real one does."""
        import numpy as np

        if not self._dark or self._dark[0].shape != like.shape:
            rng = np.random.default_rng(7)
            self._dark = [rng.integers(0, 8, like.shape, dtype=np.uint8) for _ in range(4)]
        self._dark_no = (self._dark_no + 1) % len(self._dark)
        return self._dark[self._dark_no]


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


def qr_paper(text: str) -> Frame:
    """A paper with a QR code of *text* as the simulated camera sees it held up."""
    import cv2
    import numpy as np

    code = cv2.QRCodeEncoder.create().encode(text)
    # Black modules on white paper with a quiet zone, large enough to decode at 640x480.
    scale = max(1, 240 // code.shape[0])
    code = cv2.resize(code, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    paper = np.full((code.shape[0] + 80, code.shape[1] + 80), 255, dtype=np.uint8)
    paper[40:-40, 40:-40] = code
    return cast("Frame", cv2.cvtColor(paper, cv2.COLOR_GRAY2BGR))
