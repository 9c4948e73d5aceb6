"""A generated corpus of the QR codes residents show the camera, for the decoder's tests and
benchmark (tests/unit/test_qr_decoding.py, tests/benches/bench_qr_decode.py).

Every sample is a code the terminal accepts (an application or an appointment code, issued or
not, now and then in lower case), drawn as the simulator draws it (``drivers.camera.qr_paper``),
then shown to a 640x480 camera with one distortion. Everything comes from seeded generators: the
same seed gives the same pictures, so a miss can be looked at again (``sample(set, seed, i)``).

Apart from "perfect", every picture also goes through what any real camera adds: a little sensor
noise and the driver's MJPG compression. A set is "mild" when a resident's ordinary hold would
give it (the goal there is 99.9 %), "strong" when it is a bad one (measured, no goal).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from contracts import codes
from drivers.camera import qr_paper

Image = NDArray[np.uint8]
Quad = NDArray[np.float32]  # four corners, clockwise from top left, in frame pixels

WIDTH, HEIGHT = 640, 480
FACE = Path(__file__).resolve().parents[1] / "drivers" / "assets" / "face-astronaut.png"
# The simulator's paper: 25 modules of 9 px (quiet zone of 2 included) and a 40 px white margin.
PAPER_MODULE_PX = 9
# A code the old decoder (OpenCV's QRCodeDetector alone) returned nothing for, drawn perfectly.
KNOWN_OPENCV_MISS = "APT-20261205-0015"


@dataclass(frozen=True)
class Sample:
    text: str
    image: Image
    distortion: str
    index: int


def code_text(seed: int | str, index: int) -> str:
    """Code *index* of the run *seed*: application and appointment codes in turn, mostly issued
    serials (1-899), a tenth never issued (000, 900-999: they must still read, so the resident
    hears "unknown" rather than nothing), one in twenty in lower case (the parsers ignore case)."""
    rng = random.Random(f"code/{seed}/{index}")
    day = date(2000, 1, 1) + timedelta(days=rng.randrange(36_500))  # what application codes hold
    issued = rng.random() >= 0.1
    serial = rng.randrange(1, 900) if issued else rng.choice([0, *range(900, 1000)])
    if index % 2:
        text = (
            codes.sample_appointment_code(day, serial)
            if issued
            else codes.appointment_code(day, serial)
        )
    else:
        text = (
            codes.sample_application_code(serial, day)
            if issued
            else codes.application_code(day, serial)
        )
    return text.lower() if rng.random() < 0.05 else text


@cache
def _face() -> Image:
    face = cv2.imread(str(FACE))
    if face is None:
        raise FileNotFoundError(FACE)
    return cv2.resize(face, (320, 320))


def room(rng: random.Random) -> Image:
    """The simulated camera's picture before anything is held up: a face in a grey room, at a
    place and a light that change from sample to sample."""
    frame = np.full((HEIGHT, WIDTH, 3), rng.randrange(150, 215), np.uint8)
    x = rng.randrange(80, 200)
    frame[80:400, x : x + 320] = _face()
    return frame


def square(centre: tuple[float, float], side: float, angle_deg: float = 0.0) -> Quad:
    """The corners of a square of *side* px around *centre*, turned by *angle_deg*."""
    cx, cy = centre
    h = side / 2
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    corners = [(-h, -h), (h, -h), (h, h), (-h, h)]
    return np.array([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners], np.float32)


def place(scene: Image, picture: Image, quad: Quad) -> Image:
    """*picture* laid into *scene* with its corners on *quad* (a projective warp)."""
    h, w = picture.shape[:2]
    # Shrink with area averaging first, as a lens does; a bare warp would alias the modules.
    target = max(float(np.linalg.norm(quad[i] - quad[(i + 1) % 4])) for i in range(4))
    if target < 0.9 * max(h, w):
        f = target / max(h, w)
        picture = cv2.resize(picture, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        h, w = picture.shape[:2]
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad)
    size = (scene.shape[1], scene.shape[0])
    # Drawn straight over a copy of the scene: what falls outside the picture keeps the scene.
    return cv2.warpPerspective(
        picture,
        matrix,
        size,
        dst=scene.copy(),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )


@cache
def _noise_fields() -> list[tuple[Image, Image]]:
    """Sensor noise (sigma 2 grey levels) split into what it adds and what it takes away, made
    once: saturating uint8 adds are many times faster than fresh float noise per frame."""
    rng = np.random.default_rng(2026)
    fields = []
    for _ in range(8):
        noise = np.rint(rng.normal(0, 2.0, (HEIGHT, WIDTH, 3))).astype(np.int16)
        fields.append(
            (np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8))
        )
    return fields


def camera_finish(frame: Image, rng: random.Random) -> Image:
    """What any camera adds: sensor noise and the MJPG round trip of the capture driver."""
    up, down = rng.choice(_noise_fields())
    noisy = cv2.subtract(cv2.add(frame, up), down)
    ok, jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, rng.randrange(75, 95)])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def _centred(side: float, rng: random.Random, angle: float = 0.0) -> Quad:
    """A square of *side* at a random place that keeps its turned corners inside the frame."""
    reach = side * (abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle)))) / 2
    cx = rng.uniform(reach + 2, WIDTH - reach - 2)
    cy = rng.uniform(reach + 2, HEIGHT - reach - 2)
    return square((cx, cy), side, angle)


def _jittered(quad: Quad, amount: float, rng: random.Random) -> Quad:
    """*quad* with each corner moved by up to *amount* of its side: a paper tilted away."""
    side = float(np.linalg.norm(quad[1] - quad[0]))
    moved = quad + np.array(
        [(rng.uniform(-1, 1) * amount * side, rng.uniform(-1, 1) * amount * side) for _ in quad],
        np.float32,
    )
    # Keep the tilted paper inside the frame: a code half out of view is no decoder's fault.
    moved[:, 0] = np.clip(moved[:, 0], 1, WIDTH - 2)
    moved[:, 1] = np.clip(moved[:, 1], 1, HEIGHT - 2)
    return moved.astype(np.float32)


def _held(paper: Image, rng: random.Random, quad: Quad) -> Image:
    return camera_finish(place(room(rng), paper, quad), rng)


def perfect(paper: Image, rng: random.Random) -> Image:
    """Exactly what the simulated camera shows: the paper pasted in the middle of its picture."""
    frame = room(rng)
    h, w = paper.shape[:2]
    top, left = (HEIGHT - h) // 2, (WIDTH - w) // 2
    frame[top : top + h, left : left + w] = paper
    return frame


def rotated(paper: Image, rng: random.Random) -> Image:
    angle = rng.uniform(0, 360)
    return _held(paper, rng, _centred(paper.shape[0], rng, angle))


def _scaled(low: float, high: float) -> Callable[[Image, random.Random], Image]:
    def draw(paper: Image, rng: random.Random) -> Image:
        side = paper.shape[0] * rng.uniform(low, high)
        return _held(paper, rng, _centred(side, rng, rng.uniform(-10, 10)))

    return draw


def _blurred(low: float, high: float) -> Callable[[Image, random.Random], Image]:
    """Out of focus: a Gaussian blur of *low*-*high* module widths (sigma), at sizes from a
    paper held far (modules of 5 px) to one held close (13 px)."""

    def draw(paper: Image, rng: random.Random) -> Image:
        f = rng.uniform(0.55, 1.45)
        side = paper.shape[0] * f
        frame = place(room(rng), paper, _centred(side, rng, rng.uniform(-10, 10)))
        sigma = rng.uniform(low, high) * PAPER_MODULE_PX * f
        return camera_finish(cv2.GaussianBlur(frame, (0, 0), sigma), rng)

    return draw


def _tilted(amount: float) -> Callable[[Image, random.Random], Image]:
    def draw(paper: Image, rng: random.Random) -> Image:
        side = paper.shape[0] * rng.uniform(0.8, 1.3)
        quad = _jittered(_centred(side, rng, rng.uniform(0, 360)), amount, rng)
        return _held(paper, rng, quad)

    return draw


def low_contrast(paper: Image, rng: random.Random) -> Image:
    """Faded print: dark modules and paper only 30-70 grey levels apart. Every other sample is
    also in a dim room (the whole picture flat); the rest in ordinary light, where the code is the
    one flat thing in a picture of full contrast, so stretching the whole picture cannot help."""
    gap = rng.uniform(30, 70)
    dark = rng.uniform(60, 230 - gap)
    faded = (dark + paper.astype(np.float32) / 255 * gap).astype(np.uint8)
    frame = place(room(rng), faded, _centred(paper.shape[0] * rng.uniform(0.8, 1.3), rng))
    if rng.random() < 0.5:
        frame = cv2.addWeighted(frame, 0.5, frame, 0.0, dark + gap / 2 - 64)
    return camera_finish(frame, rng)


def phone_screen(paper: Image, rng: random.Random) -> Image:
    """A phone held up: the code on a lit screen inside a dark bezel, tilted, with a glare patch
    (a ceiling light's reflection) somewhere over the code."""
    code_px = paper.shape[0] - 80  # the code without the paper's margin
    code = paper[40:-40, 40:-40]
    screen_w, screen_h = int(code_px * 1.25), int(code_px * 2.0)
    bezel = int(code_px * 0.08)
    white = rng.randrange(200, 256)
    screen = np.full((screen_h, screen_w, 3), white, np.uint8)
    top, left = int(code_px * 0.45), (screen_w - code_px) // 2
    lit = (code.astype(np.float32) / 255 * (white - 10) + 10).astype(np.uint8)
    screen[top : top + code_px, left : left + code_px] = lit
    phone = np.full((screen_h + 2 * bezel, screen_w + 2 * bezel, 3), rng.randrange(8, 40), np.uint8)
    phone[bezel:-bezel, bezel:-bezel] = screen
    # The glare: a soft bright blob, centred somewhere on the code, that lifts the dark modules.
    gy = bezel + top + rng.uniform(0, code_px)
    gx = bezel + left + rng.uniform(0, code_px)
    radius = code_px * rng.uniform(0.12, 0.3)
    ys, xs = np.mgrid[0 : phone.shape[0], 0 : phone.shape[1]]
    blob = np.exp(-((ys - gy) ** 2 + (xs - gx) ** 2) / (2 * radius**2))
    glare = rng.uniform(60, 150) * blob[..., None]
    phone = np.clip(phone.astype(np.float32) + glare, 0, 255).astype(np.uint8)
    # Held upright-ish in the hand: the phone's height takes 80-95 % of the frame.
    scale = HEIGHT * rng.uniform(0.8, 0.95) / phone.shape[0]
    w, h = phone.shape[1] * scale, phone.shape[0] * scale
    angle = math.radians(rng.uniform(-20, 20))
    c, s = math.cos(angle), math.sin(angle)
    cx, cy = rng.uniform(w / 2 + 20, WIDTH - w / 2 - 20), HEIGHT / 2
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    quad = np.array([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners], np.float32)
    quad = _jittered(quad, 0.04, rng)
    scene = (room(rng).astype(np.float32) * rng.uniform(0.6, 1.0)).astype(np.uint8)
    return camera_finish(place(scene, phone, quad), rng)


# name -> (how to draw a paper that way, "perfect" | "mild" | "strong")
DISTORTIONS: dict[str, tuple[Callable[[Image, random.Random], Image], str]] = {
    "perfect": (perfect, "perfect"),
    "rotated": (rotated, "mild"),
    "scaled_down": (_scaled(0.4, 1.0), "mild"),  # modules of 3.6-9 px
    "scaled_up": (_scaled(1.0, 1.5), "mild"),  # modules of 9-13.5 px
    "blur_mild": (_blurred(0.05, 0.2), "mild"),
    "perspective": (_tilted(0.12), "mild"),
    "low_contrast": (low_contrast, "mild"),
    "phone_screen": (phone_screen, "mild"),
    "scaled_tiny": (_scaled(0.22, 0.4), "strong"),  # modules of 2-3.6 px
    "blur_strong": (_blurred(0.3, 0.55), "strong"),
    "perspective_strong": (_tilted(0.25), "strong"),
}
MILD = [name for name, (_, level) in DISTORTIONS.items() if level == "mild"]


def sample(distortion: str, seed: int, index: int, text: str | None = None) -> Sample:
    """Sample *index* of the set (*distortion*, *seed*): the same arguments, the same picture."""
    draw, _ = DISTORTIONS[distortion]
    rng = random.Random(f"{distortion}/{seed}/{index}")
    text = text if text is not None else code_text(f"{distortion}/{seed}", index)
    return Sample(text, draw(qr_paper(text), rng), distortion, index)


def corpus(distortion: str, count: int, seed: int = 1) -> Iterator[Sample]:
    """*count* samples of one distortion, made one at a time (a thousand frames would hold
    900 MB at once). The perfect set starts with the code the old decoder could not read."""
    for i in range(count):
        text = KNOWN_OPENCV_MISS if distortion == "perfect" and i == 0 else None
        yield sample(distortion, seed, i, text)


def mixed_mild(count: int, seed: int = 1) -> Iterator[Sample]:
    """*count* samples taking the mild distortions in turn."""
    for i in range(count):
        yield sample(MILD[i % len(MILD)], seed, i)
