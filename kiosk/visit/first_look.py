"""What the attract screen needs before the full settings are validated: language and centre name.

Validating the whole configuration means importing pydantic (about 80 ms); the first frame only
needs two facts, read here with the standard library. Anything odd falls back to the defaults,
and the full validation that follows reports it properly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from contracts.centre import DEFAULT_CENTRE_EN, DEFAULT_CENTRE_ZH

DEFAULT_LANGUAGE = "zh_CN"


@dataclass(frozen=True)
class FirstLook:
    language: str = DEFAULT_LANGUAGE
    centre_zh: str = DEFAULT_CENTRE_ZH
    centre_en: str = DEFAULT_CENTRE_EN


def first_look(config_file: Path | None) -> FirstLook:
    if config_file is None or not os.path.isfile(config_file):
        return FirstLook()
    import tomllib  # only with a configuration file: the simulator's first frame needs none

    try:
        raw = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return FirstLook()
    centre = raw.get("centre")
    if not isinstance(centre, dict):
        centre = {}
    language = raw.get("language")
    return FirstLook(
        language=language if language in ("zh_CN", "en") else DEFAULT_LANGUAGE,
        centre_zh=str(centre.get("name_zh", DEFAULT_CENTRE_ZH)),
        centre_en=str(centre.get("name_en", DEFAULT_CENTRE_EN)),
    )
