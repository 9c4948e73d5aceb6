"""``kiosk run``'s click-free start (kiosk/cli/quick_run.py) reads exactly the options of the click
command, and leaves everything else to click."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from kiosk.cli import quick_run
from kiosk.cli.common import cli


def test_it_knows_exactly_the_options_of_the_click_command() -> None:
    run = cli.get_command(click.Context(cli), "run")
    assert run is not None
    flags, values = set(), set()
    for param in run.params:
        if isinstance(param, click.Option) and param.name != "help":
            names = {*param.opts, *param.secondary_opts}
            (flags if param.is_flag else values).update((name, param.name) for name in names)
    assert flags == set(quick_run.FLAGS.items())
    assert values == set(quick_run.VALUES.items())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run"], {}),
        (["run", "--simulate", "--windowed", "-v"],
         {"simulate": True, "windowed": True, "verbose": True}),
        (["run", "--config", "k.toml", "--data-dir=/tmp/d"],
         {"config_file": Path("k.toml"), "data_dir": Path("/tmp/d")}),
        (["run", "--config=k.toml", "--verbose"], {"config_file": Path("k.toml"), "verbose": True}),
    ],
)  # fmt: skip
def test_plain_command_lines_skip_click(args: list[str], expected: dict[str, object]) -> None:
    defaults = {"simulate": False, "windowed": False, "verbose": False,
                "config_file": None, "data_dir": None}  # fmt: skip
    assert quick_run.parse(args) == {**defaults, **expected}


@pytest.mark.parametrize(
    "args",
    [
        [], ["devices"], ["--version"], ["run", "--help"], ["run", "-h"], ["run", "--bogus"],
        ["run", "--config"], ["run", "--config", "--simulate"], ["run", "--config="],
        ["run", "--simulate=yes"], ["run", "extra"], ["gallery", "--out", "x"],
    ],
)  # fmt: skip
def test_anything_else_is_left_to_click(args: list[str]) -> None:
    assert quick_run.parse(args) is None


def test_paths_click_would_refuse_are_left_to_it(tmp_path: Path) -> None:
    a_file = tmp_path / "f"
    a_file.write_text("")
    assert quick_run.parse(["run", "--config", str(tmp_path)]) is None
    assert quick_run.parse(["run", "--data-dir", str(a_file)]) is None
