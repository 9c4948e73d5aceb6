"""``kiosk run`` without click: the terminal's everyday start reads its few options by hand, so its
first frame does not wait for click to be imported (about a tenth of the time to first paint).

Only the plain forms are read here. Anything else (``--help``, an unknown or malformed option, a
configuration path that is a folder ...) goes to the full command line, which owns help texts and
usage errors; ``tests/unit/test_quick_run.py`` keeps the options here equal to the click
command's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TypedDict

FLAGS = {
    "--simulate": "simulate",
    "--windowed": "windowed",
    "-v": "verbose",
    "--verbose": "verbose",
}
VALUES = {"--config": "config_file", "--data-dir": "data_dir"}


class RunOptions(TypedDict):
    simulate: bool
    windowed: bool
    verbose: bool
    config_file: Path | None
    data_dir: Path | None


def parse(args: list[str]) -> RunOptions | None:
    """The options of a plain ``run ...`` command line, or None to leave it to click."""
    if not args or args[0] != "run":
        return None
    found: RunOptions = {
        "simulate": False, "windowed": False, "verbose": False,
        "config_file": None, "data_dir": None,
    }  # fmt: skip
    rest = args[1:]
    while rest:
        arg = rest.pop(0)
        name, equals, value = arg.partition("=")
        if not equals and arg in FLAGS:
            found[FLAGS[arg]] = True  # type: ignore[literal-required]
        elif name in VALUES:
            if not equals:
                if not rest or rest[0].startswith("-"):
                    return None  # click says what is missing
                value = rest.pop(0)
            if not value:
                return None
            found[VALUES[name]] = Path(value)  # type: ignore[literal-required]
        else:
            return None
    config, data = found["config_file"], found["data_dir"]
    if (config is not None and os.path.isdir(config)) or (
        data is not None and os.path.isfile(data)
    ):
        return None  # click's Path types refuse these, in its own words
    return found


def run(options: RunOptions) -> int:
    """What ``kiosk run`` does, with ``main()``'s promise: one line on stderr, never a traceback."""
    from kiosk.errors import KioskError

    try:
        from kiosk.app import run as run_app

        return run_app(
            options["config_file"],
            options["data_dir"],
            simulate=options["simulate"] or options["config_file"] is None,
            windowed=options["windowed"],
            verbose=options["verbose"],
        )
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        import logging

        logging.getLogger("kiosk").exception("unexpected error")
        print(f"kiosk: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
