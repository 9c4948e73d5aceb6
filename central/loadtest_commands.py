"""``kiosk-central loadtest``: register a simulated fleet and drive a running platform with it
(central/loadtest.py), printing what the platform sustained."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.store import CentralStore

OpenStore = Callable[[str | None], AbstractContextManager["CentralStore"]]


def _interval(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[float, float]:
    low, sep, high = value.partition(":")
    try:
        bounds = (float(low), float(high))
    except ValueError:
        bounds = (-1.0, -1.0)
    if not sep or not 0 < bounds[0] <= bounds[1]:
        raise click.BadParameter("MIN:MAX seconds, 0 < MIN <= MAX (e.g. 30:60)")
    return bounds


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    @cli.command("loadtest")
    @click.option("--url", required=True, help="The running platform, http(s)://HOST:PORT.")
    @click.option(
        "--ca-file",
        type=click.Path(exists=True, dir_okay=False),
        metavar="FILE",
        help="Verify an https platform against this CA (else the system's store).",
    )
    @click.option(
        "--kiosks",
        type=click.IntRange(1, 99_999),
        default=5000,
        show_default=True,
        help="Terminals in the simulated fleet (loadtest-00001...).",
    )
    @click.option(
        "--tokens",
        "tokens_file",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Their tokens, a JSON object id -> token, instead of "
        "registering them with --db (written by --db ... --save-tokens FILE).",
    )
    @click.option(
        "--save-tokens",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="With --db: keep the tokens for a later --tokens run.",
    )
    @click.option(
        "--fleet-seconds",
        type=click.FloatRange(0),
        default=60.0,
        show_default=True,
        help="The realistic fleet's phase (0: skip): heartbeats and batches every "
        "30 to 60 s per terminal, a new connection each.",
    )
    @click.option(
        "--fleet-interval",
        default="30:60",
        show_default=True,
        metavar="MIN:MAX",
        callback=_interval,
        help="Fleet phase: seconds between one terminal's heartbeats, and between its batches.",
    )
    @click.option(
        "--saturation-seconds",
        type=click.FloatRange(0),
        default=20.0,
        show_default=True,
        help="The closed loop's phase (0: skip).",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(1, 4096),
        default=16,
        show_default=True,
        help="Closed loop: terminals sending at once, each on a keep-alive connection.",
    )
    @click.option(
        "--batch-items",
        type=click.IntRange(1, 10_000),
        default=100,
        show_default=True,
        help="Closed loop: transactions per batch.",
    )
    @click.option(
        "--heartbeats-per-batch",
        type=click.FloatRange(0),
        default=33.0,
        show_default=True,
        help="Closed loop: the mix (33 to 1 with 100 items: "
        "1,000 heartbeats beside 3,000 transactions).",
    )
    @click.option("--seed", type=int, default=2026, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per phase instead.")
    @db_option
    def loadtest(
        url: str, ca_file: str | None, kiosks: int, tokens_file: Path | None,
        save_tokens: Path | None, fleet_seconds: float, fleet_interval: tuple[float, float],
        saturation_seconds: float,
        concurrency: int, batch_items: int, heartbeats_per_batch: float, seed: int,
        as_json: bool, db_url: str | None,
    ) -> None:  # fmt: skip
        """Drive a running platform with a simulated fleet and print what it sustained.

        The fleet (group 'loadtest') is registered through --db (tokens of earlier runs are
        replaced) or read from --tokens. Only ever point it at a platform you run: it writes
        heartbeats and transactions for the simulated terminals.
        """
        from central.loadtest import (
            FleetPlan,
            LoadTestError,
            SaturationPlan,
            Terminal,
            fleet_ids,
            report,
            run,
        )

        if (tokens_file is None) == (db_url is None):
            raise click.UsageError("give the fleet's tokens with --tokens FILE, or --db URL")
        ids = fleet_ids(kiosks)
        if tokens_file is not None:
            try:
                held = json.loads(tokens_file.read_text())
                terminals = [Terminal(kiosk_id, str(held[kiosk_id])) for kiosk_id in ids]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise click.BadParameter(
                    f"{tokens_file}: not the tokens of {kiosks} kiosks ({exc})",
                    param_hint="--tokens",
                ) from None
        else:
            from central.loadtest import LOAD_GROUP

            with opened_store(db_url) as store:
                tokens = store.add_kiosks(ids, LOAD_GROUP)
            terminals = [Terminal(kiosk_id, tokens[kiosk_id]) for kiosk_id in ids]
            if save_tokens is not None:
                save_tokens.write_text(json.dumps(tokens))
                save_tokens.chmod(0o600)
        try:
            results = run(
                url, terminals, ca_file=ca_file, fleet_seconds=fleet_seconds,
                saturation_seconds=saturation_seconds,
                fleet=FleetPlan(heartbeat_every=fleet_interval, batch_every=fleet_interval),
                saturation=SaturationPlan(concurrency, batch_items, heartbeats_per_batch),
                seed=seed,
            )  # fmt: skip
        except LoadTestError as exc:
            from central.cli import CentralCliError

            raise CentralCliError(f"loadtest: {exc}") from None
        if as_json:
            for result in results:
                sys.stdout.write(json.dumps(result.summary()) + "\n")
        else:
            click.echo(report(results))
