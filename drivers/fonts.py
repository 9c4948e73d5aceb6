"""Finding a font that can draw Chinese for receipt previews (Qt finds its own via fontconfig)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

_KNOWN = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


@functools.cache
def cjk_font_path() -> Path | None:
    """A font file with Chinese glyphs, or None when the system has none."""
    for candidate in _KNOWN:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", ":lang=zh-cn"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out and Path(out).is_file():
            return Path(out)
    return None
