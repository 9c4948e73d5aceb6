"""Queue calling: how far each queue of tickets has moved today, per centre.

Terminals issue tickets themselves, offline if need be (A007: the 7th ticket of kind A today,
from a daily counter on the terminal), so only the centre's calling side knows which number is
being served. It tells the platform (``POST /v1/queue/{prefix}/call``, ``PUT /v1/queue/{prefix}``
or ``kiosk-central queue call|set``), and a terminal asks how many wait ahead of a ticket
(``POST /v1/kiosks/{id}/queue/ahead``).

A centre is a kiosk group: the terminals of one group and the calling systems registered for it
share its queues; terminals and calling systems without a group share the default centre. A day
is the platform's local date: a new day has no row yet, so yesterday's numbers never apply to
today's tickets.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select

from central.database import StoreError
from central.store import Access, CentralStore, token_digest
from central.tables import kiosks, queue_callers, queue_serving, utc_now
from contracts.wire import (
    MAX_TICKET_NUMBER,
    QUEUE_PREFIX_PATTERN,
    QueueAnswer,
    split_ticket,
    ticket_text,
)

DEFAULT_CENTRE = ""  # the centre of terminals and calling systems without a group
PREFIX_RULE = "1 to 3 of A-Z and 0-9, ending in a letter (A, B, 2C)"
# fullmatch on the bare pattern: Python's "$" would let "A\n" through.
_PREFIX = re.compile(QUEUE_PREFIX_PATTERN.removeprefix("^").removesuffix("$"))


class QueueError(StoreError):
    """The queue cannot move as asked; the message says why."""


class QueueSet(BaseModel):
    """The calling side sets the number now served (a correction may move it back; 0: none)."""

    model_config = ConfigDict(extra="forbid")
    serving: Annotated[StrictInt, Field(ge=0, le=MAX_TICKET_NUMBER)]


class QueueState(BaseModel):
    centre: str = Field(description="the kiosk group; empty for the default centre")
    prefix: str
    day: str = Field(description="the platform's local date, ISO")
    serving: int = Field(ge=0, description="the number called last; 0 before the first call")
    ticket: str | None = Field(description="the ticket now served, e.g. A008; null before")


class QueueBoard(BaseModel):
    day: str
    queues: list[QueueState] = Field(description="the prefixes called today, by centre and prefix")


def is_prefix(prefix: str) -> bool:
    return _PREFIX.fullmatch(prefix) is not None


def state(centre: str, prefix: str, day: date, serving: int) -> QueueState:
    ticket = ticket_text(prefix, serving) if serving else None
    return QueueState(
        centre=centre, prefix=prefix, day=day.isoformat(), serving=serving, ticket=ticket
    )


@dataclass(frozen=True)
class CallerAccess:
    access: Access
    centre: str = DEFAULT_CENTRE


class Queues:
    """The queues' numbers and the calling systems' tokens, in the platform's database."""

    def __init__(self, store: CentralStore) -> None:
        self.store = store

    # -- calling systems ----------------------------------------------------------------------

    def add_caller(self, caller_id: str, group: str | None = None, *, rotate: bool = False) -> str:
        """Register a calling system for *group*'s centre (or, with *rotate*, give it a new
        token) and return the token; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        with self.store._write() as conn:
            found = conn.execute(
                select(queue_callers.c.id).where(queue_callers.c.id == caller_id)
            ).first()
            if rotate:
                if found is None:
                    raise QueueError(f"no calling system {caller_id!r} to rotate the token of")
                # Like a kiosk's: a new token keeps the centre unless one is named.
                values: dict[str, str] = {"token_hash": token_digest(token)}
                if group is not None:
                    values["grp"] = group
                conn.execute(
                    queue_callers.update().where(queue_callers.c.id == caller_id).values(**values)
                )
            elif found is not None:
                raise QueueError(
                    f"calling system {caller_id!r} is already registered "
                    "(--rotate gives it a new token)"
                )
            else:
                conn.execute(
                    queue_callers.insert().values(
                        id=caller_id, token_hash=token_digest(token), grp=group,
                        created_at=utc_now(),
                    )
                )  # fmt: skip
        return token

    def authenticate_caller(self, token: str) -> CallerAccess:
        digest = token_digest(token)
        with self.store._read() as conn:
            # Found by its hash: there is no caller id in the request to look up first, and
            # the hash of a 256-bit random token gives nothing away by how fast it is found.
            row = conn.execute(
                select(queue_callers.c.grp).where(queue_callers.c.token_hash == digest)
            ).first()
            if row is not None:
                return CallerAccess(Access.GRANTED, row.grp or DEFAULT_CENTRE)
            terminal = conn.execute(select(kiosks.c.id).where(kiosks.c.token_hash == digest))
            # A terminal's token is real but not allowed to call: it only asks.
            if terminal.first() is not None:
                return CallerAccess(Access.FORBIDDEN)
        return CallerAccess(Access.UNAUTHENTICATED)

    def kiosk_centre(self, kiosk_id: str) -> str:
        with self.store._read() as conn:
            group = conn.execute(
                select(kiosks.c.grp).where(kiosks.c.id == kiosk_id)
            ).scalar_one_or_none()
        return group or DEFAULT_CENTRE

    # -- numbers ------------------------------------------------------------------------------

    def call(self, centre: str, prefix: str, day: date) -> QueueState:
        """Call the next number of *prefix* at *centre* today: serving + 1, in one statement,
        so two counters calling at once get two numbers."""
        now = utc_now()
        upsert = self.store._insert(queue_serving).values(
            grp=centre, day=day.isoformat(), prefix=prefix, serving=1, updated_at=now
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["grp", "day", "prefix"],
            set_={"serving": queue_serving.c.serving + 1, "updated_at": now},
            where=queue_serving.c.serving < MAX_TICKET_NUMBER,
        ).returning(queue_serving.c.serving)
        with self.store._write() as conn:
            serving = conn.execute(upsert).scalar_one_or_none()
        if serving is None:  # the WHERE held it back: no ticket has a higher number
            raise QueueError(f"{prefix} is at {MAX_TICKET_NUMBER}, the highest ticket number")
        return state(centre, prefix, day, int(serving))

    def set_serving(self, centre: str, prefix: str, day: date, serving: int) -> QueueState:
        if not 0 <= serving <= MAX_TICKET_NUMBER:
            raise QueueError(f"the number served is 0 to {MAX_TICKET_NUMBER}")
        now = utc_now()
        upsert = (
            self.store._insert(queue_serving)
            .values(grp=centre, day=day.isoformat(), prefix=prefix, serving=serving, updated_at=now)
            .on_conflict_do_update(
                index_elements=["grp", "day", "prefix"],
                set_={"serving": serving, "updated_at": now},
            )
        )
        with self.store._write() as conn:
            conn.execute(upsert)
        return state(centre, prefix, day, serving)

    def serving(self, centre: str, prefix: str, day: date) -> int:
        with self.store._read() as conn:
            found = conn.execute(
                select(queue_serving.c.serving).where(
                    queue_serving.c.grp == centre,
                    queue_serving.c.day == day.isoformat(),
                    queue_serving.c.prefix == prefix,
                )
            ).scalar_one_or_none()
        return int(found or 0)

    def board(self, day: date, centre: str | None = None) -> QueueBoard:
        """Today's queues of *centre*, or of every centre."""
        query = select(queue_serving.c.grp, queue_serving.c.prefix, queue_serving.c.serving).where(
            queue_serving.c.day == day.isoformat()
        )
        if centre is not None:
            query = query.where(queue_serving.c.grp == centre)
        with self.store._read() as conn:
            rows = conn.execute(query.order_by(queue_serving.c.grp, queue_serving.c.prefix)).all()
        return QueueBoard(
            day=day.isoformat(),
            queues=[state(row.grp, row.prefix, day, int(row.serving)) for row in rows],
        )

    def ahead(self, kiosk_id: str, ticket: str, day: date) -> QueueAnswer:
        """How many wait ahead of *ticket* (issued today by a terminal of *kiosk_id*'s centre):
        the tickets between the one served now and this one."""
        prefix, number = split_ticket(ticket)
        serving = self.serving(self.kiosk_centre(kiosk_id), prefix, day)
        return QueueAnswer(
            ticket=ticket,
            day=day.isoformat(),
            serving=serving,
            ahead=max(0, number - serving - 1),
            called=number <= serving,
        )
