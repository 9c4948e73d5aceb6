"""The service KPIs' rollups (central/kpi.py): counters by day, centre group, terminal and
service, kept up to date from the transactions by a worker that remembers how far it got, so an
operator's page or ``kiosk-central kpi`` adds up days, not millions of visit records.

Created by ``ensure_schema`` (central/tables.py imports this module there); the rollups fill from
the first transaction on their first run, so an existing platform gains them without a migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Connection, Index, Table, Text, func, select

from central.tables import metadata

KEYS = ("day", "grp", "kiosk_id", "service")  # a record's place, finest first


def _key_columns(keys: tuple[str, ...]) -> list[Column[str]]:
    # day: the terminal's local date of the record, ISO; grp: the terminal's group when rolled
    # up ('' if none); service: the catalogue code ('' if none)
    return [Column(k, Text, primary_key=True) for k in keys]


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


@dataclass(frozen=True)
class Rollup:
    """One rollup table: the same counts kept at one grain (*keys*, a subset of KEYS). A query
    reads the smallest rollup of its kind whose keys cover its filters and its rows: a fleet of
    thousands over a month then adds up thousands of rows, not hundreds of thousands."""

    table: Table
    keys: tuple[str, ...]
    whole_visit_only: bool = False  # times: the whole visit's (step ''), not each step's


def _visits(name: str, keys: tuple[str, ...]) -> Rollup:
    return Rollup(Table(name, metadata, *_key_columns(keys), *[_count(c) for c in COUNTS]), keys)


# Time spent, as histograms (central/kpi.py buckets), so a median over any period and any group
# comes from added-up counts. step '' is the whole visit.
def _times(name: str, keys: tuple[str, ...], whole_visit_only: bool = False) -> Rollup:
    table = Table(
        name, metadata, *_key_columns(keys),
        Column("step", Text, primary_key=True),
        Column("bucket", BigInteger, primary_key=True),  # the bucket's lower bound, deciseconds
        _count("n"),
    )  # fmt: skip
    return Rollup(table, keys, whole_visit_only)


# Where visits that chose a service were left unfinished: the state they ended in.
def _abandoned(name: str, keys: tuple[str, ...]) -> Rollup:
    table = Table(
        name, metadata, *_key_columns(keys),
        Column("step", Text, primary_key=True),
        _count("n"),
    )  # fmt: skip
    return Rollup(table, keys)


# Smallest first (a month of 2,000 terminals in 20 groups, 9 services: rows read).
VISITS = (
    _visits("kpi_visits_group", ("day", "grp", "service")),  # ~5 thousand
    _visits("kpi_visits_terminal", ("day", "grp", "kiosk_id")),  # ~60 thousand
    _visits("kpi_visits", KEYS),  # ~500 thousand
)
TIMES = (
    _times("kpi_times_fleet", ("day", "service")),
    _times("kpi_times_group_all", ("day", "grp")),
    _times("kpi_times_group", ("day", "grp", "service")),
    # Per terminal, the whole visit's time only: per-step times per terminal per day would be
    # most of the rollups' rows, and a step's time is a matter of the service, not the terminal.
    _times("kpi_times_kiosk", KEYS, whole_visit_only=True),
)
ABANDONED = (
    _abandoned("kpi_abandoned_group", ("day", "grp", "service")),
    _abandoned("kpi_abandoned_kiosk", KEYS),
)
kpi_visits = VISITS[2].table
kpi_visits_group = VISITS[0].table
Index("kpi_visits_kiosk_day", kpi_visits.c.kiosk_id, kpi_visits.c.day)
Index("kpi_visits_terminal_kiosk_day", VISITS[1].table.c.kiosk_id, VISITS[1].table.c.day)
Index("kpi_times_kiosk_kiosk_day", TIMES[3].table.c.kiosk_id, TIMES[3].table.c.day)
Index("kpi_abandoned_kiosk_kiosk_day", ABANDONED[1].table.c.kiosk_id, ABANDONED[1].table.c.day)


def smallest(rollups: tuple[Rollup, ...], needed: set[str]) -> Rollup:
    """The first (smallest) rollup whose keys hold every key in *needed*."""
    for rollup in rollups:
        if needed <= set(rollup.keys):
            return rollup
    raise ValueError(f"no rollup keeps {sorted(needed)}")  # the finest keeps all of KEYS


# How far the rollups got: the last transactions.id they counted.
kpi_progress = Table(
    "kpi_progress",
    metadata,
    Column("name", Text, primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)


def fill_from_finer(conn: Connection) -> None:
    """Schema 9: the rollups that came with it (kpi_visits_terminal, kpi_times_group_all,
    kpi_times_fleet) added up from the finer ones a platform already keeps, so its history
    shows in them at once (the roll-up itself only counts records it has not read). The
    roll-up's progress row is locked meanwhile, so no round counts records half into the old
    rollups and half into these. Servers of an older version must be stopped first (the
    packages stop the service before an upgrade): they would go on writing the old rollups
    only."""
    visits_terminal, times_group_all, times_fleet = (
        metadata.tables[name]
        for name in ("kpi_visits_terminal", "kpi_times_group_all", "kpi_times_fleet")
    )  # named, not by position: a released migration step must never change meaning
    finer_visits, finer_times = metadata.tables["kpi_visits"], metadata.tables["kpi_times_group"]
    progress = select(kpi_progress.c.last_id).where(kpi_progress.c.name == "kpi")
    if conn.dialect.name == "postgresql":
        progress = progress.with_for_update()
    conn.execute(progress).first()
    for coarse, fine in (
        (visits_terminal, finer_visits),
        (times_group_all, finer_times),
        (times_fleet, finer_times),
    ):
        keys = [c.name for c in coarse.primary_key.columns]
        sums = [c.name for c in coarse.columns if c.name not in keys]
        conn.execute(coarse.delete())
        conn.execute(
            coarse.insert().from_select(
                keys + sums,
                select(*[fine.c[k] for k in keys], *[func.sum(fine.c[n]) for n in sums])
                .group_by(*[fine.c[k] for k in keys]),
            )
        )  # fmt: skip
