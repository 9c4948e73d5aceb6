"""One scenario's terminal: the real application built by the composition root (kiosk.app.build)
with the rig's configuration and the scenario's settings, in a data directory of its own, its
platform reached through the rig's network proxy, shown on the rig's screen."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from kiosk.app import KioskApp, build
from kiosk.config.settings import Settings, load_settings
from kiosk.rig.loader import LoadedScenario
from kiosk.rig.netproxy import NetworkProxy
from kiosk.rig.signed_config import RigSigners

log = logging.getLogger(__name__)
SCREEN = (1920, 1080)


class RigSetupError(Exception):
    """The scenario cannot run with this rig's configuration (a usage error: exit 2)."""


class ShiftedClock:
    """The session's clock, moved on at will: a step's timeout runs out without the wait."""

    def __init__(self, base: Callable[[], float]) -> None:
        self.base, self.offset = base, 0.0

    def __call__(self) -> float:
        return self.base() + self.offset


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


class PlatformTemplate:
    """The embedded platform's folder, made once per rig run (its database with this terminal
    registered, its token, its personal-data key) and copied into each scenario's data
    directory, so every scenario gets a platform of its own in a second instead of ten."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self._made: dict[str, Path] = {}
        self._grouped: set[str] = set()

    def folder(
        self,
        kiosk_id: str,
        pump: Callable[[Callable[[], bool], float], bool],
        *,
        grouped: bool = False,
    ) -> Path:
        """The template for *kiosk_id*; *grouped*: with the terminal in the rig's group, so
        configuration published to it reaches the terminal (take_config)."""
        made = self._made.get(kiosk_id) or self._make(kiosk_id, pump)
        if grouped and kiosk_id not in self._grouped:
            from kiosk.rig.signed_config import ConfigStepError, join_rig_group

            try:
                join_rig_group(made, kiosk_id)
            except ConfigStepError as exc:
                raise RigSetupError(f"the embedded platform: {exc}") from exc
            self._grouped.add(kiosk_id)
        return made

    def _make(self, kiosk_id: str, pump: Callable[[Callable[[], bool], float], bool]) -> Path:
        from kiosk.platform_link.embedded import EmbeddedCentral

        data = self.work / f"platform-{kiosk_id}"
        ready = threading.Event()
        central = EmbeddedCentral(data, kiosk_id, lambda _url, _token: ready.set())
        central.start()
        try:
            if not pump(ready.is_set, 60):
                raise RigSetupError(
                    "the embedded platform did not start in 60 s (see "
                    f"{data / 'central' / 'central.log'}); is '.[central]' installed?"
                )
        finally:
            central.stop()
        self._made[kiosk_id] = data / "central"
        return data / "central"


class RigTerminal:
    def __init__(
        self,
        loaded: LoadedScenario,
        base: Settings,
        simulate: bool,
        data_dir: Path,
        screen: str,
        templates: PlatformTemplate,
        pump: Callable[[Callable[[], bool], float], bool],
        signers: RigSigners,
    ) -> None:
        self.loaded = loaded
        self.data_dir = data_dir
        self.screen = screen
        self.simulate = simulate
        raw = merge(base.model_dump(exclude_unset=True), loaded.scenario.settings)
        raw["data_dir"] = data_dir
        # The terminal trusts the rig's own signers (take_config), unless the configuration
        # names the keys it trusts: then only bundles they signed are taken up.
        self.rig_trust: Path | None = None
        if raw.get("central", {}).get("config_trust") is None:
            self.rig_trust = data_dir / "keys" / "config-trust"
            raw["central"] = {**raw.get("central", {}), "config_trust": self.rig_trust}
        self.settings = Settings.model_validate(raw)
        self.effective = self.settings.simulated() if simulate else self.settings
        self.proxy: NetworkProxy | None = None
        self.embedded: Any = None
        self.platform_db: Path | None = None
        self.platform_ready = threading.Event()
        self.kiosk: KioskApp | None = None
        self.clock: ShiftedClock | None = None
        self.signers = signers
        self._templates, self._pump = templates, pump

    @property
    def app(self) -> KioskApp:
        assert self.kiosk is not None
        return self.kiosk

    def start(self) -> None:
        central = self.effective.central
        settings = self.settings
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.rig_trust is not None:
            self.signers.install_trust(self.rig_trust)
        embedded = central.url is None and central.embedded
        if embedded:
            takes_config = any(step.kind == "take_config" for step in self.loaded.steps)
            template = self._templates.folder(central.kiosk_id, self._pump, grouped=takes_config)
            shutil.copytree(template, self.data_dir / "central", ignore=_no_logs)
            self.platform_db = self.data_dir / "central" / "central.db"
            self.proxy = NetworkProxy().start()
        elif central.url is not None and urlsplit(central.url).scheme == "http":
            parts = urlsplit(central.url)
            self.proxy = NetworkProxy((parts.hostname or "127.0.0.1", parts.port or 80)).start()
            moved = settings.central.model_copy(update={"url": self.proxy.url})
            settings = settings.model_copy(update={"central": moved})
            self.platform_ready.set()
        if self.proxy is not None and self.loaded.scenario.network == "down":
            self.proxy.cut()
        self.kiosk = build(settings, simulate=self.simulate)
        window = self.kiosk.window
        geometry = QApplication.primaryScreen().geometry()
        window.setGeometry(geometry)
        window.setFixedSize(geometry.size())
        if self.screen == "x11":
            window.showFullScreen()
        else:
            window.show()
        session = self.kiosk.controller.session
        self.clock = ShiftedClock(session._clock)
        session._clock = self.clock  # a step's timeout without waiting it out (wait_timeout)
        self.kiosk.controller.start()
        if embedded:
            from kiosk.platform_link.embedded import EmbeddedCentral

            proxy, controller = self.proxy, self.kiosk.controller
            assert proxy is not None

            def ready(url: str, token: str) -> None:  # the platform's thread
                parts = urlsplit(url)
                proxy.set_upstream(parts.hostname or "127.0.0.1", parts.port or 80)
                controller.use_platform(proxy.url, token)
                self.platform_ready.set()

            self.embedded = EmbeddedCentral(self.data_dir, central.kiosk_id, ready)
            self.embedded.start()

    def stop(self) -> None:
        if self.kiosk is not None:
            camera = self.kiosk.devices.camera
            if camera is not None and hasattr(camera, "hold_up"):
                camera.hold_up(None)
            window = self.kiosk.window
            try:
                self.kiosk.shutdown()
            finally:
                window.close()
                window.deleteLater()
                QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
                self.kiosk = None
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None


def _no_logs(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n.endswith(".log")]


def base_settings(config_file: Path | None) -> tuple[Settings, bool]:
    """The rig's configuration and whether it runs the simulators (no file: all simulated, the
    embedded platform, as ``kiosk run --simulate``)."""
    settings = load_settings(config_file)
    return settings, config_file is None


def pump_until(app: QApplication, ready: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.002)
    return True
