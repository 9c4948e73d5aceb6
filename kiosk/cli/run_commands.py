"""``kiosk run | devices | gallery``: run the terminal, check its devices, preview its screens."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from kiosk.cli.common import CONFIG, DATA_DIR, cli, data_dir_from, settings_from
from kiosk.errors import KioskError


@cli.command()
@click.option(
    "--simulate", is_flag=True, help="Use simulated devices whatever the configuration says."
)
@click.option(
    "--windowed", is_flag=True, help="A normal window instead of full screen (development)."
)
@CONFIG
@DATA_DIR
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def run(
    simulate: bool, windowed: bool, config_file: Path | None, data_dir: Path | None, verbose: bool
) -> None:
    """Run the terminal (full screen; simulated devices when nothing is configured)."""
    # Settings are validated inside the app, after the first frame (see kiosk/app.py).
    from kiosk.app import run as run_app

    code = run_app(
        config_file,
        data_dir,
        simulate=simulate or config_file is None,
        windowed=windowed,
        verbose=verbose,
    )
    if code:
        raise SystemExit(code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per device.")
@click.option("--simulate", is_flag=True, help="Check the simulated devices instead.")
@click.option("--wait", default=3.0, show_default=True, help="Seconds to let devices settle.")
@click.option("--udev", is_flag=True, help="Print udev rules naming the devices attached now.")
@click.option("--sysfs", default="/sys", hidden=True, type=click.Path(path_type=Path))
@CONFIG
@DATA_DIR
def devices(
    as_json: bool,
    simulate: bool,
    wait: float,
    udev: bool,
    sysfs: Path,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Open each configured device briefly and report its state (--udev: print udev rules for
    the devices attached now instead)."""
    if udev:
        from kiosk.cli.udev_rules import udev_rules

        click.echo(udev_rules(sysfs), nl=False)
        return
    from drivers.base import DeviceState
    from drivers.manager import DeviceManager
    from drivers.registry import ConfigError

    settings = settings_from(config_file, data_dir)
    if simulate:
        settings = settings.simulated()
    try:
        manager = DeviceManager.from_config(settings.device_config(), data_dir_from(settings))
    except ConfigError as exc:
        raise KioskError(str(exc)) from exc
    manager.start()
    # Settled: past connecting, and either up or with a fault that says why not.
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(
        st.state is DeviceState.CONNECTING or (st.state is DeviceState.ABSENT and st.fault is None)
        for st in manager.statuses()
    ):
        time.sleep(0.05)
    statuses = manager.statuses()
    manager.stop()
    rows: list[dict[str, Any]] = [
        {
            "name": st.name,
            "kind": st.kind.value,
            "driver": st.driver,
            "state": st.state.value,
            "fault": None
            if st.fault is None
            else {
                "code": st.fault.code,
                "message_key": st.fault.message_key,
                "detail": st.fault.detail,
            },
        }
        for st in statuses
    ]
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
    else:
        for r in rows:
            fault = f"  ({r['fault']['code']}: {r['fault']['detail']})" if r["fault"] else ""
            click.echo(f"{r['name']:<18} {r['driver']:<14} {r['state']}{fault}")


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write every screen as PNG here.")  # fmt: skip
@click.option("--audit", is_flag=True,
              help="Run the layout audit on every screen; exit 1 if anything is cut.")  # fmt: skip
@click.option("--bundle", "bundle_file", type=click.Path(dir_okay=False, path_type=Path),
              help="With --audit: this signed bundle's configuration (not verified).")  # fmt: skip
@CONFIG
def gallery(
    out_dir: Path | None, audit: bool, bundle_file: Path | None, config_file: Path | None
) -> None:
    """Render every screen in every theme and language to PNG (offscreen), to preview a
    configuration: <screen>.<theme>.<language>.png. With --audit, check them instead."""
    settings = settings_from(config_file, None)
    if audit:
        from kiosk.gallery import audit_command

        problems = audit_command(settings, bundle_file)
        for line in problems:
            click.echo(line)
        if problems:
            raise SystemExit(1)
        click.echo("every screen fits, in every theme and language")
        return
    if out_dir is None:
        raise click.UsageError("give --out DIR for pictures, or --audit")
    from kiosk.gallery import render_gallery

    written = render_gallery(settings, out_dir)
    click.echo(f"{len(written)} screens written to {out_dir}")
