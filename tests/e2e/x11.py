"""The real-window harness: a virtual X display with no window manager, `kiosk run` on it as a
terminal runs it, touched only through the X server (XTest) and seen only as the X server shows
it (root-window screenshots, window geometry), with the data directory read from outside.

Where to touch comes from the terminal's widget probe (screens/probe.py): a person reads the
screen; a rig reads the probe. Every tap is a real X pointer event at screen coordinates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from Xlib import X, display
from Xlib.ext import xtest

SCREEN = (1920, 1080)
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def virtual_display(size: tuple[int, int] = SCREEN) -> Iterator[str]:
    """Xvfb on the first free display number, 1920x1080x24 unless another *size* is asked,
    no TCP, no window manager."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as numbers:
        number = numbers.readline().strip()
    if not number:
        server.kill()
        raise RuntimeError("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass
class Terminal:
    """`kiosk run --simulate`, full screen and locked down, on *display*."""

    display_name: str
    data_dir: Path
    artifacts: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    config_text: str = ""  # a configuration file for this terminal (TOML), if any
    scale: float = 1.0  # the interface's scale on a panel smaller than 1920x1080
    process: subprocess.Popen[bytes] | None = None
    _x: Any = None

    @property
    def probe_path(self) -> Path:
        return self.data_dir / "widget-probe.json"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "layout-audit.jsonl"

    def start(self) -> Terminal:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(
            DISPLAY=self.display_name,
            QT_QPA_PLATFORM="xcb",
            KIOSK_VOICE_ENGINE="mock",
            KIOSK_WIDGET_PROBE=str(self.probe_path),
            KIOSK_LAYOUT_AUDIT=str(self.audit_path),
            **self.extra_env,
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "kiosk", "run", "--simulate",
                   "--data-dir", str(self.data_dir)]  # fmt: skip
        if self.config_text:
            config = self.data_dir / "kiosk.toml"
            config.write_text(self.config_text, "utf-8")
            command += ["--config", str(config)]
        with (self.data_dir / "stderr.log").open("wb") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                command,
                env=env, stdout=log, stderr=log, cwd=ROOT,
            )  # fmt: skip
        self._x = display.Display(self.display_name)
        self.wait_for(lambda: self.probe().get("state") == "attract", "the attract screen", 30)
        self.wait_for(lambda: "startButton" in self.widgets(), "the start button", 10)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._x is not None:
            self._x.close()
            self._x = None

    # -- reading, from outside ---------------------------------------------------------------
    def probe(self) -> dict[str, Any]:
        with suppress(FileNotFoundError, json.JSONDecodeError):
            return dict(json.loads(self.probe_path.read_text("utf-8")))
        return {}

    def widgets(self) -> dict[str, list[int]]:
        return dict(self.probe().get("widgets", {}))

    def enabled(self, name: str) -> bool:
        probe = self.probe()
        return name in probe.get("widgets", {}) and name not in probe.get("disabled", [])

    def state(self) -> str | None:
        return self.probe().get("state")

    def audit_problems(self) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        lines = self.audit_path.read_text("utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def window_geometry(self) -> tuple[int, int, int, int]:
        """The terminal's top-level window as the X server has it: x, y, width, height."""
        root = self._x.screen().root
        for child in root.query_tree().children:
            attrs = child.get_attributes()
            if attrs.map_state != X.IsViewable:
                continue
            geometry = child.get_geometry()
            if geometry.width > 1 and geometry.height > 1:  # Qt's own helper windows are 1x1
                return geometry.x, geometry.y, geometry.width, geometry.height
        raise AssertionError("no window of the terminal is mapped")

    def screenshot(self, name: str) -> Path:
        """The X root window as a person sees it, as a PNG in the artifacts folder."""
        screen = self._x.screen()
        size = (screen.width_in_pixels, screen.height_in_pixels)
        raw = screen.root.get_image(0, 0, size[0], size[1], X.ZPixmap, 0xFFFFFFFF)
        picture = Image.frombytes("RGB", size, raw.data, "raw", "BGRX")
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        picture.save(path)
        return path

    # -- touching, through the X server --------------------------------------------------------
    def touch_at(self, x: int, y: int) -> None:
        xtest.fake_input(self._x, X.MotionNotify, x=x, y=y)
        xtest.fake_input(self._x, X.ButtonPress, 1)
        self._x.sync()
        time.sleep(0.03)
        xtest.fake_input(self._x, X.ButtonRelease, 1)
        self._x.sync()

    def touch(self, name: str, timeout: float = 10) -> None:
        """Touch the middle of the widget *name* once it is on screen and enabled."""
        self.wait_for(lambda: self.enabled(name), f"{name} on screen", timeout)
        x, y, w, h = self.widgets()[name]  # in the interface's (logical) pixels
        self.touch_at(round((x + w / 2) * self.scale), round((y + h / 2) * self.scale))

    # -- the simulator bar, as a resident's hands ------------------------------------------------
    def present_card(self, leaves: str = "identify") -> None:
        """Lay the next sample card on the reader, as a resident would, and see it read: the
        terminal leaves *leaves*. A read the reader gave up on (it stops after three failed
        tries until the card is lifted) is answered as a resident would: lift, lay it again."""
        for _ in range(2):
            self.touch("simPresentCard")
            try:
                self.wait_for(lambda: self.state() != leaves, "the card read", 8)
                return
            except AssertionError:
                self.touch("simRemoveCard")
                time.sleep(0.8)  # the reader polls four times a second
        self.wait_for(lambda: self.state() != leaves, "the card read")

    def take_card(self) -> None:
        """Take the card off the reader and see the terminal notice (the attract screen stops
        asking for it)."""
        for _ in range(3):
            self.touch("simRemoveCard")
            try:
                self.wait_for(lambda: self.state() == "attract", "the attract screen", 20)
                self.wait_for(lambda: "attractCardLeft" not in self.widgets(), "the card gone", 3)
                return
            except AssertionError:
                continue
        raise AssertionError("the card was never taken off the reader")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process is not None and self.process.poll() is not None:
                log = (self.data_dir / "stderr.log").read_text("utf-8", "replace")[-2000:]
                raise AssertionError(f"the terminal exited ({self.process.returncode}): {log}")
            if time.monotonic() > deadline:
                # What the screen showed when it went wrong, for whoever reads the failure.
                with suppress(Exception):
                    self.screenshot("failed-" + "".join(c if c.isalnum() else "-" for c in what))
                raise AssertionError(f"waited {timeout} s for {what}; state {self.state()}")
            time.sleep(0.05)
