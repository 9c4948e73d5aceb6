"""What every ``kiosk`` command shares: the click group, the common options, settings and the
outbox opened the same way, and serving until stopped.

Light on purpose (startup time of ``kiosk run``): pydantic, Qt, OpenCV and the device libraries
are imported inside the functions that need them, never here.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kiosk import __version__
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.config.settings import Settings
    from offline.outbox import OutboxStore


CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML configuration file (default: built-in, simulated devices).",
)
DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where all state lives (env KIOSK_DATA_DIR; default: the user data directory).",
)
# The diagnostics commands that start the configured devices (kiosk diag devices|selftest|bundle).
SIMULATE_DIAG = click.option(
    "--simulate",
    is_flag=True,
    help="Replace every device that is not a simulator by one (simulator options such as "
    "faults are kept).",
)
WAIT = click.option(
    "--wait", default=3.0, show_default=True, help="Seconds to let devices settle after start."
)


# Which module holds each top-level command. A command's module is imported only when that
# command runs (or --help lists them): ``kiosk run`` does not pay for the diagnostics, queue and
# simulator commands before the terminal paints its first frame.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "run": ("kiosk.cli.run_commands",),
    "devices": ("kiosk.cli.run_commands",),
    "gallery": ("kiosk.cli.run_commands",),
    "queue": ("kiosk.cli.queue_commands",),
    "diag": ("kiosk.cli.diag_commands", "kiosk.cli.device_checks"),
    "sim": ("kiosk.cli.sim_commands",),
    "config": ("kiosk.cli.config_commands",),
    "rig": ("kiosk.cli.rig_commands",),
}


class CommandsOnDemand(click.Group):
    """A click group whose commands register themselves when their module is first imported."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for module in COMMAND_MODULES.get(cmd_name, ()):
            importlib.import_module(module)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)


@click.group(cls=CommandsOnDemand, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kiosk")
def cli() -> None:
    """Self-service terminal for community service centres."""


def settings_from(config_file: Path | None, data_dir: Path | None) -> Settings:
    from kiosk.config.settings import load_settings  # pydantic: only for commands that need it

    return load_settings(config_file, data_dir)


def data_dir_from(settings: Settings) -> Path:
    from kiosk.config.settings import data_dir_of

    return data_dir_of(settings)


def open_outbox(settings: Settings, *, must_exist: bool = False) -> OutboxStore | None:
    """The terminal's outbox (``kiosk.db`` in the data directory), or None when there is none
    yet and *must_exist* is False."""
    from offline.db import DatabaseError
    from offline.outbox import OutboxError

    path = data_dir_from(settings) / "kiosk.db"
    if must_exist is False and not path.exists():
        return None
    try:
        return settings.open_outbox(path)
    except (DatabaseError, OutboxError) as exc:
        raise KioskError(str(exc)) from exc


def serve_until_stopped(
    address: str, stop: Callable[[], None], start: Callable[[], None] | None = None
) -> None:
    """Print where a simulator listens, then keep it up until SIGTERM or Ctrl-C."""
    import signal

    if start is not None:
        start()
    click.echo(address)
    sys.stdout.flush()
    done = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: done.update(now=True))
    try:
        while not done["now"]:
            time.sleep(0.2)
    finally:
        stop()
