"""The OpenCV camera on real files: a 640x480 MJPG clip with QR codes and a face, an image sequence,
the simulator's faults, and ``kiosk diag camera`` as a technician runs it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from drivers.base import DeviceState, DeviceStatus
from drivers.camera import OpenCvCamera, SimulatedCamera, qr_paper
from drivers.vision import QrScanner, decode_qr, detect_faces
from tests.waiting import wait_for

FACE = Path(__file__).resolve().parents[2] / "drivers" / "assets" / "face-astronaut.png"
CODES = ("KIOSK-TEST-001", "KIOSK-TEST-002")
FAST = {"stall_seconds": 0.5, "backoff": (0.1, 0.2)}


def qr_image(text: str) -> np.ndarray:
    buf = io.BytesIO()
    segno.make_qr(text).save(buf, kind="png", scale=6, border=4)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)


def scene(i: int, code: str | None) -> np.ndarray:
    """A grey room: the face on the left (moving a little), a QR code on the right."""
    frame = np.full((480, 640, 3), 190, np.uint8)
    face = cv2.resize(cv2.imread(str(FACE)), (300, 300))
    frame[90 + i % 5 : 390 + i % 5, 20:320] = face
    if code:
        qr = qr_image(code)
        frame[100 : 100 + qr.shape[0], 380 : 380 + qr.shape[1]] = qr
    return frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds at 30 fps: the first code for one second, then the second."""
    path = tmp_path_factory.mktemp("camera") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, (640, 480))
    for i in range(60):
        writer.write(scene(i, CODES[i // 30]))
    writer.release()
    return path


@pytest.fixture
def sequence(tmp_path: Path) -> str:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"img_{i:03d}.png"), scene(i, None))
    return str(tmp_path / "img_%03d.png")


class States:
    """Every state a camera goes through, in order."""

    def __init__(self) -> None:
        self.seen: list[DeviceStatus] = []

    def __call__(self, status: DeviceStatus) -> None:
        self.seen.append(status)

    def codes(self) -> list[str]:
        return [s.fault.code for s in self.seen if s.fault is not None]

    def now(self, state: DeviceState, code: str | None = None) -> bool:
        last = self.seen[-1] if self.seen else None
        return (
            last is not None
            and last.state is state
            and (code is None or (last.fault is not None and last.fault.code == code))
        )


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimulatedCamera, States]]:
    cam = SimulatedCamera("camera", tmp_path / "sim", fps=30, **FAST)  # type: ignore[arg-type]
    states = States()
    cam.add_listener(states)
    cam.start()
    wait_for(lambda: states.now(DeviceState.READY))
    yield cam, states
    cam.stop()


def test_capture_from_a_video_file_hands_out_read_only_frames(clip: Path) -> None:
    cam = OpenCvCamera("camera", str(clip), fps=30)
    got: list[tuple[int, np.ndarray]] = []
    threads: set[str] = set()

    def subscriber(no: int, frame: np.ndarray) -> None:
        got.append((no, frame))
        threads.add(threading.current_thread().name)

    cam.subscribe(subscriber)
    cam.start()
    try:
        wait_for(lambda: len(got) >= 10)
        assert cam.status.state is DeviceState.READY
    finally:
        cam.stop()
    assert cam.status.state is DeviceState.ABSENT
    numbers = [no for no, _ in got]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    frame = got[-1][1]
    assert frame.shape == (480, 640, 3) and not frame.flags.writeable
    assert threads == {"camera-capture"}
    assert cam.latest_frame()[0] == numbers[-1]
    assert cam.frame_size == (640, 480)


def test_an_image_sequence_loops_without_counting_as_a_stall(sequence: str) -> None:
    """Given three pictures played at 30 fps, When they loop for longer than the stall time,
    Then the camera stays ready: a rewind is not a freeze."""
    cam = OpenCvCamera("camera", sequence, fps=30, **FAST)  # type: ignore[arg-type]
    states = States()
    cam.add_listener(states)
    cam.start()
    try:
        wait_for(lambda: cam.latest_frame()[0] >= 30)
    finally:
        cam.stop()
    assert cam.open_count >= 10  # rewound (reopened) many times
    assert [s.state for s in states.seen] == [
        DeviceState.CONNECTING,
        DeviceState.READY,
        DeviceState.ABSENT,
    ]


def test_decode_qr_reads_the_code_and_nothing_in_a_blank_frame() -> None:
    assert decode_qr(scene(0, "身份核验 KIOSK-42")) == ["身份核验 KIOSK-42"]
    assert decode_qr(np.full((480, 640, 3), 190, np.uint8)) == []


def test_the_decoder_reads_a_code_opencv_is_known_to_miss() -> None:
    assert decode_qr(qr_paper("APT-20261205-0015")) == ["APT-20261205-0015"]


