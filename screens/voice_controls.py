"""The resident's controls for spoken guidance: say it again, louder or softer, and off or on;
or, when the terminal cannot speak, words that say so instead of buttons that would do nothing."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk.technician.speech import UNAVAILABLE
from screens.voice import Voice
from screens.widgets import button, label

Translate = Callable[[str], str]

# Three steps a resident can tell apart by ear; the middle one is where a visit starts.
VOLUME_LEVELS = (0.4, 0.7, 1.0)
MIN_TOUCH_PX = 80  # above the 60 px floor for an older finger, yet fits in a header row


class VoiceControls(QWidget):
    def __init__(self, voice: Voice, t: Translate) -> None:
        super().__init__()
        self.setObjectName("VoiceControls")
        self.voice = voice
        self._t = t
        self.repeat = button("voiceRepeat", self._repeat, "quiet")
        self.volume = button("voiceVolume", self._next_volume, "quiet")
        self.toggle = button("voiceToggle", self._toggle, "quiet")
        self.toggle.setCheckable(True)
        # "On" filled, "off" hollow: the state shows without reading the label.
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(16)
        for btn in (self.repeat, self.volume, self.toggle):
            # Height only: an explicit minimum width would let a full footer squeeze the button
            # below its words (the layout audit caught "再说一遍" cut); its padding keeps it
            # wider than MIN_TOUCH_PX anyway.
            btn.setMinimumHeight(MIN_TOUCH_PX)
            layout.addWidget(btn)
        # Not a button: there is nothing to press while the terminal cannot speak.
        self.unavailable = label("body", "voiceUnavailable", wrap=False)
        layout.addWidget(self.unavailable)
        voice.availability_changed.connect(lambda _state: self.refresh())
        self.refresh()

    def retranslate(self, t: Translate) -> None:
        self._t = t
        self.refresh()

    def level(self) -> int:
        """1, 2 or 3: the step nearest the voice's volume."""
        volume = self.voice.volume()
        nearest = min(VOLUME_LEVELS, key=lambda level: abs(level - volume))
        return VOLUME_LEVELS.index(nearest) + 1

    def refresh(self) -> None:
        """Show the voice as it is (call after changing it from elsewhere, e.g. between visits)."""
        silent = self.voice.availability.state == UNAVAILABLE
        self.unavailable.setText(self._t("voice.unavailable"))
        self.unavailable.setVisible(silent)
        for btn in (self.repeat, self.volume, self.toggle):
            btn.setVisible(not silent)
        on = self.voice.enabled
        self.repeat.setText(self._t("voice.repeat"))
        # Say it again means nothing while silent: grey, so a tap that does nothing is expected.
        self.repeat.setEnabled(on)
        # Filled and hollow dots: the level reads the same in every language and at a glance.
        level = self.level()
        dots = "●" * level + "○" * (len(VOLUME_LEVELS) - level)
        template = self._t("voice.volume_level")
        text = template.format(level=dots) if template else f"{self._t('voice.volume')} {dots}"
        self.volume.setText(text)
        self.volume.setAccessibleName(self._t("voice.volume"))
        self.toggle.setChecked(on)
        self.toggle.setText(self._t("voice.on" if on else "voice.off"))

    def _repeat(self) -> None:
        self.voice.repeat()

    def _next_volume(self) -> None:
        self.voice.set_volume(VOLUME_LEVELS[self.level() % len(VOLUME_LEVELS)])
        self.refresh()
        self.voice.repeat()  # hear the new level at once, on words that matter now

    def _toggle(self) -> None:
        self.voice.set_enabled(not self.voice.enabled)
        self.refresh()
        self.voice.repeat()  # switched on: say the current step; off: repeat stays silent
