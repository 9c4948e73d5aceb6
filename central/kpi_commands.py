"""``kiosk-central kpi``: the service KPIs (central/kpi.py) from a shell, as a table, JSON or CSV.

The rollups are brought up to date first (from the last transaction they counted), so the
figures are those of the moment, whether or not a server is running.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from central.store import CentralStore

OpenStore = Callable[[str | None], AbstractContextManager["CentralStore"]]

CSV_COLUMNS = (
    "visits", "chose", "completed", "done_in_one_visit", "median_visit_seconds", "rated",
    "rating_coverage", "satisfaction", "bad_ratings", "completion_with_fault",
    "completion_without_fault", "elder_share", "english_share",
)  # fmt: skip


def csv_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Every row and the total, one line each, ratios as fractions (0.8, not 80%)."""
    head = [result["by"] or "scope", *CSV_COLUMNS, *[f"rated_{s}" for s in range(5, 0, -1)]]
    lines = [head]
    for row in [*result["rows"], {"key": "total", **result["total"]}]:
        ratings = row["ratings"]
        lines.append([row["key"], *[row[c] for c in CSV_COLUMNS],
                      *[ratings[str(s)] for s in range(5, 0, -1)]])  # fmt: skip
    return lines


def register(cli: click.Group, db_option: Callable[[Any], Any], opened_store: OpenStore) -> None:
    day = click.DateTime(formats=["%Y-%m-%d"])

    @cli.command("kpi")
    @click.option("--group", metavar="G", help="One centre group only.")
    @click.option("--kiosk", "kiosk_id", metavar="ID", help="One terminal only.")
    @click.option("--service", metavar="CODE", help="One service only (its catalogue code).")
    @click.option("--since", type=day, metavar="YYYY-MM-DD", help="From this day (inclusive).")
    @click.option("--until", type=day, metavar="YYYY-MM-DD", help="To this day (inclusive).")
    @click.option(
        "--by", type=click.Choice(["service", "kiosk", "day", "group"]), help="One row per value."
    )
    @click.option("--json", "as_json", is_flag=True, help="One JSON object.")
    @click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output.")
    @db_option
    def kpi(
        group: str | None, kiosk_id: str | None, service: str | None,
        since: datetime | None, until: datetime | None, by: str | None,
        as_json: bool, as_csv: bool, db_url: str | None,
    ) -> None:  # fmt: skip
        """Service KPIs: visits, 一次办成率, time, 好差评 and 满意率, by service, kiosk or day.

        Definitions: README, "Service KPIs"."""
        from central.kpi import Filter, as_lines, catch_up, report

        if as_json and as_csv:
            raise click.UsageError("--json and --csv: choose one")
        if since and until and since > until:
            raise click.UsageError("--since is after --until")
        where = Filter(group, kiosk_id, service, since.date() if since else None,
                       until.date() if until else None)  # fmt: skip
        with opened_store(db_url) as store:
            catch_up(store)
            result = report(store, where, by)  # type: ignore[arg-type]
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        elif as_csv:
            csv.writer(sys.stdout, lineterminator="\n").writerows(csv_rows(result))
        else:
            for line in as_lines(result):
                click.echo(line)
