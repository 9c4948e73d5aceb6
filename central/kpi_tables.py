"""The service KPIs' rollups (central/kpi.py): counters by day, centre group, terminal and
service, kept up to date from the transactions by a worker that remembers how far it got, so an
operator's page or ``kiosk-central kpi`` adds up days, not millions of visit records.

Created by ``ensure_schema`` (central/tables.py imports this module there); the rollups fill from
the first transaction on their first run, so an existing platform gains them without a migration.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text

from central.tables import metadata


def _key_columns(with_kiosk: bool) -> list[Column[str]]:
    columns = [
        Column("day", Text, primary_key=True),  # the terminal's local date of the record, ISO
        Column("grp", Text, primary_key=True),  # the terminal's group when rolled up, '' if none
    ]
    if with_kiosk:
        columns.append(Column("kiosk_id", Text, primary_key=True))
    columns.append(Column("service", Text, primary_key=True))  # catalogue code, '' if none
    return columns


def _count(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False, server_default="0")


COUNTS = (
    "visits",  # visit_metrics records
    "chose",  # ... that chose a service
    "completed",  # ... that chose one and got it done (一次办成)
    "faulted",  # ... that chose one and met a device fault
    "faulted_completed",  # ... and still got it done
    "elder",  # visits in elder mode
    "english",  # visits in English
    "rated_1", "rated_2", "rated_3", "rated_4", "rated_5",  # 好差评 records by score
)  # fmt: skip


# Each rollup is kept twice: per terminal (for one terminal's figures, or one row per terminal)
# and per group (everything else: a fleet of thousands over a month adds up a few thousand
# rows instead of hundreds of thousands).
def _visits(name: str, with_kiosk: bool) -> Table:
    return Table(name, metadata, *_key_columns(with_kiosk), *[_count(c) for c in COUNTS])


kpi_visits = _visits("kpi_visits", True)
Index("kpi_visits_kiosk_day", kpi_visits.c.kiosk_id, kpi_visits.c.day)
kpi_visits_group = _visits("kpi_visits_group", False)


# Time spent, as histograms (central/kpi.py buckets), so a median over any period and any group
# comes from added-up counts. step '' is the whole visit.
def _times(name: str, with_kiosk: bool) -> Table:
    return Table(
        name, metadata, *_key_columns(with_kiosk),
        Column("step", Text, primary_key=True),
        Column("bucket", BigInteger, primary_key=True),  # the bucket's lower bound, deciseconds
        _count("n"),
    )  # fmt: skip


kpi_times_kiosk = _times("kpi_times_kiosk", True)
Index("kpi_times_kiosk_kiosk_day", kpi_times_kiosk.c.kiosk_id, kpi_times_kiosk.c.day)
kpi_times_group = _times("kpi_times_group", False)
# ... and for the whole fleet, by service and day: a month is tens of thousands of rows, where
# per group it is hundreds of thousands (the console's KPI page reads this one).
kpi_times_fleet = Table(
    "kpi_times_fleet", metadata,
    Column("day", Text, primary_key=True),
    Column("service", Text, primary_key=True),
    Column("step", Text, primary_key=True),
    Column("bucket", BigInteger, primary_key=True),
    _count("n"),
)  # fmt: skip


# Where visits that chose a service were left unfinished: the state they ended in.
def _abandoned(name: str, with_kiosk: bool) -> Table:
    return Table(
        name, metadata, *_key_columns(with_kiosk),
        Column("step", Text, primary_key=True),
        _count("n"),
    )  # fmt: skip


kpi_abandoned_kiosk = _abandoned("kpi_abandoned_kiosk", True)
Index("kpi_abandoned_kiosk_kiosk_day", kpi_abandoned_kiosk.c.kiosk_id, kpi_abandoned_kiosk.c.day)
kpi_abandoned_group = _abandoned("kpi_abandoned_group", False)

# How far the rollups got: the last transactions.id they counted.
kpi_progress = Table(
    "kpi_progress",
    metadata,
    Column("name", Text, primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)
