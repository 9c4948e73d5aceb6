"""The centre's names when neither the local file nor a bundle gives them (standard library only:
the terminal's first frame reads them before anything heavier is imported)."""

from __future__ import annotations

DEFAULT_CENTRE_ZH = "和平里社区服务中心"
DEFAULT_CENTRE_EN = "Hepingli Community Service Centre"
