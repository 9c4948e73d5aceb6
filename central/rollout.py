"""Configuration bundles published to groups of terminals, with a staged rollout, and what each
terminal reported back. The platform stores a bundle's bytes exactly as signed: it cannot
change a bundle, only choose who is offered it (terminals verify the signatures themselves).

Staged rollout: a terminal is in the first ``percent`` of a version's rollout when a hash of its
id and the version falls below that percentage; publishing the same version again with a higher
percentage widens it (100: everyone in the group). The hash is stable, so the same terminals go
first every time the percentage grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import desc, func, select

from central.store import CentralStore
from central.tables import config_bundles, config_reports, kiosks, utc_now


class RolloutError(Exception):
    """A publish cannot be done; the message says why."""


MAX_BUNDLE_BYTES = 1_048_576  # a catalogue with its texts is tens of kilobytes


def bundle_version(raw: bytes) -> int:
    """The version of a signed bundle's bytes, or RolloutError saying what is wrong with them.
    Only the shape is checked here: the platform holds no trust anchors, the terminals verify
    the signatures against theirs (and refuse a forged bundle, reporting why)."""
    from contracts.canonical import CanonicalError, strict_loads

    if len(raw) > MAX_BUNDLE_BYTES:
        raise RolloutError(f"not a bundle: {len(raw):,} bytes (at most {MAX_BUNDLE_BYTES:,})")
    try:
        document = strict_loads(raw)
        version = document["signed"]["version"]
        signatures = len(document["signatures"])
    except (CanonicalError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise RolloutError(f"not a bundle ({exc})") from None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RolloutError("not a bundle: its version must be a whole number from 1")
    if signatures == 0:
        raise RolloutError("the bundle carries no signature: sign it first (config sign)")
    return version


@dataclass(frozen=True)
class Offer:
    version: int
    raw: bytes

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'


def in_rollout(kiosk_id: str, version: int, percent: int) -> bool:
    digest = hashlib.sha256(f"{kiosk_id}:{version}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


class Rollouts:
    def __init__(self, store: CentralStore) -> None:
        self.store = store

    def publish(self, raw: bytes, version: int, group: str, percent: int) -> None:
        if not 1 <= percent <= 100:
            raise RolloutError("percent must be between 1 and 100")
        with self.store._write() as conn:
            found = conn.execute(
                select(config_bundles.c.raw, config_bundles.c.percent).where(
                    config_bundles.c.grp == group, config_bundles.c.version == version
                )
            ).first()
            if found is None:
                conn.execute(
                    config_bundles.insert().values(
                        grp=group, version=version, raw=raw, percent=percent,
                        published_at=utc_now(),
                    )
                )  # fmt: skip
                return
            if bytes(found.raw) != raw:
                raise RolloutError(
                    f"version {version} is already published to {group} with other content: "
                    "publish a new version"
                )
            if percent < found.percent:
                raise RolloutError(f"version {version} already reaches {found.percent}%")
            conn.execute(
                config_bundles.update()
                .where(config_bundles.c.grp == group, config_bundles.c.version == version)
                .values(percent=percent)
            )

    def halt(self, group: str, version: int) -> int:
        """Stop *version* reaching more of *group*: its percentage goes to 0, so no terminal
        that has not taken it is offered it (those that took it keep it; publish a newer version
        to move them). Publishing it again with a percentage resumes it. Returns the percentage
        it had."""
        with self.store._write() as conn:
            found = conn.execute(
                select(config_bundles.c.percent).where(
                    config_bundles.c.grp == group, config_bundles.c.version == version
                )
            ).scalar()
            if found is None:
                raise RolloutError(f"version {version} is not published to {group!r}")
            conn.execute(
                config_bundles.update()
                .where(config_bundles.c.grp == group, config_bundles.c.version == version)
                .values(percent=0)
            )
            return int(found)

    def advance(self, group: str, version: int, percent: int) -> None:
        """Widen (or resume) *version*'s rollout in *group* to *percent*."""
        with self.store._read() as conn:
            raw = conn.execute(
                select(config_bundles.c.raw).where(
                    config_bundles.c.grp == group, config_bundles.c.version == version
                )
            ).scalar()
        if raw is None:
            raise RolloutError(f"version {version} is not published to {group!r}")
        self.publish(bytes(raw), version, group, percent)

    def bundles(self) -> list[dict[str, Any]]:
        """Every published bundle: group, version, percentage (0: halted), when, and how many
        of the group's terminals report running it, and how many refused or rolled it back."""
        with self.store._read() as conn:
            published = conn.execute(
                select(config_bundles.c.grp, config_bundles.c.version, config_bundles.c.percent,
                       config_bundles.c.published_at)
                .order_by(config_bundles.c.grp, desc(config_bundles.c.version))
            ).all()  # fmt: skip
            reports = conn.execute(
                select(kiosks.c.grp, config_reports.c.version, config_reports.c.status,
                       config_reports.c.reported_version)
                .select_from(kiosks.join(config_reports, config_reports.c.kiosk_id == kiosks.c.id))
            ).all()  # fmt: skip
            sizes: dict[str | None, int] = dict(
                conn.execute(select(kiosks.c.grp, func.count()).group_by(kiosks.c.grp)).all()
            )
        out = []
        for row in published:
            mine = [r for r in reports if r.grp == row.grp]
            out.append({
                "group": row.grp, "version": int(row.version), "percent": int(row.percent),
                "published_at": row.published_at, "terminals": int(sizes.get(row.grp, 0)),
                "running": sum(r.version == row.version for r in mine),
                "refused": sum(r.reported_version == row.version
                               and r.status in ("rejected", "rolled_back") for r in mine),
            })  # fmt: skip
        return out

    def published_before(
        self, groups: Iterable[str], version: int
    ) -> tuple[int, str, bytes] | None:
        """(version, group, bytes) of the newest bundle published to any of *groups* (any
        group at all when none is named) below *version*: what a signer compares with."""
        query = (
            select(config_bundles.c.version, config_bundles.c.grp, config_bundles.c.raw)
            .where(config_bundles.c.version < version)
            .order_by(desc(config_bundles.c.version), config_bundles.c.grp)
            .limit(1)
        )
        wanted = list(groups)
        if wanted:
            query = query.where(config_bundles.c.grp.in_(wanted))
        with self.store._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else (int(row.version), str(row.grp), bytes(row.raw))

    def offer_for(self, kiosk_id: str) -> Offer | None:
        """The newest bundle of the kiosk's group that its place in the rollout reaches."""
        with self.store._read() as conn:
            group = conn.execute(select(kiosks.c.grp).where(kiosks.c.id == kiosk_id)).scalar()
            if group is None:
                return None
            rows = conn.execute(
                select(config_bundles.c.version, config_bundles.c.raw, config_bundles.c.percent)
                .where(config_bundles.c.grp == group)
                .order_by(desc(config_bundles.c.version))
            ).all()
        for row in rows:
            if in_rollout(kiosk_id, int(row.version), int(row.percent)):
                return Offer(int(row.version), bytes(row.raw))
        return None

    def report(
        self, kiosk_id: str, *, running: int | None, about: int | None, status: str, reason: str
    ) -> None:
        values: dict[str, Any] = {
            "version": running,
            "status": status,
            "reported_version": about,
            "reason": reason or None,
            "reported_at": utc_now(),
        }
        upsert = (
            self.store._insert(config_reports)
            .values(kiosk_id=kiosk_id, **values)
            .on_conflict_do_update(index_elements=["kiosk_id"], set_=values)
        )
        with self.store._write() as conn:
            conn.execute(upsert)

    def status(self, group: str | None = None) -> list[dict[str, Any]]:
        """Per kiosk (of *group*, or all): its group, the version it runs, when it reported,
        and the last rejection with its reason."""
        query = select(
            kiosks.c.id, kiosks.c.grp, config_reports.c.version, config_reports.c.status,
            config_reports.c.reported_version, config_reports.c.reason,
            config_reports.c.reported_at,
        ).select_from(
            kiosks.outerjoin(config_reports, config_reports.c.kiosk_id == kiosks.c.id)
        ).order_by(kiosks.c.id)  # fmt: skip
        if group is not None:
            query = query.where(kiosks.c.grp == group)
        with self.store._read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
