"""The service KPIs' rollups (central/kpi.py): counters by day, centre group, terminal and
service, kept up to date from the transactions by a worker that remembers how far it got, so an
operator's page or ``kiosk-central kpi`` adds up days, not millions of visit records.

Created by ``ensure_schema`` (central/tables.py imports this module there); the rollups fill from
the first transaction on their first run, so an existing platform gains them without a migration.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text

from central.tables import metadata

_KEY = ("day", "grp", "kiosk_id", "service")


def _key_columns() -> list[Column[str]]:
    return [
        Column("day", Text, primary_key=True),  # the terminal's local date of the record, ISO
        Column("grp", Text, primary_key=True),  # the terminal's group when rolled up, '' if none
        Column("kiosk_id", Text, primary_key=True),
        Column("service", Text, primary_key=True),  # the catalogue code, '' if none was chosen
    ]


def _count(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False, server_default="0")


kpi_visits = Table(
    "kpi_visits",
    metadata,
    *_key_columns(),
    _count("visits"),  # visit_metrics records
    _count("chose"),  # ... that chose a service
    _count("completed"),  # ... that chose one and got it done (一次办成)
    _count("faulted"),  # ... that chose one and met a device fault
    _count("faulted_completed"),  # ... and still got it done
    _count("elder"),  # visits in elder mode
    _count("english"),  # visits in English
    _count("rated_1"),  # 好差评 records by score: 非常不满意
    _count("rated_2"),  # 不满意
    _count("rated_3"),  # 基本满意
    _count("rated_4"),  # 满意
    _count("rated_5"),  # 非常满意
    Index("kpi_visits_kiosk_day", "kiosk_id", "day"),
)

# Time spent, as histograms (central/kpi.py BUCKETS), so a median over any period and any group
# comes from added-up counts. step '' is the whole visit.
kpi_times = Table(
    "kpi_times",
    metadata,
    *_key_columns(),
    Column("step", Text, primary_key=True),
    Column("bucket", BigInteger, primary_key=True),  # the bucket's lower bound, in deciseconds
    _count("n"),
)

# Where visits that chose a service were left unfinished: the state they ended in.
kpi_abandoned = Table(
    "kpi_abandoned",
    metadata,
    *_key_columns(),
    Column("step", Text, primary_key=True),
    _count("n"),
)

# How far the rollups got: the last transactions.id they counted.
kpi_progress = Table(
    "kpi_progress",
    metadata,
    Column("name", Text, primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)
