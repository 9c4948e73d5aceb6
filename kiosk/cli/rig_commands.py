"""``kiosk rig run | check | list | schema``: scripted scenarios against the real terminal
(README "Rigs"). Exit codes: 0 all passed, 1 a scenario failed, 2 a usage or scenario error."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from kiosk.cli.common import cli

SCREENS = ("offscreen", "x11")


def _shipped_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "rig" / "scenarios"


def _shipped() -> list[Path]:
    return sorted(_shipped_dir().glob("*.yaml"))


def _resolve(names: tuple[str, ...]) -> list[Path]:
    """Files, folders of *.yaml, or shipped scenarios by name (``kiosk rig list``)."""
    paths: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
            if not found:
                raise click.UsageError(f"{name}: no *.yaml scenario in this folder")
            paths += found
        elif path.exists():
            paths.append(path)
        elif (_shipped_dir() / f"{name}.yaml").exists():
            paths.append(_shipped_dir() / f"{name}.yaml")
        else:
            raise click.UsageError(f"{name}: no such file, folder or shipped scenario")
    return paths


def _screen_env(screen: str) -> None:
    """Qt's platform before Qt is imported: the rig's panel offscreen, or the X display."""
    if screen == "x11":
        if not os.environ.get("DISPLAY"):
            raise click.UsageError("--screen x11 needs DISPLAY (an X server, e.g. Xvfb)")
        os.environ["QT_QPA_PLATFORM"] = "xcb"
    else:
        panel = Path(__file__).resolve().parent.parent / "rig" / "screen.json"
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={panel}"
        # Speech as the tests have it: Qt's mock engine, no speech daemon outliving the rig.
        os.environ.setdefault("KIOSK_VOICE_ENGINE", "mock")


def _fail(message: str) -> None:
    click.echo(f"kiosk: {message}", err=True)
    raise SystemExit(2)


@cli.group()
def rig() -> None:
    """Hardware-in-the-loop rigs: scenarios played against the real terminal."""


@rig.command("list")
@click.option("--paths", is_flag=True, help="Print the files' paths instead.")
def rig_list(paths: bool) -> None:
    """The shipped scenarios: name and what each plays."""
    from kiosk.rig.loader import ScenarioError, load

    for path in _shipped():
        if paths:
            click.echo(str(path))
            continue
        try:
            loaded = load(path)
        except ScenarioError as exc:
            _fail(str(exc))
        click.echo(f"{path.stem:34} {loaded.name}")


@rig.command("check")
@click.argument("scenarios", nargs=-1, required=True)
def rig_check(scenarios: tuple[str, ...]) -> None:
    """Validate scenario files: every error with its file and line."""
    _screen_env("offscreen")
    from kiosk.rig.controls import control_check
    from kiosk.rig.loader import ScenarioError, load

    check = control_check()
    errors = 0
    for path in _resolve(scenarios):
        try:
            loaded = load(path, control_check=check)
        except ScenarioError as exc:
            click.echo(f"kiosk: {exc}", err=True)
            errors += 1
            continue
        click.echo(f"ok  {path}: {loaded.name} ({len(loaded.steps)} steps)")
    if errors:
        raise SystemExit(2)


@rig.command("schema")
def rig_schema() -> None:
    """Print the scenario format's JSON Schema (shipped as kiosk/rig/scenario.schema.json)."""
    import json

    from kiosk.rig.scenario import schema

    click.echo(json.dumps(schema(), ensure_ascii=False, indent=2))


@rig.command("run")
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The rig's terminal configuration (TOML): its devices, simulated or real, and platform "
    "(default: every device simulated, the embedded platform).",
)
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="JUnit XML here.")
@click.option(
    "--artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rig-artifacts"),
    show_default=True,
    help="Screenshots, and on failure the receipt preview and the log excerpt, per scenario.",
)
@click.option("--screen", type=click.Choice(SCREENS), default="offscreen", show_default=True)
@click.option("--keep-data", is_flag=True, help="Keep each scenario's data directory.")
def rig_run(
    scenarios: tuple[str, ...],
    config_file: Path | None,
    junit: Path | None,
    artifacts: Path,
    screen: str,
    keep_data: bool,
) -> None:
    """Play SCENARIO... (files, folders or shipped names) against the real terminal."""
    paths = _resolve(scenarios)
    _screen_env(screen)
    from kiosk.config.settings import SettingsError
    from kiosk.rig.controls import control_check
    from kiosk.rig.loader import ScenarioError, load_all
    from kiosk.rig.results import junit as write_junit
    from kiosk.rig.results import summary_line
    from kiosk.rig.runner import Rig, RigOptions, ScenarioResult
    from kiosk.rig.terminal import RigSetupError

    try:
        loaded = load_all(paths, control_check=control_check())
    except ScenarioError as exc:
        _fail(str(exc))
    work = Path(tempfile.mkdtemp(prefix="kiosk-rig-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    results: list[ScenarioResult] = []
    began = time.perf_counter()
    setup_error: str | None = None
    try:
        rig = Rig(RigOptions(artifacts=artifacts, work=work, screen=screen,
                             config_file=config_file,
                             out=click.echo))  # fmt: skip
        for scenario in loaded:
            result = rig.run(scenario)
            results.append(result)
            click.echo(summary_line(result))
            sys.stdout.flush()
    except (RigSetupError, SettingsError) as exc:
        setup_error = str(exc)
    finally:
        if keep_data:
            target = artifacts / "data"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(work, target, symlinks=True, ignore_dangling_symlinks=True)
        shutil.rmtree(work, ignore_errors=True)
    if junit is not None:
        write_junit(results, junit)
    failed = sum(not r.passed for r in results)
    click.echo(
        f"{len(results)} scenario(s): {len(results) - failed} passed, {failed} failed "
        f"in {time.perf_counter() - began:.1f} s"
        + (f"; artifacts in {artifacts}" if failed else "")
    )
    if setup_error is not None:
        _fail(setup_error)
    if failed:
        raise SystemExit(1)