def test_faces_are_found_in_the_fixture_and_not_in_a_blank_frame() -> None:
    boxes = detect_faces(scene(0, None))
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    # The face of the fixture (scaled to 300 px at x 20, y 90) is in the upper middle.
    assert 100 < x + w / 2 < 220 and 120 < y + h / 2 < 240 and w >= 40
    assert detect_faces(np.full((480, 640, 3), 190, np.uint8)) == []
    big = cv2.resize(scene(0, None), (1920, 1440))  # shrunk before detection, boxes scaled back
    (bx, by, bw, _), *_ = detect_faces(big)
    assert abs(bx - 3 * x) < 20 and abs(by - 3 * y) < 20 and abs(bw - 3 * w) < 20


def test_qr_scanner_reports_each_code_once(clip: Path) -> None:
    cam = OpenCvCamera("camera", str(clip), fps=60)  # double speed: one code every half second
    codes: list[str] = []
    scanner = QrScanner(cam, codes.append, rate_hz=20, forget_after=10)
    cam.start()
    scanner.start()
    try:
        wait_for(lambda: len(codes) >= 2)
        wait_for(lambda: cam.latest_frame()[0] >= 80)  # the first code is back after the loop
    finally:
        scanner.stop()
        cam.stop()
    assert codes == list(CODES)
    assert scanner.analysed >= 10


def test_a_stalled_capture_is_reopened_and_recovers(sim: tuple[SimulatedCamera, States]) -> None:
    cam, states = sim
    opened = cam.open_count
    cam.inject("stalled")
    wait_for(lambda: states.now(DeviceState.DEGRADED, "stalled"), timeout=3)
    wait_for(lambda: cam.open_count > opened)  # closed and opened again
    assert cam.status.state is DeviceState.DEGRADED  # still the same picture after the reopen
    cam.inject("stalled", active=False)
    wait_for(lambda: states.now(DeviceState.READY), timeout=3)
    moving = cam.latest_frame()[0]
    wait_for(lambda: cam.latest_frame()[0] > moving + 3)


def test_an_unplugged_camera_is_absent_then_comes_back(sim: tuple[SimulatedCamera, States]) -> None:
    cam, states = sim
    cam.inject("unplugged")
    wait_for(lambda: states.now(DeviceState.ABSENT, "open_failed"), timeout=3)
    frozen = cam.latest_frame()[0]
    cam.inject("unplugged", active=False)
    wait_for(lambda: states.now(DeviceState.READY), timeout=3)
    wait_for(lambda: cam.latest_frame()[0] > frozen + 3)


@pytest.mark.parametrize(
    ("fault", "state", "code"),
    [("no_frames", DeviceState.FAULT, "no_frames"), ("black", DeviceState.DEGRADED, "dark")],
)
def test_simulator_faults_show_in_the_state_and_clear(
    sim: tuple[SimulatedCamera, States], fault: str, state: DeviceState, code: str
) -> None:
    cam, states = sim
    cam.inject(fault)
    wait_for(lambda: states.now(state, code), timeout=3)
    cam.inject(fault, active=False)
    wait_for(lambda: states.now(DeviceState.READY), timeout=3)
    assert "stalled" not in states.codes()


def test_unknown_simulator_fault_is_refused(tmp_path: Path) -> None:
    cam = SimulatedCamera("camera", tmp_path)
    with pytest.raises(ValueError, match="unknown camera simulator fault"):
        cam.inject("on_fire")


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_diag_camera_decodes_qr_and_writes_a_snapshot(clip: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap.png"
    out = kiosk(
        "diag", "camera", "--source", str(clip), "--decode-qr", "--snapshot", str(snap),
        "--seconds", "1.6", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert sorted(found["qr"]) == list(CODES)
    assert (found["width"], found["height"]) == (640, 480)
    assert found["fps"] > 20 and found["frames"] > 30
    assert len(found["faces"]) == 1
    picture = cv2.imread(str(snap))
    assert picture is not None and picture.shape == (480, 640, 3)
    assert found["snapshot"] == str(snap)


def test_diag_camera_text_output_on_an_image_sequence(sequence: str) -> None:
    out = kiosk("diag", "camera", "--source", sequence, "--seconds", "0.5")
    assert out.returncode == 0, out.stderr
    assert "frame size  640x480" in out.stdout and "faces       1" in out.stdout


@pytest.mark.parametrize(
    ("source", "code", "says"),
    [
        ("/nonexistent/clip.avi", 1, "no such file"),
        ("/nonexistent/img_%03d.png", 1, "no image matches"),
        ("97", 1, "cannot open 97"),
    ],
)
def test_diag_camera_missing_source_is_one_line(source: str, code: int, says: str) -> None:
    out = kiosk("diag", "camera", "--source", source, "--seconds", "0.5")
    assert out.returncode == code
    assert out.stderr.startswith("kiosk: camera: ") and out.stderr.count("\n") == 1
    assert says in out.stderr and "Traceback" not in out.stderr


def test_diag_camera_needs_a_source() -> None:
    out = kiosk("diag", "camera")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
