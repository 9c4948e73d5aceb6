"""Chinese must render: the UI font is installed and has a glyph for every character we show."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontInfo, QFontMetrics

from kiosk.app import qt_app
from kiosk.texts import LANGUAGES, _table
from screens import theme


def test_ui_font_is_installed_and_covers_every_text() -> None:
    qt_app()
    font = QFont(theme.FONT_FAMILY)
    assert QFontInfo(font).family() == theme.FONT_FAMILY, "install fonts-wqy-microhei"
    metrics = QFontMetrics(font)
    chars = {ch for lang in LANGUAGES for text in _table(lang).values() for ch in text}
    chars |= set("和平里社区服务中心张秀英李建国王芳")
    missing = sorted(ch for ch in chars if not ch.isspace() and not metrics.inFontUcs4(ord(ch)))
    assert missing == []
